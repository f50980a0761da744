"""The live indicators in the readiness back office (/office/readiness/indicators/): the latest
round beside the one before, with each indicator's definition, the rounds kept, and a button that
measures a round now (between the scheduled ones) for reviewers."""

from __future__ import annotations

from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.readiness.indicators import indicators_measure
from gov21.readiness.live_views import live_context
from gov21.readiness.models import IndicatorRound
from gov21.readiness.office import office_page


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("readiness.review")
def indicators(request: HttpRequest, principal: Principal) -> HttpResponse:
    failure = ""
    if request.method == "POST":
        try:
            indicators_measure()
        except DomainError as error:
            failure = error.detail
        else:
            return HttpResponseRedirect(reverse("readiness-office:indicators") + "?" + urlencode({"measured": 1}))
    context = live_context() | {
        "rounds": IndicatorRound.objects.order_by("-measured_at")[:20],
        "failure": failure,
        "measured": request.GET.get("measured") == "1",
    }
    return render(request, "readiness/office/indicators.html", context, status=502 if failure else 200)
