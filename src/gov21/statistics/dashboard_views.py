"""The decision makers' dashboards and forecasts as public pages at /statistics/ (decision 0072):
each chart drawn on the server, beside its data as a table and a CSV download; no script needed.
The back office shows the same dashboards (``office``)."""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gov21.core.geography import parish_name
from gov21.statistics import charts, dashboards, forecasting
from gov21.statistics.dashboards import Completeness
from gov21.statistics.models import Forecast

EARLIEST_YEAR = 1900


def _year(request: HttpRequest) -> int | None:
    """The ``year`` asked for (this year when none), or None when it is not a year."""
    raw = request.GET.get("year", "").strip()
    this = timezone.localdate().year
    if not raw:
        return this
    if not raw.isdigit() or not EARLIEST_YEAR <= int(raw) <= this:
        return None
    return int(raw)


def _bad_year(request: HttpRequest) -> HttpResponse:
    detail = _("The year must be a year from %(first)d to this one, written in digits, such as %(this)d.") % {
        "first": EARLIEST_YEAR,
        "this": timezone.localdate().year,
    }
    return render(request, "statistics/bad_request.html", {"detail": detail}, status=400)


def completeness_context(result: Completeness | None) -> dict[str, Any]:
    if result is None:
        return {"completeness": None}
    parishes = result.rows[:-1]
    return {
        "completeness": result,
        "completeness_year_str": str(result.year),
        "completeness_share": round(result.share_of_year * 100),
        "births_chart": charts.bars_svg(
            ident="completeness-births",
            title=_("Births registered as a share of those expected (per cent), by parish"),
            labels=[r.parish for r in parishes],
            values=[r.birth_completeness for r in parishes],
        ),
        "deaths_chart": charts.bars_svg(
            ident="completeness-deaths",
            title=_("Deaths registered as a share of those expected (per cent), by parish"),
            labels=[r.parish for r in parishes],
            values=[r.death_completeness for r in parishes],
        ),
        "timeliness_chart": charts.bars_svg(
            ident="completeness-timeliness",
            title=_("Births registered on time as a share of those registered (per cent), by parish"),
            labels=[r.parish for r in parishes],
            values=[r.on_time_share for r in parishes],
        ),
    }


@require_http_methods(["GET"])
def completeness(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    if year is None:
        return _bad_year(request)
    result = dashboards.completeness(year=year, today=timezone.localdate())
    context = {**completeness_context(result), "year": year, "years": range(timezone.localdate().year, year - 1, -1)}
    return render(request, "statistics/completeness.html", context)


def csv_response(name: str, header: list[str], rows: Sequence[Sequence[object]]) -> HttpResponse:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([["" if v is None else v for v in row] for row in rows])
    response = HttpResponse(out.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{name}.csv"'
    return response


@require_http_methods(["GET"])
def completeness_csv(request: HttpRequest) -> HttpResponse:
    year = _year(request)
    if year is None:
        return _bad_year(request)
    result = dashboards.completeness(year=year, today=timezone.localdate())
    header = [
        "parish",
        "population",
        "births_expected",
        "births_registered",
        "birth_completeness_pct",
        "deaths_expected",
        "deaths_registered",
        "death_completeness_pct",
        "births_on_time",
        "births_within_a_year",
        "on_time_pct",
        "within_a_year_pct",
    ]
    rows = [
        [
            r.parish,
            r.population,
            r.births_expected,
            r.births,
            r.birth_completeness,
            r.deaths_expected,
            r.deaths,
            r.death_completeness,
            r.births_on_time,
            r.births_within_year,
            r.on_time_share,
            r.within_year_share,
        ]
        for r in (result.rows if result else [])
    ]
    return csv_response(f"registration-completeness-{year}", header, rows)


def _band_rows(years: list[int], series: dict[str, list[float]]) -> list[tuple[int, int, int, int, int, int]]:
    return [
        (
            y,
            round(series["median"][i]),
            round(series["lo80"][i]),
            round(series["hi80"][i]),
            round(series["lo95"][i]),
            round(series["hi95"][i]),
        )
        for i, y in enumerate(years)
    ]


def _band_chart(ident: str, title: str, years: list[int], series: dict[str, list[float]]) -> object:
    return charts.band_svg(
        ident=ident,
        title=title,
        labels=[str(y) for y in years],
        median=series["median"],
        bands=[(series["lo95"], series["hi95"]), (series["lo80"], series["hi80"])],
        band_names=[_("95 per cent interval"), _("80 per cent interval")],
    )


def demand_titles() -> dict[str, str]:
    return {
        "school_entrants": _("School entrants a year (a fifth of the children aged 5–9)"),
        "child_benefit": _("Children aged 0–14 (child benefit)"),
        "old_age_pension": _("Persons aged 65 and over (old-age pension)"),
        "licence_renewals": _("Licence and identity card renewals a year (adults aged 20–74)"),
    }


def _pct(value: float | None) -> str:
    return "–" if value is None else f"{value:.1f}%"


def forecasts_context(run: Forecast | None) -> dict[str, Any]:
    if run is None:
        return {"forecast": None}
    result = run.result
    years: list[int] = result["years"]
    back = result["backtest"]
    titles = demand_titles()
    demand = [
        {
            "name": name,
            "title": titles[name],
            "chart": _band_chart(f"demand-{name}", titles[name], years, series),
            "rows": _band_rows(years, series),
            "mape": [_pct(v) for v in back["demand_mape"].get(name, [])],
        }
        for name, series in result["demand"].items()
    ]
    last = len(years) - 1
    parishes = [
        (code, parish_name(code), *_band_rows(years, series)[last][1:4], round(series["median"][0]))
        for code, series in result["parishes"].items()
    ]
    return {
        "forecast": run,
        "years": years,
        "last_year": years[last],
        "total_chart": _band_chart("projection-total", _("Projected population"), years, result["total"]),
        "total_rows": _band_rows(years, result["total"]),
        "parish_rows": parishes,
        "demand": demand,
        "rates": result["rates"],
        "backtest": back,
        "backtest_rows": [
            (y, round(a), round(p), _pct(m), _pct(pm))
            for y, a, p, m, pm in zip(
                back["years"],
                back["total_actual"],
                back["total_predicted"],
                back["total_mape"],
                back["parish_mape"],
                strict=True,
            )
        ],
        "coverage": None if back["parish_coverage80"] is None else round(100 * back["parish_coverage80"]),
    }


@require_http_methods(["GET"])
def forecasts(request: HttpRequest) -> HttpResponse:
    return render(request, "statistics/forecasts.html", forecasts_context(forecasting.forecast_latest()))


@require_http_methods(["GET"])
def forecasts_csv(request: HttpRequest) -> HttpResponse:
    run = forecasting.forecast_latest()
    rows: list[list[object]] = []
    if run is not None:
        result = run.result
        series_all: list[tuple[str, str, dict[str, list[float]]]] = [("population", "total", result["total"])]
        series_all += [("population", code, s) for code, s in result["parishes"].items()]
        series_all += [(name, "total", s) for name, s in result["demand"].items()]
        for measure, area, series in series_all:
            for y, *values in _band_rows(result["years"], series):
                rows.append([measure, area, y, *values])
    header = ["measure", "parish", "year", "median", "lo80", "hi80", "lo95", "hi95"]
    return csv_response(f"projection-{run.base_year if run else 'none'}", header, rows)
