"""The statistics office's back office at /office/statistics/: every table's last release, what its
protection cost, its version on the data portal, and the timeliness of birth registration by
parish. The figures are the protected ones, as published."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import NotFound
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
