"""Locust users for ``bench/portal_load.py``: citizens who find the driving-licence renewal, sign in
through the OpenID Connect provider (password, then an authenticator-app code) and renew their
licence, as a browser without JavaScript does it; and the reference users who ask for ``/healthz``.

Not meant to be started by hand: ``portal_load.py`` prepares the citizens and passes, in the
environment:

- ``PORTAL_BENCH_CITIZENS``: a JSON file of citizens (UIN, password, TOTP secret, licence number,
  last TOTP step used). The last steps are written back when locust stops, so that the next run
  never offers a code twice (the provider refuses a code used before, as it should).
- ``PORTAL_BENCH_OUT``: where to write the measurements (JSON).
- ``PORTAL_BENCH_SECONDS``: the measurement window, which opens when every user has been started.
- ``PORTAL_BENCH_THINK``: ``min,max`` seconds a citizen pauses before each action of their own
  (reading a page, typing); redirects are followed at once, as a browser does.

- ``PORTAL_BENCH_SURGE``: optional ``surge_users,surge_seconds,after_users,after_seconds``: instead of
  a steady load, ``surge_users`` citizens (started at ``PORTAL_BENCH_SPAWN_RATE`` per second) for
  ``surge_seconds``, then ``after_users`` for ``after_seconds``; the moment the surge ends is written
  with the measurements, so that the recovery can be timed from it.

Every response is checked: its status (a redirect where the page redirects, 200 where a page is
shown) and what it must contain. Anything else, any 4xx or 5xx included, is a failure, and the
citizen's journey stops there, with one exception: a 503 that carries ``Retry-After`` is the
platform saying it is full, the answer it should give past capacity. It is counted apart as a
refusal (not in the latencies), and the citizen waits as asked (at most 30 s) and tries the same
action again, up to five times, as a person would.
"""

from __future__ import annotations

import base64
import hmac
import itertools
import json
import os
import random
import re
import struct
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import gevent
from locust import constant, events, task
from locust.contrib.fasthttp import FastHttpUser

SERVICE = "renew-driving-licence"
THINK = tuple(float(x) for x in os.environ.get("PORTAL_BENCH_THINK", "1,3").split(","))
WINDOW = float(os.environ.get("PORTAL_BENCH_SECONDS", "60"))
# Each citizen starts after a random pause of up to this many seconds, and measurement waits for
# it: otherwise every citizen would reach the sign-in at the same moment, run after run.
STAGGER = float(os.environ.get("PORTAL_BENCH_STAGGER", "0"))
CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
REFERENCE = re.compile(r"/apply/(A-[A-Z0-9]+)")

# --- citizens ---------------------------------------------------------------------------------------

_citizens: list[dict[str, Any]] = []
_turn = itertools.count()
# Citizens in the middle of a sign-in: in a surge one can last longer than it takes the users to go
# round the whole pool, and two users typing the same person's code would make one of them fail.
_in_use: set[str] = set()


def _load_citizens() -> None:
    path = os.environ.get("PORTAL_BENCH_CITIZENS")
    if path and not _citizens:
        with open(path, encoding="utf-8") as f:
            _citizens.extend(json.load(f))


_load_citizens()


