"""The versioned public API (``/api/v1/``). Apps contribute routers; errors become problem+json here
and nowhere else."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.renderers import BaseRenderer

from gov21.assets.api import router as disasters_router
from gov21.core.errors import DomainError
from gov21.core.http import problem, problem_from_error
from gov21.exchange.api import CitizenSession
from gov21.exchange.api import router as exchange_router
from gov21.identity.contracts import PrincipalAuth, portal_person_uin
from gov21.readiness.api import router as readiness_router
from gov21.registry.api import router as registry_router

logger = logging.getLogger("gov21.api")


class FastJSONRenderer(BaseRenderer):
    """JSON with orjson: the same output for our types, several times faster than the standard encoder."""

    media_type = "application/json"

    def render(self, request: HttpRequest, data: Any, *, response_status: int) -> bytes:
        return orjson.dumps(data, default=str)


api = NinjaAPI(
    renderer=FastJSONRenderer(),
    title="gov21 API",
    version="1",
    description=(
        "Public, versioned API of gov21. Errors are RFC 9457 problem details "
        "(application/problem+json) with a stable `code` and, for bad input, the offending `field`."
    ),
    urls_namespace="api-v1",
)
api.add_router("/registry/", registry_router)
# Published figures about countries: public, no token.
api.add_router("/readiness/", readiness_router)
# Disaster response: staff sessions and API tokens whose role gives disaster.read.
api.add_router("/disasters/", disasters_router, auth=PrincipalAuth())
# The data tracker is for the person signed in to the portal; identity says who that is.
api.add_router("/exchange/", exchange_router, auth=CitizenSession(uin_of=portal_person_uin))


def _field_from_loc(loc: list[Any] | tuple[Any, ...]) -> str:
    # Ninja reports locations such as ("body", "payload", "child", "given_names"); the
    # request part and the wrapper argument name are noise for the caller.
    parts = [str(p) for p in loc]
    if parts and parts[0] in {"body", "query", "path", "header", "cookie", "form"}:
        parts = parts[1:]
    if len(parts) > 1 and parts[0] in {"payload", "data", "filters", "body"}:
        parts = parts[1:]
    return ".".join(parts)


@api.exception_handler(DomainError)
def _domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
    return problem_from_error(request, exc)


@api.exception_handler(NinjaValidationError)
def _validation_error(request: HttpRequest, exc: NinjaValidationError) -> HttpResponse:
    errors = [
        {"field": _field_from_loc(e.get("loc", ())), "detail": str(e.get("msg", "Invalid value."))} for e in exc.errors
    ]
    first: dict[str, str] = errors[0] if errors else {"field": "", "detail": "The request is not valid."}
    return problem(
        status=422,
        code="invalid_input",
        title="Invalid input",
        detail=f"{first['field']}: {first['detail']}" if first["field"] else str(first["detail"]),
        field=first["field"] or None,
        instance=request.path,
        extra={"errors": errors},
    )


@api.exception_handler(DjangoValidationError)
def _django_validation_error(request: HttpRequest, exc: DjangoValidationError) -> HttpResponse:
    return problem(
        status=422, code="invalid_input", title="Invalid input", detail="; ".join(exc.messages), instance=request.path
    )


@api.exception_handler(AuthenticationError)
def _auth_error(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return problem(
        status=401,
        code="unauthenticated",
        title="Unauthenticated",
        detail="Sign in or present a valid API token (Authorization: Bearer ...).",
        instance=request.path,
    )


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return problem(
        status=404, code="not_found", title="Not found", detail=str(exc) or "Not found.", instance=request.path
    )


@api.exception_handler(HttpError)
def _http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
    if exc.status_code == 400:
        return problem(
            status=400,
            code="malformed_request",
            title="Malformed request",
            detail=f"{exc}: send a JSON object with Content-Type: application/json.",
            instance=request.path,
        )
    return problem(
        status=exc.status_code, code="http_error", title="Request failed", detail=str(exc), instance=request.path
    )


@api.exception_handler(Exception)
def _unexpected(request: HttpRequest, exc: Exception) -> HttpResponse:
    logger.exception("unexpected error on %s", request.path)
    return problem(
        status=500,
        code="internal_error",
        title="Internal error",
        detail="Something went wrong on our side; the request was not applied. Please try again.",
        instance=request.path,
    )
