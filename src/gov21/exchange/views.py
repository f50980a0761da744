"""The directory's HTTP endpoints: the signed configuration nodes fetch (signed requests only), the
anchor a partner instance imports (public: it is what gets compared by phone), and the join
request of an invited node."""

from __future__ import annotations

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from gov21.core.errors import DomainError
from gov21.core.http import problem, problem_from_error
from gov21.exchange import directory
from gov21.exchange.services import node_join


@require_GET
def conf(request: HttpRequest) -> HttpResponse:
    """For gateway nodes only, each proving who it is with a request signed by its authentication
    key: the whole configuration to this instance's nodes, the shared part to a partner's."""
    try:
        token = directory.conf_for(authorization=request.headers.get("Authorization", ""))
    except DomainError as error:
        response = problem_from_error(request, error)
        if error.status == 401:
            response["WWW-Authenticate"] = directory.CONF_REQUEST_SCHEME
        return response
    response = HttpResponse(token, content_type="application/jose")
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def anchor(request: HttpRequest) -> HttpResponse:
    body = directory.anchor_export(directory_url=settings.BASE_URL)
    return HttpResponse(orjson.dumps(body), content_type="application/json")


@csrf_exempt
@require_POST
def join(request: HttpRequest) -> HttpResponse:
    """Only an invited node may ask (the invitation's one-time secret, for its code and owner);
    nothing is trusted until an administrator approves it."""
    try:
        body = orjson.loads(request.body)
        if not isinstance(body, dict):
            raise TypeError
        node = node_join(
            code=str(body["code"])[:64],
            secret=str(body.get("secret") or ""),
            owner=str(body["owner"]),
            address=str(body.get("address", "")),
            auth_public_key=str(body["auth_public_key"]),
            signing_keys={str(k): str(v) for k, v in dict(body.get("signing_keys") or {}).items()},
        )
    except DomainError as error:
        return problem_from_error(request, error)
    except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
        return problem(
            status=422,
            code="invalid_input",
            title="Invalid input",
            detail="Send code, secret, owner, address, auth_public_key and signing_keys as JSON.",
            instance=request.path,
        )
    return HttpResponse(
        orjson.dumps({"node": f"{node.instance}/{node.code}", "status": node.status}),
        status=202,
        content_type="application/json",
    )
