from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import include, path

from gov21.api import api
from gov21.continuity import views as continuity_views
from gov21.core.http import problem
from gov21.exchange import views as exchange_views
from gov21.onestop import definitions_office as services_definitions_office
from gov21.registry import views as registry_views


def _not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem(
            status=404, code="not_found", title="Not found", detail="No such endpoint.", instance=request.path
        )
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def _server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return problem(
            status=500,
            code="internal_error",
            title="Internal error",
            detail="Something went wrong on our side; the request was not applied.",
            instance=request.path,
        )
    from django.views.defaults import server_error

    return server_error(request)


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
    path("office/outbox/", include("gov21.portal.outbox_urls")),
    path("", include("gov21.identity.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("gov21.portal.urls")),
]
