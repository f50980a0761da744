"""The statistics office's back office at /office/statistics/: every table's last release, what its
protection cost, its version on the data portal, and the timeliness of birth registration by
parish. The figures are the protected ones, as published."""

from __future__ import annotations

from datetime import date, timedelta

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError, NotFound
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.statistics import charts, dashboard_views, dashboards, selectors
from gov21.statistics.disclosure import TOTAL
from gov21.statistics.tables import TIMELINESS


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow this in the statistics office.")
    return render(request, "statistics/refused.html", {"detail": detail}, status=403)


office_page = Office(
    home="statistics:home", home_label=gettext_lazy("Go to the statistics office"), refuse=_refused
).page


def _timeliness(year: int) -> tuple[list[tuple[str, int | None, int | None, str]], object | None]:
    """Per parish: births registered, of them on time (within 45 days), and the share on time."""
    try:
        view = selectors.release_latest(f"births-by-parish-timeliness-{year}")
    except NotFound:
        return [], None
    rows = []
    for parish in (*view.spec.dimensions[0].categories, TOTAL):
        total = view.value(parish, TOTAL)
        on_time = view.value(parish, TIMELINESS[0])
        share = f"{on_time / total:.0%}" if total and on_time is not None else "–"
        rows.append((parish, total, on_time, share))
    chart = charts.bars_svg(
        ident="timeliness",
        title=_("Births registered on time, by parish"),
        labels=[r[0] for r in rows[:-1]],
        values=[r[2] for r in rows[:-1]],
    )
    return rows, chart


@never_cache
@require_http_methods(["GET"])
@office_page("statistics.read")
def home(request: HttpRequest, principal: Principal) -> HttpResponse:
    year = timezone.localdate().year
    rows, chart = _timeliness(year)
    context = {
        **dashboard_views.completeness_context(dashboards.completeness(year=year, today=timezone.localdate())),
        "releases": selectors.releases_current(),
        "timeliness": rows,
        "timeliness_chart": chart,
        "year": year,
        "year_str": str(year),
    }
    return render(request, "statistics/office.html", context)


SERVICE_DAYS = 30


def _period(request: HttpRequest) -> tuple[date, date] | None:
    """The days asked for (``from``, ``to``; the last 30 days by default), or None when they are not
    dates in order within a year."""
    today = timezone.localdate()
    try:
        end = date.fromisoformat(request.GET.get("to") or today.isoformat())
        start = date.fromisoformat(request.GET.get("from") or (end - timedelta(days=SERVICE_DAYS - 1)).isoformat())
    except ValueError:
        return None
    if start > end or (end - start).days > 365:
        return None
    return start, end


def _bad_period(request: HttpRequest) -> HttpResponse:
    detail = _(
        "Give the first and last day as dates such as 2026-01-31, the first not after the last, a year apart at most."
    )
    return render(request, "statistics/bad_request.html", {"detail": detail}, status=400)


def _traffic(start: date, end: date) -> list[dashboards.TrafficRow] | None:
    try:
        return dashboards.exchange_traffic(start=start, end=end)
    except DomainError:
        return None


@never_cache
@require_http_methods(["GET"])
@office_page("statistics.read")
def services(request: HttpRequest, principal: Principal) -> HttpResponse:
    period = _period(request)
    if period is None:
        return _bad_period(request)
    start, end = period
    performance = dashboards.services_performance(start=start, end=end)
    traffic = _traffic(start, end)
    per_service = performance[:-1]
    by_client: dict[str, int] = {}
    for row in traffic or []:
        by_client[row.client] = by_client.get(row.client, 0) + row.messages
    context = {
        "start": start,
        "end": end,
        "performance": performance,
        "performance_chart": charts.bars_svg(
            ident="services-target",
            title=_("Applications decided within the target (per cent), by service"),
            labels=[r.service for r in per_service],
            values=[r.within_target_share for r in per_service],
        )
        if per_service
        else None,
        "traffic": traffic,
        "traffic_chart": charts.bars_svg(
            ident="traffic-client",
            title=_("Messages through the exchange, by the agency that asked"),
            labels=list(by_client),
            values=list(by_client.values()),
        )
        if by_client
        else None,
        "query": f"from={start.isoformat()}&to={end.isoformat()}",
    }
    return render(request, "statistics/services.html", context)


@never_cache
@require_http_methods(["GET"])
@office_page("statistics.read")
def services_csv(request: HttpRequest, principal: Principal) -> HttpResponse:
    period = _period(request)
    if period is None:
        return _bad_period(request)
    start, end = period
    header = [
        "service",
        "submitted",
        "decided",
        "approved",
        "decided_automatically",
        "median_hours",
        "target_hours",
        "within_target",
    ]
    rows = [
        [r.service, r.submitted, r.decided, r.approved, r.automatic, r.median_hours, r.target_hours, r.within_target]
        for r in dashboards.services_performance(start=start, end=end)
    ]
    return dashboard_views.csv_response(f"services-{start}-{end}", header, rows)


@never_cache
@require_http_methods(["GET"])
@office_page("statistics.read")
def traffic_csv(request: HttpRequest, principal: Principal) -> HttpResponse:
    period = _period(request)
    if period is None:
        return _bad_period(request)
    start, end = period
    header = ["client", "service", "messages", "failed", "mean_ms"]
    rows = [[r.client, r.service, r.messages, r.failed, round(r.mean_ms, 1)] for r in _traffic(start, end) or []]
    return dashboard_views.csv_response(f"exchange-traffic-{start}-{end}", header, rows)
