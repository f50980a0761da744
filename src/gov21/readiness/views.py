"""The public readiness report at /readiness/: a group's ranking by gov21's 21st Century Government
Index with its rank intervals, beside the UN EGDI; each country's pillar profile against the group's
median and best performer; the same as PDF. Published figures about countries: no sign-in."""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.readiness import charts, selectors
from gov21.readiness.forms import ReportForm
from gov21.readiness.live_views import live_context
from gov21.readiness.reference import groups

PILLAR_LABELS = {
    "citizen-centric": gettext_lazy("Citizen-centric"),
    "seamless": gettext_lazy("Seamless"),
    "resilient": gettext_lazy("Resilient"),
    "open": gettext_lazy("Open"),
    "participatory": gettext_lazy("Participatory"),
    "secure": gettext_lazy("Secure"),
    "inter-connected": gettext_lazy("Inter-connected"),
    "capable": gettext_lazy("Capable"),
}
FACTOR_LABELS = {
    "normalisation": gettext_lazy("Normalisation"),
    "weighting": gettext_lazy("Weighting"),
    "aggregation": gettext_lazy("Aggregation"),
    "imputation": gettext_lazy("Imputation of missing values"),
}


def pillar_label(code: str) -> str:
    return str(PILLAR_LABELS.get(code, code))


@dataclass(frozen=True)
class Report:
    year: int
    group_code: str
    group_name: str
    index: selectors.Ranking
    egdi: selectors.Ranking
    egdi_rank: dict[str, int | None]
    sensitivity: list[tuple[str, float, dict[str, float]]]

    @property
    def most_moving(self) -> str:
        return self.sensitivity[0][0] if self.sensitivity else ""


def report_build(*, year: int, group: str) -> Report:
    index = selectors.rankings(index="21cg", year=year, group_code=group)
    egdi = selectors.rankings(index="egdi", year=year, group_code=group)
    result = index.result
    assert result is not None
    sensitivity = sorted(
        ((str(FACTOR_LABELS[f]), v, result.shifts[f]) for f, v in result.sensitivity.items()), key=lambda r: -r[1]
    )
    return Report(
        year=year,
        group_code=group,
        group_name=index.group.name,
        index=index,
        egdi=egdi,
        egdi_rank={c.country_code: c.rank for c in egdi.countries},
        sensitivity=sensitivity,
    )


def intervals_svg(report: Report) -> str:
    rows = [
        charts.IntervalRow(c.country_name, c.rank or 0, c.rank_low or 0, c.rank_high or 0)
        for c in report.index.countries
    ]
    return charts.rank_intervals(
        rows,
        count=len(rows),
        title=_("Rank of each country by the 21st Century Government Index, with its 90%% interval, %(year)s")
        % {"year": report.year},
        axis=_("Rank (1 = best); the bar spans the ranks the country takes in nine draws out of ten"),
    )


@dataclass(frozen=True)
class Profile:
    pillar: str
    value: float
    median: float
    best: float
    best_country: str


def country_profile(report: Report, code: str) -> list[Profile]:
    countries = report.index.countries
    me = next((c for c in countries if c.country_code == code), None)
    if me is None or me.pillars is None:
        raise Http404(_("That country is not in this group."))
    out = []
    for pillar, value in me.pillars.items():
        values = {c.country_code: (c.pillars or {}).get(pillar, 0.0) for c in countries}
        best = max(values, key=lambda k: values[k])
        names = {c.country_code: c.country_name for c in countries}
        out.append(Profile(pillar_label(pillar), value, statistics.median(values.values()), values[best], names[best]))
    return out


def profile_svg(country_name: str, profile: list[Profile]) -> str:
    return charts.pillar_profile(
        [charts.ProfileRow(p.pillar, p.value, p.median, p.best) for p in profile],
        title=_("%(country)s's pillar scores against the group's median and best") % {"country": country_name},
        legend=(country_name, _("Group median"), _("Best in the group")),
    )


def _chosen(request: HttpRequest) -> tuple[ReportForm, list[int], dict[str, str]]:
    years = selectors.egdi_years()
    initial = {"year": years[-1] if years else None, "group": "caricom"}
    data = request.GET if "year" in request.GET or "group" in request.GET else None
    form = ReportForm(data, years=years, initial=initial)
    errors = form.first_errors() if form.is_bound and not form.is_valid() else {}
    return form, years, errors


def _selection(form: ReportForm, years: list[int]) -> tuple[int, str]:
    if form.is_bound and form.is_valid():
        return int(form.cleaned_data["year"]), str(form.cleaned_data["group"])
    return years[-1], "caricom"


@require_http_methods(["GET"])
def report(request: HttpRequest) -> HttpResponse:
    form, years, errors = _chosen(request)
    context: dict[str, Any] = {"form": form, "errors": errors, "years": years}
    context |= live_context()
    if years and not errors:
        year, group = _selection(form, years)
        built = report_build(year=year, group=group)
        context |= {
            "report": built,
            "chart": mark_safe(intervals_svg(built)),  # noqa: S308 - every text in it is escaped
            "rows": [(c, built.egdi_rank.get(c.country_code)) for c in built.index.countries],
            "pillars": [pillar_label(p) for p in (built.index.methodology.pillars if built.index.methodology else ())],
        }
    return render(request, "readiness/report.html", context, status=400 if errors else 200)


@require_http_methods(["GET"])
def country(request: HttpRequest, code: str) -> HttpResponse:
    form, years, errors = _chosen(request)
    if not years or errors:
        raise Http404(_("Choose a survey year and a group first."))
    year, group = _selection(form, years)
    built = report_build(year=year, group=group)
    profile = country_profile(built, code)
    me = next(c for c in built.index.countries if c.country_code == code)
    context = {
        "report": built,
        "me": me,
        "egdi": built.egdi_rank.get(code),
        "profile": profile,
        "chart": mark_safe(profile_svg(me.country_name, profile)),  # noqa: S308 - every text in it is escaped
        "groups": groups(),
    }
    return render(request, "readiness/country.html", context)


@require_http_methods(["GET"])
def report_pdf(request: HttpRequest) -> HttpResponse:
    from gov21.readiness.pdf import report_pdf_render

    form, years, errors = _chosen(request)
    if not years or errors:
        raise Http404(_("Choose a survey year and a group first."))
    year, group = _selection(form, years)
    try:
        built = report_build(year=year, group=group)
    except DomainError as error:
        raise Http404(error.detail) from error
    response = HttpResponse(report_pdf_render(built), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="readiness-{group}-{year}.pdf"'
    return response
