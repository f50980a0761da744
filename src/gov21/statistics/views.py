"""The statistics office's public pages at /statistics/: its tables as published (after disclosure
control), each with a chart drawn on the server, its data as a table and a CSV download; the
population pyramid and the births of the year on the first page. No script needed."""

from __future__ import annotations

import csv
import io

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gov21.core.errors import NotFound
from gov21.statistics import charts, selectors
from gov21.statistics.disclosure import TOTAL
from gov21.statistics.selectors import ReleaseView
from gov21.statistics.tables import AGE_GROUPS, population_table


def _first_dimension_chart(view: ReleaseView, ident: str) -> object:
    """Bars of the first dimension, every other at its total (the margins the table publishes)."""
    first = view.spec.dimensions[0]
    rest = (TOTAL,) * (len(view.spec.dimensions) - 1)
    values = [view.value(c, *rest) for c in first.categories]
    labels = [c[-2:] if first.name == "month" else c for c in first.categories]
    return charts.bars_svg(ident=ident, title=view.spec.title, labels=labels, values=values)


def _births_by_month(view: ReleaseView) -> object:
    months = view.spec.dimensions[1].categories
    values = [view.value(TOTAL, m, TOTAL) for m in months]
    return charts.bars_svg(ident="births-month", title=view.spec.title, labels=[m[-2:] for m in months], values=values)


def pyramid(view: ReleaseView) -> object:
    women = [view.value(TOTAL, "F", g) for g in AGE_GROUPS]
    men = [view.value(TOTAL, "M", g) for g in AGE_GROUPS]
    return charts.pyramid_svg(
        ident="pyramid",
        title=_("Population by sex and age group"),
        groups=AGE_GROUPS,
        left=women,
        right=men,
        left_label=_("Women"),
        right_label=_("Men"),
    )


def _optional(dataset: str) -> ReleaseView | None:
    try:
        return selectors.release_latest(dataset)
    except NotFound:
        return None


@require_http_methods(["GET"])
def index(request: HttpRequest) -> HttpResponse:
    year = timezone.localdate().year
    population = _optional(population_table(year).dataset)
    births = _optional(f"births-by-parish-month-sex-{year}")
    context = {
        "releases": selectors.releases_current(),
        "population": population,
        "pyramid": pyramid(population) if population else None,
        "pyramid_rows": [(g, population.value(TOTAL, "F", g), population.value(TOTAL, "M", g)) for g in AGE_GROUPS]
        if population
        else [],
        "births": births,
        "births_chart": _births_by_month(births) if births else None,
        "births_rows": [(m, births.value(TOTAL, m, TOTAL)) for m in births.spec.dimensions[1].categories]
        if births
        else [],
    }
    return render(request, "statistics/index.html", context)


@require_http_methods(["GET"])
def table(request: HttpRequest, dataset: str) -> HttpResponse:
    try:
        view = selectors.release_latest(dataset)
    except NotFound:
        return render(request, "statistics/unknown.html", {"dataset": dataset}, status=404)
    context = {
        "view": view,
        "dimensions": view.spec.dimensions,
        "chart": _first_dimension_chart(view, "table-chart"),
        "chart_rows": [
            (c, view.value(c, *(TOTAL,) * (len(view.spec.dimensions) - 1))) for c in view.spec.dimensions[0].categories
        ],
    }
    return render(request, "statistics/table.html", context)


@require_http_methods(["GET"])
def table_csv(request: HttpRequest, dataset: str) -> HttpResponse:
    try:
        view = selectors.release_latest(dataset)
    except NotFound:
        return render(request, "statistics/unknown.html", {"dataset": dataset}, status=404)
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([d.name for d in view.spec.dimensions] + [view.spec.measure, "suppressed"])
    for names, value in view.rows:
        writer.writerow([*names, "" if value is None else value, "true" if value is None else "false"])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{view.spec.dataset}-v{view.release.version}.csv"'
    return response
