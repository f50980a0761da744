"""Backpressure: how much work one process takes on at once, and what it answers past that.

A :class:`Gate` has a few slots and a short, bounded queue in front of them. Work that finds a free
slot goes ahead; work that finds the slots taken waits in the queue for at most the gate's wait;
work that finds the queue full, or waits out its wait, is refused at once with :class:`Busy`: a 503
with ``Retry-After``. Nothing about a refusal is remembered, so the process takes work again as soon
as slots free up: it recovers by itself when the surge ends.

Two gates stand in front of gov21's work: :data:`REQUESTS` (every page and API call of a web
process, kept by :class:`AdmissionMiddleware`, which lets requests that continue a sign-in or
send a form go first) and identity's password step. The web server gives
each process more threads than the request gate has slots and queue places, so a request over the
limit reaches the gate and is answered at once instead of waiting, unseen, in the server's own
queue (``gov21 up``; decision 0027).
"""

from __future__ import annotations

import errno
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Final

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.core.http import problem_from_error
from gov21.core.monitoring import refusal_count


class Busy(DomainError):
    """Refused for want of capacity, not for anything the caller did: try again after ``retry_after``."""

    def __init__(self, detail: str, *, retry_after: int) -> None:
        super().__init__(
            "busy", detail, status=503, title=str(_("Too busy right now")), extra={"retry_after": retry_after}
        )
        self.retry_after = retry_after


class Gate:
    """At most ``slots`` holders at once, at most ``queue`` more waiting, each for at most ``wait_s``.

    Work that continues something a person has already started (``continuing``: the next step of a
    sign-in, a form they hold) has a lane of its own: ``reserved`` more slots that only it may take,
    ``reserved_queue`` places of its own to wait in, and the first claim on any slot that frees up.
    In a surge the refusals then fall on people just arriving, who lose nothing by coming back,
    rather than on someone halfway through a sign-in whose codes run out while they wait
    (decision 0034). The lane is bounded like the rest: past it, continuing work is refused too."""

    def __init__(
        self,
        *,
        name: str,
        slots: int,
        queue: int,
        wait_s: float,
        retry_after: int,
        reserved: int = 0,
        reserved_queue: int = 0,
    ) -> None:
        self.name = name
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self.reserved = max(0, reserved)
        self.reserved_queue = max(0, reserved_queue)
        self.wait_s = max(0.0, wait_s)
        self.retry_after = max(1, retry_after)
        lock = threading.Lock()
        self._arriving = threading.Condition(lock)
        self._continuing = threading.Condition(lock)
        self._holding = 0
        self._waiting = 0
        self._waiting_continuing = 0

    @property
    def holding(self) -> int:
        return self._holding

    @property
    def waiting(self) -> int:
        return self._waiting + self._waiting_continuing

    def _free_for_arriving(self) -> bool:
        # Someone continuing who waits is served first, whatever the order of arrival.
        return self._holding < self.slots and self._waiting_continuing == 0

    def _free_for_continuing(self) -> bool:
        return self._holding < self.slots + self.reserved

    def enter(self, detail: Callable[[int], str], *, continuing: bool = False) -> None:
        """Take a slot, waiting in the queue if there is room; raise :class:`Busy` otherwise.
        ``detail`` words the refusal for the person, given the seconds to wait; ``continuing`` work
        uses its own lane (see the class)."""
        admitted = self._enter_continuing() if continuing else self._enter_arriving()
        if not admitted:
            refusal_count(self.name)
            raise Busy(detail(self.retry_after), retry_after=self.retry_after)

    def _enter_arriving(self) -> bool:
        with self._arriving:
            if self._free_for_arriving():
                self._holding += 1
                return True
            if self._waiting >= self.queue:
                return False
            self._waiting += 1
            try:
                admitted = self._arriving.wait_for(self._free_for_arriving, timeout=self.wait_s)
            finally:
                self._waiting -= 1
            if admitted:
                self._holding += 1
            return admitted

    def _enter_continuing(self) -> bool:
        with self._continuing:
            if self._free_for_continuing():
                self._holding += 1
                return True
            if self._waiting_continuing >= self.reserved_queue:
                return False
            self._waiting_continuing += 1
            try:
                admitted = self._continuing.wait_for(self._free_for_continuing, timeout=self.wait_s)
            finally:
                self._waiting_continuing -= 1
            if admitted:
                self._holding += 1
            if self._free_for_arriving():
                # Those arriving were held back while this one waited, and a wake-up meant for them
                # may have been spent on that: tell one the slot is theirs now.
                self._arriving.notify()
            return admitted

    def leave(self) -> None:
        with self._arriving:
            self._holding -= 1
            # Both are told; each checks whether the slot is theirs (continuing first, see above).
            self._continuing.notify()
            self._arriving.notify()

    @contextmanager
    def held(self, detail: Callable[[int], str], *, continuing: bool = False) -> Iterator[None]:
        self.enter(detail, continuing=continuing)
        try:
            yield
        finally:
            self.leave()


