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
        widths=(10, 38, 12, 16, 12, 12),
        numeric=frozenset({0, 2, 3, 4, 5}),
    )
    pillars = list(methodology.pillars)
    # At most four pillars to a table, so that each column is wide enough for its name.
    chunks = [pillars[k : k + 4] for k in range(0, len(pillars), 4)]
    profiles = [
        ReportTable(
            caption=_("Pillar scores (0 to 1)") + (f", {n}/{len(chunks)}" if len(chunks) > 1 else ""),
            headings=(_("Country"), *[pillar_label(p) for p in chunk]),
            rows=[(c.country_name, *[f"{(c.pillars or {}).get(p, 0.0):.2f}" for p in chunk]) for c in index.countries],
            # The names need room; the pillars share the rest.
            widths=(2.2, *[7.8 / 4] * len(chunk)),
            numeric=frozenset(range(1, len(chunk) + 1)),
        )
        for n, chunk in enumerate(chunks, start=1)
    ]
    sensitivity = ReportTable(
        caption=_("Share of the variance of ranks each choice explains"),
        headings=(_("Choice"), _("Share of rank variance")),
        rows=[(label, f"{share:.0%}") for label, share, _shifts in report.sensitivity],
        widths=(3, 1),
        numeric=frozenset({1}),
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
            ReportSection(_("Pillar profiles"), more_tables=profiles),
            ReportSection(_("Which choice moves ranks most"), table=sensitivity),
            ReportSection(_("Method"), paragraphs=[method, digest]),
        ],
    )
