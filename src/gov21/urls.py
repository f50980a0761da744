from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path
from django.utils.translation import gettext as _

from gov21.api import api
from gov21.continuity import views as continuity_views
from gov21.core.http import problem
from gov21.core.office import refusal_page
from gov21.exchange import views as exchange_views
from gov21.onestop import definitions_office as services_definitions_office
from gov21.registry import views as registry_views


def _not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    wants_json = request.path.startswith(("/geo/", "/stac/")) and "text/html" not in request.headers.get("Accept", "")
    if request.path.startswith("/api/") or wants_json:
        return problem(
            status=404, code="not_found", title="Not found", detail="No such endpoint.", instance=request.path
        )
    return render(request, "core/error.html", {"status": 404}, status=404)


def _forbidden(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem(status=403, code="forbidden", title="Forbidden", detail="Not allowed.", instance=request.path)
    # The exception's text is for the log, not for the person: it may name a permission.
    return refusal_page(request, _("Your account does not give you access to this page."))


def _server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem(
            status=500,
            code="internal_error",
            title="Internal error",
            detail="Something went wrong on our side; the request was not applied.",
            instance=request.path,
        )
    # A page of its own, not the site's base: it uses nothing of the context that could need the
    # database that may just have failed (the header's lazy links and user are never touched).
    return render(request, "core/server_error.html", status=500)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """A form sent after its page expired (or from another site): said so, with what to do, in the
    person's language; Django's own page is in English and speaks of "CSRF verification"."""
    if request.path.startswith("/api/"):
        return problem(
            status=403,
            code="csrf_failed",
            title="Forbidden",
            detail="The form expired or came from another site; reload and try again.",
            instance=request.path,
        )
    context = {
        "status": 403,
        "title": _("This form has expired"),
        "detail": _(
            "The page was open for a long time, or you signed in or out in another tab. Nothing was sent. "
            "Go back, reload the page and send the form again."
        ),
    }
    return render(request, "core/error.html", context, status=403)


handler403 = _forbidden
handler404 = _not_found
handler500 = _server_error

urlpatterns = [
    path("api/v1/", api.urls),
    path(".well-known/jwks.json", registry_views.jwks, name="jwks"),
    path("verify", registry_views.verify, name="verify"),
    path("exchange/conf", exchange_views.conf, name="exchange-conf"),
    path("exchange/anchor", exchange_views.anchor, name="exchange-anchor"),
    path("exchange/directory/join", exchange_views.join, name="exchange-join"),
    path("healthz", continuity_views.healthz, name="healthz"),
    path("readyz", continuity_views.readyz, name="readyz"),
    path("office/registry/", include("gov21.registry.urls")),
    path("office/identity/", include("gov21.identity.office_urls")),
    path("office/exchange/", include("gov21.exchange.office_urls")),
    path("office/services/", include("gov21.onestop.definitions_urls")),
    path("services/schema.json", services_definitions_office.schema, name="service-schema"),
    path("office/cases/", include("gov21.onestop.office_urls")),
    path("office/continuity/", include("gov21.continuity.urls")),
    path("office/land/", include("gov21.land.urls")),
    path("office/linkage/", include("gov21.linkage.urls")),
    path("office/assets/", include("gov21.assets.urls")),
    path("office/concerns/", include("gov21.concerns.office_urls")),
    path("office/disasters/", include("gov21.assets.disaster_urls")),
    path("office/statistics/", include("gov21.statistics.office_urls")),
    path("statistics/", include("gov21.statistics.urls")),
    path("office/outbox/", include("gov21.portal.outbox_urls")),
    path("office/participation/", include("gov21.participation.office_urls")),
    path("participation/", include("gov21.participation.urls")),
    path("open311/v2/", include("gov21.concerns.open311_urls")),
    path("", include("gov21.concerns.urls")),
    path("office/readiness/", include("gov21.readiness.office_urls")),
    path("geo/", include("gov21.geo.urls")),
    path("stac/", include("gov21.imagery.urls")),
    path("readiness/", include("gov21.readiness.urls")),
    path("", include("gov21.opendata.urls")),
    path("office/opendata/", include("gov21.opendata.office_urls")),
    path("", include("gov21.identity.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gov21.portal.urls")),
]