def _request_gate() -> Gate:
    return Gate(
        name="requests",
        slots=config.WEB_SLOTS.read(),
        queue=config.WEB_QUEUE.read(),
        wait_s=config.WEB_WAIT_MS.read() / 1000,
        retry_after=config.BUSY_RETRY_AFTER_SECONDS.read(),
        reserved=config.WEB_CONTINUING_SLOTS.read(),
        reserved_queue=config.WEB_CONTINUING_QUEUE.read(),
    )


# The pages and API calls this process works on at once.
REQUESTS: Final = _request_gate()


def _busy_detail(seconds: int) -> str:
    return gettext(
        "Many people are using this service right now. Nothing you sent was saved. Please try again in"
        " %(seconds)d seconds."
    ) % {"seconds": seconds}


def _in_language(request: HttpRequest, words: Callable[[int], str], seconds: int) -> str:
    # The refusal comes before the locale middleware: the person's language is found here.
    with translation.override(translation.get_language_from_request(request)):
        return words(seconds)


def busy_response(request: HttpRequest, busy: Busy) -> HttpResponse:
    """The answer to a refused request: a page for a person's browser, problem+json for a program;
    both say when to come back in ``Retry-After``. Built without the database or the session."""
    if "text/html" in request.headers.get("Accept", "") and not request.path.startswith(settings.GOV21_API_PREFIXES):
        body = render_to_string(
            "core/busy.html",
            {
                "error": busy,
                "LANGUAGE_CODE": translation.get_language(),
                "request": request,  # for the style block's nonce; no context processor runs
                "again": request.get_full_path() if request.method == "GET" else "",
            },
        )
        response = HttpResponse(body, status=busy.status, content_type="text/html; charset=utf-8")
    else:
        response = problem_from_error(request, busy)
    response["Retry-After"] = str(busy.retry_after)
    response["Cache-Control"] = "no-store"
    # Counted in the metrics (gov21_refused_total), not logged one error line each: a surge would
    # bury the log and cost the processor it lacks.
    response._has_been_logged = True  # type: ignore[attr-defined]
    return response


