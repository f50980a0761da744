"""The published keys of the provider's person assertions (see :mod:`gov21.identity.assertions`)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

from gov21.identity.assertions import assertion_jwks


@require_GET
@cache_control(public=True, max_age=300)
def assertion_keys(request: HttpRequest) -> JsonResponse:
    response = JsonResponse(assertion_jwks())
    response["Access-Control-Allow-Origin"] = "*"
    return response