def _totp(secret: str, step: int) -> str:
    """RFC 6238 as an authenticator app computes it (SHA-1, six digits, 30-second steps)."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    mac = hmac.new(key, struct.pack(">Q", step), "sha1").digest()
    offset = mac[-1] & 0x0F
    return str((struct.unpack(">I", mac[offset : offset + 4])[0] & 0x7FFFFFFF) % 1_000_000).zfill(6)


def _next_citizen() -> dict[str, Any]:
    """A citizen whose app shows a code they have not used yet, and who is not signing in elsewhere.

    A person's app shows one code per 30 seconds and the provider accepts each code once, so the
    same person signs in at most once per step; users take citizens in turn from a pool that is
    several times larger than the number of users."""
    for _ in range(len(_citizens)):
        citizen = _citizens[next(_turn) % len(_citizens)]
        if citizen["uin"] not in _in_use and int(time.time() // 30) > citizen["last_step"]:
            _in_use.add(citizen["uin"])
            return citizen
    raise RuntimeError("every citizen has signed in during this 30-second step: prepare more citizens")


def _code_now(citizen: dict[str, Any]) -> str:
    """The code the citizen's app shows at the moment they type it: read again after every wait, as
    a person looks at their phone again, never one read before a wait of 30 s or more."""
    # A code sent again after a refusal (503) was never checked, so the same step may be sent again.
    citizen["last_step"] = int(time.time() // 30)
    return _totp(citizen["secret"], citizen["last_step"])


# --- measurements -----------------------------------------------------------------------------------

_window: dict[str, float] = {}
# (page, milliseconds, failed, started at (epoch s), refused with 503 + Retry-After)
_samples: list[tuple[str, float, bool, float, bool]] = []
_failures: dict[str, int] = {}
_failures_outside: dict[str, int] = {}
_journeys = {"completed": 0, "failed": 0}


def _in_window(started: float) -> bool:
    opened = _window.get("open")
    return opened is not None and opened <= started < opened + WINDOW


@events.spawning_complete.add_listener
def _open_window(user_count: int, **_: Any) -> None:
    _window.setdefault("open", time.time() + STAGGER)


@events.request.add_listener
def _record(
    request_type: str,
    name: str,
    response_time: float,
    exception: BaseException | None,
    start_time: float | None = None,
    **_: Any,
) -> None:
    started = start_time if start_time is not None else time.time() - response_time / 1000
    if isinstance(exception, Refused):
        if _in_window(started):
            _samples.append((name, response_time, False, started, True))
        return
    if not _in_window(started):
        if exception is not None:  # reported apart: a failure in the ramp-up or tail is still a failure
            key = f"{name}: {str(exception)[:160]}"
            _failures_outside[key] = _failures_outside.get(key, 0) + 1
        return
    _samples.append((name, response_time, exception is not None, started, False))
    if exception is not None:
        key = f"{name}: {str(exception)[:160]}"
        _failures[key] = _failures.get(key, 0) + 1


@events.quitting.add_listener
def _write(environment: Any, **_: Any) -> None:
    out = os.environ.get("PORTAL_BENCH_OUT")
    if out:
        with open(out, "w", encoding="utf-8") as f:
            json.dump(
                {
                    "window_opened": _window.get("open"),
                    "surge_ended": _window.get("surge_end"),
                    "window_seconds": WINDOW,
                    "samples": _samples,
                    "failures": _failures,
                    "failures_outside_window": _failures_outside,
                    "journeys": _journeys,
                },
                f,
            )
    path = os.environ.get("PORTAL_BENCH_CITIZENS")
    if path and _citizens:
        with open(path + ".tmp", "w", encoding="utf-8") as f:
            json.dump(_citizens, f)
        os.replace(path + ".tmp", path)


# --- the users --------------------------------------------------------------------------------------


class JourneyFailed(Exception):
    pass


class Refused(Exception):
    """A 503 with ``Retry-After``: the platform is full and says when to come back."""


RETRIES = 5
LONGEST_WAIT_S = 30.0


def _retry_after(response: Any) -> float | None:
    """Seconds a 503 asks the client to wait, or None if it is not a refusal of that kind."""
    if response.status_code != 503:
        return None
    value = (response.headers.get("Retry-After") or "").strip()
    return min(float(value), LONGEST_WAIT_S) if value.isdigit() else None


def _path(location: str) -> str:
    """A Location as the path and query to request next (the provider's are absolute URLs)."""
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


class Citizen(FastHttpUser):
    """One person at a time, from the home page to the confirmation of their renewed licence."""

    wait_time = constant(0)  # the pauses are inside the journey, before each action of the person's
    connection_timeout = 30.0
    network_timeout = 30.0

    def on_start(self) -> None:
        gevent.sleep(random.uniform(0, STAGGER))

    def think(self) -> None:
        gevent.sleep(random.uniform(*THINK))

    def page(
        self,
        name: str,
        path: str,
        *,
        method: str = "GET",
        data: dict[str, str] | Callable[[], dict[str, str]] | None = None,
        expect: int = 200,
        contains: str = "",
        redirect_to: str = "",
    ) -> Any:
        """One request, checked; the response. A 302 must go where ``redirect_to`` says (a prefix).
        A refusal (503 with ``Retry-After``) is waited out and the request sent again; ``data`` given
        as a function is filled in again for each sending (what the person types may have changed)."""
        for _ in range(RETRIES):
            with self.client.request(
                method,
                path,
                name=name,
                data=data() if callable(data) else data,
                allow_redirects=False,
                catch_response=True,
            ) as response:
                wait = _retry_after(response)
                if wait is None:
                    return self.checked(response, name, expect=expect, contains=contains, redirect_to=redirect_to)
                response.failure(Refused(f"503, come back in {wait:.0f} s"))
            gevent.sleep(wait)
        raise JourneyFailed(f"{name}: refused {RETRIES} times")

    def checked(self, response: Any, name: str, *, expect: int, contains: str, redirect_to: str) -> Any:
        status = response.status_code
        if status != expect:
            body = (response.text or "")[:300].replace("\n", " ")
            response.failure(f"{status} instead of {expect}: {body}")
            raise JourneyFailed(name)
        if expect == 302:
            location = _path(response.headers.get("Location") or "")
            if redirect_to and not location.startswith(redirect_to):
                response.failure(f"redirected to {location[:120]} instead of {redirect_to}")
                raise JourneyFailed(name)
            response.location = location
        elif contains and contains not in (response.text or ""):
            response.failure(f"the page does not contain {contains!r}")
            raise JourneyFailed(name)
        response.success()
        return response

    def authorize_signed_in(self, location: str) -> tuple[Any, str]:
        """The authorization request again, now signed in: the consent page (a first sign-in at the
        portal) or straight back to the portal's callback. A refusal is waited out, as in ``page``."""
        for _ in range(RETRIES):
            with self.client.request(
                "GET", location, name="oidc authorize, signed in", allow_redirects=False, catch_response=True
            ) as answer:
                wait = _retry_after(answer)
                if wait is not None:
                    answer.failure(Refused(f"503, come back in {wait:.0f} s"))
                elif answer.status_code == 200 and 'name="decision"' in (answer.text or ""):
                    answer.success()
                    return answer, ""
                elif answer.status_code == 302 and "/auth/callback?" in (answer.headers.get("Location") or ""):
                    answer.success()
                    return None, _path(answer.headers["Location"])
                else:
                    answer.failure(f"{answer.status_code}: neither the consent page nor the callback")
                    raise JourneyFailed("authorize")
            gevent.sleep(wait)
        raise JourneyFailed(f"oidc authorize, signed in: refused {RETRIES} times")

    def csrf(self, response: Any) -> str:
        match = CSRF.search(response.text or "")
        if not match:
            raise JourneyFailed("no CSRF token")
        return match.group(1)

    @task
    def renew(self) -> None:
        self.client.cookiejar.clear()  # a new person at the browser
        self.citizen: dict[str, Any] | None = None
        try:
            self.journey()
        except JourneyFailed:
            _journeys["failed"] += 1
            return
        finally:
            if self.citizen is not None:
                _in_use.discard(self.citizen["uin"])
        if _in_window(time.time()):
            _journeys["completed"] += 1

    def journey(self) -> None:
        # Browsing, signed out.
        self.page("home", "/", contains="/life/driving")
        self.think()
        self.page("life event", "/life/driving", contains="Renew a driving licence")
        self.think()
        self.page("search", "/services?" + urlencode({"q": "renew licence"}), contains=f"/services/{SERVICE}")
        self.think()
        start = self.page("start page", f"/services/{SERVICE}", contains="Start now")
        self.think()
        # "Start now" while signed out: to the portal's sign-in, which starts the code flow.
        response = self.page(
            "start, signed out",
            f"/services/{SERVICE}/start",
            method="POST",
            data={"csrfmiddlewaretoken": self.csrf(start)},
            expect=302,
            redirect_to="/sign-in",
        )
        response = self.page("portal sign-in", response.location, expect=302, redirect_to="/oidc/authorize")
        authorize = response.location
        response = self.page("oidc authorize", authorize, expect=302, redirect_to="/auth/sign-in")
        form = self.page("idp sign-in form", response.location, contains="password")
        self.think()  # typing the UIN and the password
        citizen = self.citizen = _next_citizen()
        next_url = parse_qs(urlsplit(response.location).query).get("next", [""])[0]
        response = self.page(
            "idp password",
            "/auth/sign-in",
            method="POST",
            data={
                "identifier": citizen["uin"],
                "password": citizen["password"],
                "next": next_url,
                "csrfmiddlewaretoken": self.csrf(form),
            },
            expect=302,
            redirect_to="/auth/verify",
        )
        form = self.page("idp code form", response.location, contains='name="code"')
        self.think()  # reading the code from the app
        csrf = self.csrf(form)
        response = self.page(
            "idp code",
            "/auth/verify",
            method="POST",
            data=lambda: {"code": _code_now(citizen), "next": next_url, "csrfmiddlewaretoken": csrf},
            expect=302,
            redirect_to="/oidc/authorize",
        )
        consent_page, callback = self.authorize_signed_in(response.location)
        if consent_page is not None:  # the first sign-in of this person at the portal
            self.think()
            response = self.page(
                "oidc consent",
                response.location,
                method="POST",
                data={"decision": "allow", "csrfmiddlewaretoken": self.csrf(consent_page)},
                expect=302,
                redirect_to="/auth/callback",
            )
            callback = response.location
        response = self.page("portal callback", callback, expect=302, redirect_to=f"/services/{SERVICE}")
        # Back at the start page, signed in.
        start = self.page("start page", response.location, contains="Start now")
        self.think()
        response = self.page(
            "start application",
            f"/services/{SERVICE}/start",
            method="POST",
            data={"csrfmiddlewaretoken": self.csrf(start)},
            expect=302,
            redirect_to="/apply/",
        )
        match = REFERENCE.search(response.location)
        if not match:
            raise JourneyFailed("no reference")
        reference = match.group(1)
        form = self.page("consent form", response.location, contains='name="agree"')
        self.think()
        response = self.page(
            "consent",
            f"/apply/{reference}/consent",
            method="POST",
            data={"agree": "yes", "csrfmiddlewaretoken": self.csrf(form)},
            expect=302,
            redirect_to=f"/apply/{reference}",
        )
        tasks = self.page("task list", response.location, contains=f"/apply/{reference}/q/")
        self.think()
        # The licence number is filled in from the licensing register, so the task list leads on
        # from the first question it leaves to the citizen; a question it asks again gets its answer.
        answers = {"licence_number": citizen["licence"], "health": "no", "email": ""}
        first = re.search(rf"/apply/{reference}/q/(\w+)", tasks.text or "")
        if not first:
            raise JourneyFailed("no question on the task list")
        location = first.group(0)
        while "/q/" in location:
            qid = location.rsplit("/q/", 1)[1].split("?")[0]
            if qid not in answers:
                raise JourneyFailed(f"unexpected question {qid}")
            form = self.page("question", location, contains=f'name="{qid}"')
            self.think()
            response = self.page(
                "answer",
                location,
                method="POST",
                data={qid: answers[qid], "csrfmiddlewaretoken": self.csrf(form)},
                expect=302,
                redirect_to=f"/apply/{reference}/",
            )
            location = response.location
        if location != f"/apply/{reference}/check":
            raise JourneyFailed(f"after the questions: {location}")
        check = self.page("check answers", location, contains=citizen["licence"])
        self.think()
        response = self.page(
            "send",
            location,
            method="POST",
            data={"csrfmiddlewaretoken": self.csrf(check)},
            expect=302,
            redirect_to=f"/my/applications/{reference}",
        )
        self.page("confirmation", response.location, contains="Automatically, because every check passed")
        self.think()


_SURGE = os.environ.get("PORTAL_BENCH_SURGE", "")
if _SURGE:
    from locust import LoadTestShape

    class Surge(LoadTestShape):
        """A surge of citizens, then a fall to an ordinary load; the moment it falls is recorded."""

        surge_users, surge_s, after_users, after_s = (float(x) for x in _SURGE.split(","))
        spawn_rate = float(os.environ.get("PORTAL_BENCH_SPAWN_RATE", "10"))

        def tick(self) -> tuple[int, float] | None:
            elapsed = self.get_run_time()
            surge_ends = self.surge_users / self.spawn_rate + self.surge_s
            if elapsed < surge_ends:
                return int(self.surge_users), self.spawn_rate
            _window.setdefault("surge_end", time.time())
            if elapsed < surge_ends + self.after_s:
                return int(self.after_users), 1000.0
            return None


class HealthCheck(FastHttpUser):
    """The reference: ``/healthz`` (a Django view with no database work), at the citizens' pace."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        gevent.sleep(random.uniform(*THINK))
        with self.client.request("GET", "/healthz", name="healthz", catch_response=True) as response:
            if response.status_code != 200 or b"alive" not in (response.content or b""):
                response.failure(f"{response.status_code}")
            else:
                response.success()


# --- "My profile" and its reference, for bench/profile_latency.py ---------------------------------------

_sessions: list[dict[str, str]] = []
_session_turn = itertools.count()


def _session() -> dict[str, str]:
    """A signed-in citizen's portal session (``PORTAL_BENCH_SESSIONS``), a different one per user."""
    if not _sessions:
        with open(os.environ["PORTAL_BENCH_SESSIONS"], encoding="utf-8") as f:
            _sessions.extend(json.load(f))
    return _sessions[next(_session_turn) % len(_sessions)]


class ProfileViewer(FastHttpUser):
    """A signed-in citizen asking for "My profile" again and again (no pause: a closed loop)."""

    wait_time = constant(0)

    def on_start(self) -> None:
        self.citizen = _session()

    @task
    def profile(self) -> None:
        with self.client.request(
            "GET",
            "/my/profile",
            name="my profile",
            headers={"Cookie": self.citizen["cookie"]},
            allow_redirects=False,
            catch_response=True,
        ) as response:
            text = response.text or ""
            if response.status_code != 200:
                response.failure(f"{response.status_code}: {text[:200]}")
            elif self.citizen["licence"] not in text or 'class="notice status-bad"' in text:
                response.failure("a part of the profile is missing")
            else:
                response.success()


class PersonRead(FastHttpUser):
    """The reference: the same person read the profile starts with, as the portal's information
    system asks the civil registry through the exchange (``/r1/``, signed and logged at both ends).
    Its host is the gateway's information-system listener (``gov21.wsgi:clients``), not the
    portal's public address, which serves no ``/r1/``."""

    wait_time = constant(0)
    instance = os.environ.get("GOV21_INSTANCE", "XA")

    def on_start(self) -> None:
        self.citizen = _session()

    @task
    def person(self) -> None:
        uin = self.citizen["uin"]
        with self.client.request(
            "GET",
            f"/r1/{self.instance}/GOV/CRO/civil-registry/persons/{uin}",
            name="person read through the exchange",
            headers={
                "X-Road-Client": f"{self.instance}/GOV/PORTAL/portal",
                "X-Road-UserId": uin,
                "X-Road-Issue": "the person's own profile",
                "Accept": "application/json",
            },
            catch_response=True,
        ) as response:
            if response.status_code != 200 or f'"{uin}"'.encode() not in (response.content or b""):
                response.failure(f"{response.status_code}: {(response.text or '')[:200]}")
            else:
                response.success()


class Health(FastHttpUser):
    """``/healthz`` in a closed loop: the floor of a Django request on this server."""

    wait_time = constant(0)

    @task
    def health(self) -> None:
        with self.client.request("GET", "/healthz", name="healthz", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"{response.status_code}")
            else:
                response.success()
