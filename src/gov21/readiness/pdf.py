"""The readiness report as PDF: the same figures, chart and tables as the page, through the kernel's
report layout."""

from __future__ import annotations

import re

from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.pdf import ReportSection, ReportTable, render_report_pdf
from gov21.readiness.views import Report, intervals_svg, pillar_label


def report_pdf_render(report: Report) -> bytes:
    index = report.index
    methodology = index.methodology
    assert methodology is not None
    # The page's message (templates write a percent sign as %%); formatting turns it back into one.
    interval = _("90%% rank interval") % {}
    ranking = ReportTable(
        caption=_("The ranking, best first"),
        headings=(_("Rank"), _("Country"), _("Score"), interval, _("Previous rank"), _("Rank by the UN EGDI")),
        rows=[
            (
                str(c.rank),
                c.country_name,
                f"{c.value:.3f}" if c.value is not None else "–",
                f"{c.rank_low}–{c.rank_high}",
                str(c.previous_rank or "–"),
                str(report.egdi_rank.get(c.country_code) or "–"),
            )
            for c in index.countries
        ],
    )
    pillars = list(methodology.pillars)
    profile = ReportTable(
        caption=_("Pillar scores (0 to 1)"),
        headings=(_("Country"), *[pillar_label(p) for p in pillars]),
        rows=[(c.country_name, *[f"{(c.pillars or {}).get(p, 0.0):.2f}" for p in pillars]) for c in index.countries],
    )
    sensitivity = ReportTable(
        caption=_("Share of the variance of ranks each choice explains"),
        headings=(_("Choice"), _("Share of rank variance")),
        rows=[(label, f"{share:.0%}") for label, share, _shifts in report.sensitivity],
    )
    method = _(
        "Methodology %(version)s: indicators from the UN E-Government Survey are normalised, averaged into "
        "pillars and weighted into the index; %(draws)s Monte Carlo draws (seed %(seed)s) vary the "
        "normalisation, the weights, the aggregation and the imputation of missing values."
    ) % {"version": methodology.version, "draws": methodology.draws, "seed": methodology.seed}
    digest = _("SHA-256 of the methodology file:") + " " + methodology.digest
    return render_report_pdf(
        title=_("Readiness for 21st Century Government"),
        subtitle=f"{report.group_name}, {report.year}",
        author=_("Office of Digital Government"),
        made_on=timezone.localdate(),
        sections=[
            # The page's chart; its title is the section's heading here (fpdf2 draws no <title>).
            ReportSection(
                _("Ranks and their uncertainty"),
                svg=re.sub(r"<title[^>]*>.*?</title>", "", intervals_svg(report)),
                table=ranking,
            ),
            ReportSection(_("Pillar profiles"), table=profile),
            ReportSection(_("Which choice moves ranks most"), table=sensitivity),
            ReportSection(_("Method"), paragraphs=[method, digest]),
        ],
    )
