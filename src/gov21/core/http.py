"""The HTTP edge: RFC 9457 problem details for every error an API returns, who is asking (the
address of the client, believed from a proxy's headers only when that proxy is one we trust), and
the in-process transport by which this deployment calls its own application without a socket."""

from __future__ import annotations

import ipaddress
import json
import os
import queue
import threading
from collections.abc import Callable, Iterable
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout
from functools import lru_cache
from typing import Any

import httpx2
from django.conf import settings
from django.core.handlers.wsgi import WSGIHandler
from django.db import connections
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from gov21.core.errors import DomainError
from gov21.core.logs import REQUEST_ID_HEADER, request_id

PROBLEM_CONTENT_TYPE = "application/problem+json"
PROBLEM_TYPE_BASE = "https://gov21.example/problems/"


def language_accepted(header: str) -> str:
    """The first language of an ``Accept-Language`` header that the platform speaks, else its
    default: for answers made outside Django's request cycle (a route of the exchange)."""
    for part in header.split(","):
        tag = part.split(";", 1)[0].strip()
        if tag and tag != "*":
            try:
                return translation.get_supported_language_variant(tag)
            except LookupError:
                continue
    return str(settings.LANGUAGE_CODE)


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


_Jobs = queue.Queue[tuple[Future[httpx2.Response], httpx2.Request] | None]


class InProcessTransport(httpx2.BaseTransport):
    """Sends requests to this deployment's own Django application without a socket: the whole
    middleware stack and the real protocol bytes, as a client across the network would send them.

    A part of the platform that talks to another part as a client (the portal to the identity
    provider) would otherwise call its own server over HTTP while holding one of that server's
    threads, and wait behind the very requests it holds up. Here the call runs on a small pool of
    threads of its own, never in the caller's thread: Django's request signals would close or reset
    the caller's database connection, and the callee's transactions must be its own. The pool is
    bounded (``workers`` running, ``waiting`` queued): a call that finds it full fails at once with
    ``httpx2.PoolTimeout``, and one not answered within ``timeout`` seconds with ``httpx2.ReadTimeout``,
    so that under a surge the caller can answer "try again" instead of hanging.
    """

    def __init__(
        self,
        *,
        workers: int,
        waiting: int,
        timeout: float,
        app: Callable[..., Any] | None = None,
        name: str = "gov21-in-process",
    ) -> None:
        self.workers = max(1, workers)
        self.waiting = max(1, waiting)
        self.timeout = timeout
        self._app = app
        self._name = name
        self._lock = threading.Lock()
        self._jobs: _Jobs = queue.Queue(self.waiting)
        self._threads: list[threading.Thread] = []
        self._pid = 0

    def _started(self) -> _Jobs:
        with self._lock:
            if self._pid != os.getpid():
                # First use, or a process forked from one that had used it: its threads stayed behind.
                self._jobs = queue.Queue(self.waiting)
                self._threads = []
                self._pid = os.getpid()
            if self._app is None:
                self._app = WSGIHandler()
            while len(self._threads) < self.workers:
                thread = threading.Thread(
                    target=self._work,
                    args=(self._jobs, self._app),
                    name=f"{self._name}-{len(self._threads)}",
                    daemon=True,
                )
                thread.start()
                self._threads.append(thread)
            return self._jobs

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        request.read()
        if REQUEST_ID_HEADER not in request.headers and request_id.get() != "-":
            # One id in the logs of the page and of the call it made.
            request.headers[REQUEST_ID_HEADER] = request_id.get()
        future: Future[httpx2.Response] = Future()
        try:
            self._started().put_nowait((future, request))
        except queue.Full:
            raise httpx2.PoolTimeout("every in-process worker is busy and the queue is full", request=request) from None
        try:
            return future.result(timeout=self.timeout)
        except FutureTimeout:
            future.cancel()  # still queued: no worker will start it
            raise httpx2.ReadTimeout(f"no answer within {self.timeout:g} s", request=request) from None

    @staticmethod
    def _work(jobs: _Jobs, app: Callable[..., Any]) -> None:
        try:
            while (job := jobs.get()) is not None:
                future, request = job
                if not future.set_running_or_notify_cancel():
                    continue
                try:
                    # The Django handler sends request_started/finished here, in this thread: the
                    # database connections are this worker's, kept and closed by Django's rules as
                    # a server thread's are.
                    response = httpx2.WSGITransport(app=app, raise_app_exceptions=False).handle_request(request)
                    try:
                        response.read()
                    finally:
                        response.close()
                except BaseException as error:  # handed to the caller, who decides
                    future.set_exception(error)
                else:
                    future.set_result(response)
        finally:
            connections.close_all()

    def close(self) -> None:
        """Stops the workers once they finish what they hold; each closes its database connections."""
        with self._lock:
            threads, jobs, ours = self._threads, self._jobs, self._pid == os.getpid()
            self._threads, self._pid = [], 0
        if not ours:
            return
        for _ in threads:
            try:
                jobs.put(None, timeout=self.timeout)
            except queue.Full:
                break
        for thread in threads:
            thread.join(timeout=self.timeout)


def spreadsheet_safe(cell: object) -> object:
    """A cell of a table sent for download: a text a spreadsheet would run as a formula is written as
    text (OWASP's advice on CSV injection); any other cell as it is."""
    if isinstance(cell, str) and cell.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + cell
    return cell
