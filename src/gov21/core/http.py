"""The HTTP edge: RFC 9457 problem details for every error an API returns, and who is asking: the
address of the client, believed from a proxy's headers only when that proxy is one we trust."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Callable, Iterable
from functools import lru_cache
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


Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@lru_cache(maxsize=4)
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    networks: list[Network] = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError as exc:
            raise ValueError(f"GOV21_TRUSTED_PROXIES: {entry!r} is not an address or CIDR range") from exc
    return tuple(networks)


def trusted_proxies() -> tuple[Network, ...]:
    """The reverse proxies whose forwarding headers gov21 believes (``GOV21_TRUSTED_PROXIES``).

    The one reading of the setting: the client address below and the deployment's
    ``SECURE_PROXY_SSL_HEADER`` (believe ``X-Forwarded-Proto`` only from these) both use it."""
    return _networks(tuple(settings.GOV21_TRUSTED_PROXIES))


def _parse_address(value: str) -> Address | None:
    value = value.strip().strip('"')
    if value.startswith("["):  # "[2001:db8::1]:4711", as some proxies write IPv6 with a port
        value = value[1:].partition("]")[0]
    elif value.count(":") == 1:  # "192.0.2.1:4711"
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, networks: tuple[Network, ...]) -> bool:
    return any(address.version == network.version and address in network for network in networks)


def client_address(request: HttpRequest) -> str:
    """The address of the person (or program) making ``request``.

    The immediate peer, unless it is one of the trusted proxies: then ``X-Forwarded-For`` is read
    from the right, each proxy having appended the address it received from, and the first address
    that is not a trusted proxy is the client. Everything left of it was written by the client
    itself and proves nothing, so a forged header never changes who is counted or logged."""
    peer = _parse_address(str(request.META.get("REMOTE_ADDR", "")))
    if peer is None:
        return str(request.META.get("REMOTE_ADDR", ""))[:64]
    networks = trusted_proxies()
    if not networks or not _trusted(peer, networks):
        return str(peer)
    # Several X-Forwarded-For headers reach Django joined by commas, in the order they came.
    hops = [hop for hop in str(request.META.get("HTTP_X_FORWARDED_FOR", "")).split(",") if hop.strip()]
    nearest = peer
    for hop in reversed(hops):
        address = _parse_address(hop)
        if address is None:
            # A trusted proxy wrote something that is not an address: the client is unknown,
            # and the nearest proxy that forwarded it stands for it.
            return str(nearest)
        if not _trusted(address, networks):
            return str(address)
        nearest = address
    return str(nearest)


def gunicorn_forwarding() -> list[str]:
    """Gunicorn's own list of proxies whose ``X-Forwarded-Proto`` it believes (it sets the request's
    scheme before Django sees it, and by default believes anyone on loopback): the same trusted
    proxies as Django, and none when there are none."""
    return ["--forwarded-allow-ips", ",".join(str(network) for network in trusted_proxies())]


def address_in(address: str, networks: Iterable[str]) -> bool:
    """Whether an IP address lies in one of the CIDR networks; an unparsable address lies in none."""
    parsed = _parse_address(address)
    return parsed is not None and _trusted(parsed, _networks(tuple(networks)))


def from_trusted_proxy(request: HttpRequest) -> bool:
    """Whether the connection came from a reverse proxy named in ``GOV21_TRUSTED_PROXIES``."""
    peer = _parse_address(str(request.META.get("REMOTE_ADDR", "")))
    return peer is not None and _trusted(peer, trusted_proxies())


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
