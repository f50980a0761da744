"""The HTTP edge: RFC 9457 problem details for every error an API returns, and who is asking: the
address of the client, believed from a proxy's headers only when that proxy is one we trust."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from gov21.core.errors import DomainError

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gov21.example/problems/"


def problem(
    *,
    status: int,
    code: str,
    title: str,
    detail: str,
    field: str | None = None,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
) -> HttpResponse:
    body: dict[str, Any] = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if field is not None:
        body["field"] = field
    if instance is not None:
        body["instance"] = instance
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    response = HttpResponse(json.dumps(body, default=str), status=status, content_type=PROBLEM_CONTENT_TYPE)
    if status == 401:
        response["WWW-Authenticate"] = 'Bearer realm="gov21"'
    return response


def problem_from_error(request: HttpRequest | None, error: DomainError) -> HttpResponse:
    return problem(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        field=error.field,
        instance=request.path if request is not None else None,
        extra=error.extra,
    )


def address_in(address: str, networks: Iterable[str]) -> bool:
    """Whether an IP address lies in one of the CIDR networks; an unparsable address lies in none."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(network, strict=False) for network in networks)


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the connection came from a reverse proxy named in ``GOV21_TRUSTED_PROXIES``."""
    return address_in(str(request.META.get("REMOTE_ADDR", "")), settings.GOV21_TRUSTED_PROXIES)


def client_address(request: HttpRequest) -> str:
    """The client's IP address: the connection's, or behind trusted proxies the nearest address in
    X-Forwarded-For that is not one of them (anything further left was written by the client)."""
    remote = str(request.META.get("REMOTE_ADDR", ""))
    if not from_trusted_proxy(request):
        return remote
    hops = [hop.strip() for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
    for hop in reversed(hops):
        if not address_in(hop, settings.GOV21_TRUSTED_PROXIES):
            return hop
    return remote


class ForwardedProtoMiddleware:
    """Drops X-Forwarded-Proto from a request that did not come through a trusted proxy, before
    Django's SECURE_PROXY_SSL_HEADER reads it: otherwise anyone could claim their plain-http request
    was https, and get secure cookies, the https origin for passkeys and no redirect."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not from_trusted_proxy(request):
            request.META.pop("HTTP_X_FORWARDED_PROTO", None)
        return self.get_response(request)