class AdmissionMiddleware:
    """Every request but the exempt ones (``settings.GOV21_ADMISSION_EXEMPT``) passes the request gate.
    Placed before the session and everything that reads the database, so a refusal costs almost nothing."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.exempt: tuple[str, ...] = tuple(settings.GOV21_ADMISSION_EXEMPT)
        self.continuing: tuple[str, ...] = tuple(settings.GOV21_ADMISSION_CONTINUING)

    def is_continuing(self, request: HttpRequest) -> bool:
        """Whether the request carries on something the person started: a form they hold (anything
        but a read), or a step of a sign-in (``settings.GOV21_ADMISSION_CONTINUING``). Decided from
        the request line alone, before the session is read, so that a refusal stays cheap."""
        return request.method not in ("GET", "HEAD", "OPTIONS") or request.path.startswith(self.continuing)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path.startswith(self.exempt):
            return self.get_response(request)
        gate = REQUESTS
        try:
            gate.enter(
                lambda seconds: _in_language(request, _busy_detail, seconds), continuing=self.is_continuing(request)
            )
        except Busy as busy:
            with translation.override(translation.get_language_from_request(request)):
                return busy_response(request, busy)
        try:
            return self.get_response(request)
        finally:
            gate.leave()


# Seconds an idle client connection stays open: longer than a person reads a page before the next.
KEEP_ALIVE_S: Final = 75


def gunicorn_capacity() -> list[str]:
    """gunicorn's flags for backpressure (decision 0027).

    Each worker has more threads than its request gate has slots and queue places, so a request past
    them reaches the gate and is answered 503 with Retry-After at once, and a sign-in finds a thread
    for the call it makes to the server's own token endpoint. A gthread worker stops accepting at
    ``--worker-connections``, and idle keep-alive connections count: too few, and new connections
    wait unanswered in the kernel's backlog while idle ones hold the places (measured: p95 2.4 s
    instead of 0.6 s in a surge). The backlog behind it is kept short for the same reason.

    An idle connection is kept for ``KEEP_ALIVE_S``, longer than a person pauses between two pages:
    with gunicorn's default of 2 s the server closed connections a browser was about to reuse, and a
    form sent on one at that moment failed with a reset (measured: the 7 failures of 100 citizens
    pausing 1-3 s were all forms sent as the server closed the connection).

    Each worker binds the port itself (``--reuse-port``, unless ``GOV21_WEB_REUSE_PORT`` is false)
    and the kernel hands each new connection to one of them by its addresses (decision 0082). With
    one shared socket the workers race to accept, and a worker already awake takes a whole burst: a
    client holding a few keep-alive connections (a GIS desktop, a proxy, an agency's system) then
    kept one worker busy and the others idle (measured: 388-401 box pages a second with one worker
    idle, against 647-677 with both working). The cost: connections still waiting in the accept queue
    of a worker that dies are reset rather than taken by another."""
    gated = config.WEB_SLOTS.read() + config.WEB_QUEUE.read()
    gated += config.WEB_CONTINUING_SLOTS.read() + config.WEB_CONTINUING_QUEUE.read()
    threads = max(config.WEB_THREADS.read(), gated + 1)
    return [
        *("--worker-class", "gthread", "--threads", str(threads)),
        *("--worker-connections", str(8 * threads), "--backlog", "64"),
        *("--keep-alive", str(KEEP_ALIVE_S)),
        *(("--reuse-port",) if config.WEB_REUSE_PORT.read() else ()),
    ]


def port_taken(host: str, port: int) -> bool:
    """Whether something already listens on ``host``:``port``. Asked before the web server starts:
    its workers each bind the port with SO_REUSEPORT (decision 0082), and a second server of the same
    user started there by mistake would otherwise join them and take a share of the connections
    rather than fail. A socket bound without that option conflicts with any listener."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # Connections of an earlier run waiting out TIME_WAIT do not count as a listener.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def web_environment(env: dict[str, str]) -> dict[str, str]:
    """The environment of the web server's workers: ``env`` with glibc's malloc arenas capped
    (decision 0049). A gthread worker runs dozens of threads, and glibc gives threads that allocate
    at once arenas of their own, up to eight per core; memory freed in one is seldom returned, so a
    worker's resident size climbs with every burst of concurrency. Capped, threads share arenas:
    the cost is some contention in malloc, which a worker holding the GIL barely feels. An
    operator's own ``MALLOC_ARENA_MAX`` is kept."""
    arenas = config.WEB_MALLOC_ARENAS.read()
    if arenas < 0:
        raise ValueError(f"{config.WEB_MALLOC_ARENAS.name} must be 0 or more, not {arenas}")
    if arenas == 0 or "MALLOC_ARENA_MAX" in env:
        return dict(env)
    return {**env, "MALLOC_ARENA_MAX": str(arenas)}
