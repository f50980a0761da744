"""The one-stop shop under load: 100 citizens at once find the driving-licence renewal, sign in
through the OpenID Connect provider and renew their licence, against gunicorn on 127.0.0.1.

    .venv/bin/python bench/portal_load.py [--people 20000] [--users 100] [--think 5,15] [--seconds 60] [--runs 3]
        [--profile 20] [--py-spy /tmp/pyspy/bin/py-spy]

Prepares a scratch data directory (a temporary one unless ``--data-dir`` is given) the way
``gov21 up --no-serve`` does: migrations, a demo nation of ``--people``, the exchange and the
service definitions. Then, through the real services (as ``tests/identity/flows.py`` does),
``--citizens`` living adults of that nation get an activation code, an activated account with a
password, an authenticator app (TOTP) and a driving licence; they are handed to locust in a JSON
file. gunicorn serves the platform as ``gov21 up`` does (``--workers`` processes × 4 threads: a
sign-in makes the server call its own token endpoint), with ``GOV21_BASE_URL`` set to its address.

Each run is a headless locust process (``bench/portal_locust.py``, FastHttpUser) with ``--users``
citizens started at ``--spawn-rate`` per second. Each citizen: home page, a life event, a search,
the service's start page, "Start now" (signed out, so: the portal's sign-in, the provider's
authorize, the password form, the authenticator-code form, back through the callback, which calls
the token, keys and userinfo endpoints), the start page again, start, consent, the task list, each
question, check your answers, send, and the confirmation of the automatic decision; then the next
person. A citizen pauses ``--think`` seconds (uniform) before each of their own 13 actions;
redirects are followed at once. Citizens start at random within ``--stagger`` seconds (by default
one journey's pauses) so that they do not all reach the sign-in together; measurement starts
after that and lasts ``--seconds``. Before each run the script waits (at most ``--idle-limit``)
for the shared machine to be ``--idle`` idle, and it reports how busy the machine was.

In the same run, the reference: the same number of users asking for ``/healthz`` at the same
pace for the same time. Reported: p50/p95/p99 per page type and overall, requests/s, failures (any
unexpected status is one), completed renewals, the server's and locust's CPU, the median of each
over ``--runs``, and the ratio of each page's p95 to the reference's p95. Failures in the warm-up,
ramp-up and tail are reported apart.

Where the time goes: ``--profile N`` then runs N journeys in this process through Django's test
client (the provider's back-channel answered in-process, as the tests do) and reports each page's
server CPU and SQL statements, and cProfile's top functions; ``--py-spy`` (a py-spy binary, e.g.
``uv pip install --target /tmp/pyspy py-spy``) samples every gunicorn worker during one more load
run, not counted in the medians, and reports the shares by view, by kind of work and by function.

``--surge 300`` then runs a surge (``--surge-runs`` times): 300 citizens for ``--surge-seconds``,
then ``--users`` for ``--after-seconds``. Past capacity the platform should refuse with 503 and
``Retry-After`` (the citizens wait as asked and try again) rather than fail or hang; reported: every
other failure, the refusals, p95 during the surge, and p95 in each 5 s after it fell, with the
moment from which it stayed under 200 ms. Prepare enough citizens for it (``--citizens``: each
signs in at most once per 30 s, the life of an authenticator code).

Every load is bounded in time and targets 127.0.0.1 only; the server is stopped at the end. The
scratch directory is removed unless ``--data-dir`` was given. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import resource
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
PASSWORD = "correct horse battery staple"
SERVICE = "renew-driving-licence"
TARGET_P95_MS = 200.0
# The pages of the journey in the order a citizen meets them (the table follows it).
PAGES = (
    "home",
    "life event",
    "search",
    "start page",
    "start, signed out",
    "portal sign-in",
    "oidc authorize",
    "idp sign-in form",
    "idp password",
    "idp code form",
    "idp code",
    "oidc authorize, signed in",
    "oidc consent",
    "portal callback",
    "start application",
    "consent form",
    "consent",
    "task list",
    "question",
    "answer",
    "check answers",
    "send",
    "confirmation",
)


# --- the server ---------------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_port(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("the server did not start")


def server_env(data_dir: Path, base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "gov21.settings"
    env["GOV21_DATA_DIR"] = str(data_dir)
    env["GOV21_BASE_URL"] = base_url  # the issuer, and where the portal calls the provider
    return env


def nation_prepare(data_dir: Path, base_url: str, people: int) -> float:
    """``gov21 up --no-serve``: migrate, seed the demo nation (if empty), exchange, services. Seconds."""
    started = time.monotonic()
    subprocess.run(
        [str(BIN / "gov21"), "up", "--no-serve", "--people", str(people)],
        env=server_env(data_dir, base_url),
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        timeout=1800,
    )
    return time.monotonic() - started


def django_setup(data_dir: Path, base_url: str) -> None:
    os.environ.update(server_env(data_dir, base_url))
    import django

    django.setup()


def citizens_prepare(count: int) -> list[dict[str, Any]]:
    """``count`` living adults (25 to 65, with an address) with an activated account, a password, an
    authenticator app and a driving licence, made through the real services. Needs django_setup()."""
    from datetime import date, timedelta

    from django.db import connections

    from gov21.core.errors import DomainError
    from gov21.core.principal import Principal
    from gov21.identity import totp
    from gov21.identity.models import Account
    from gov21.identity.services import (
        account_activate,
        activation_code_issue,
        totp_enrol_begin,
        totp_enrol_confirm,
    )
    from gov21.onestop.registers import licence_issue
    from gov21.registry.models import Person

    today = date.today()  # a civil date, as the registry's rules use
    uins = list(
        Person.objects.filter(
            status="alive",
            birth_date__lte=today - timedelta(days=366 * 25),
            birth_date__gte=today - timedelta(days=365 * 65),
        )
        .exclude(address_line="")
        .exclude(address_parish="")
        # An account already in use (the demo citizen's) is recovered only by two officers.
        .exclude(uin__in=Account.objects.filter(uin__isnull=False).values("uin"))
        .order_by("?")
        .values_list("uin", flat=True)[:count]
    )
    if len(uins) < count:
        raise SystemExit(f"only {len(uins)} adults with an address: generate a larger nation")
    officer = Principal(name="bench.counter", kind="staff", roles=frozenset({"registrar"}))
    citizens = []
    for uin in uins:
        code = activation_code_issue(uin=uin, officer=officer)
        account = account_activate(uin=uin, code=code, password=PASSWORD, source="bench")
        secret = totp_enrol_begin(account=account)
        # The enrolment uses the previous step's code, so that the first sign-in can use the current
        # one. Sent just as a new step began, it is two steps old and refused: then the next one.
        for _attempt in range(2):
            step = totp.step_at(time.time()) - 1
            try:
                totp_enrol_confirm(account=account, code=totp.hotp(totp._key(secret), step), source="bench")
                break
            except DomainError:
                if _attempt:
                    raise
        licence = licence_issue(uin=uin, issued_on=date(2016, 6, 1))
        citizens.append(
            {"uin": uin, "password": PASSWORD, "secret": secret, "last_step": step, "licence": licence.number}
        )
    connections.close_all()
    return citizens


def server_start(
    data_dir: Path,
    port: int,
    *,
    workers: int,
    threads: int,
    app: str = "gov21.wsgi:application",
    base_url: str = "",
) -> subprocess.Popen[bytes]:
    """gunicorn as ``gov21 up`` starts it (``threads`` 0: with its capacity flags), without the access
    log (``app``: another of gov21's WSGI entry points, such as the exchange's client interface
    ``gov21.wsgi:clients``)."""
    command = [
        str(BIN / "gunicorn"),
        app,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--log-level",
        "warning",
    ]
    if threads == 0:  # as gov21 up: more threads than the request gate admits, so that it refuses at once
        from gov21.core.capacity import gunicorn_capacity

        command += gunicorn_capacity()
    elif threads > 1:
        command += ["--threads", str(threads)]
    server = subprocess.Popen(command, env=server_env(data_dir, base_url or f"http://127.0.0.1:{port}"))
    wait_port(port)
    return server


def server_stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def server_cpu(server: subprocess.Popen[bytes]) -> float:
    """CPU seconds used so far by gunicorn's master and workers."""
    import psutil

    try:
        proc = psutil.Process(server.pid)
        total = 0.0
        for p in [proc, *proc.children(recursive=True)]:
            t = p.cpu_times()
            total += t.user + t.system
        return total
    except psutil.Error:
        return 0.0


class CpuSampler:
    """The server's CPU time and the whole machine's, sampled every half second, to tell what a
    measurement window cost the server and how busy the shared machine was meanwhile."""

    def __init__(self, server: subprocess.Popen[bytes], *others: subprocess.Popen[bytes]) -> None:
        import threading

        self.servers = (server, *others)
        self.samples: list[tuple[float, float, float]] = []  # (time, server CPU s, machine busy CPU s)
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        import psutil

        while not self.stop.is_set():
            t = psutil.cpu_times()
            busy = t.user + t.nice + t.system + getattr(t, "irq", 0) + getattr(t, "softirq", 0)
            self.samples.append((time.time(), sum(server_cpu(s) for s in self.servers), busy))
            self.stop.wait(0.5)

    def between(self, start: float, end: float) -> tuple[float, float]:
        """(server, machine) CPU seconds spent between two wall-clock times (nearest samples)."""

        def at(t: float) -> tuple[float, float, float]:
            return min(self.samples, key=lambda s: abs(s[0] - t))

        a, b = at(start), at(end)
        return b[1] - a[1], b[2] - a[2]

    def close(self) -> None:
        self.stop.set()
        self.thread.join(timeout=5)


def idle_wait(*, idle: float, seconds: float, limit: float) -> float:
    """Wait (at most ``limit`` s) until the shared machine has been at least ``idle`` idle over
    ``seconds``; the idle fraction last seen. Other people's test suites run on the same cores."""
    import psutil

    deadline = time.monotonic() + limit
    seen = 0.0
    while True:
        seen = 1 - psutil.cpu_percent(interval=seconds) / 100
        if seen >= idle or time.monotonic() >= deadline:
            return seen


# --- a browser, for the warm-up and for profile_latency.py ---------------------------------------------


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise SystemExit("no CSRF token on the page")
    return match.group(1)


def browser_sign_in(base_url: str, citizen: dict[str, Any], next_url: str = "/my/") -> Any:
    """An httpx2 client signed in at the portal through the provider (password, TOTP, consent if
    asked), following each redirect as a browser does. The client is returned open."""
    import httpx2

    from gov21.identity import totp

    web = httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30)
    response = web.get("/sign-in", params={"next": next_url})
    for _ in range(12):
        location = response.headers.get("location", "")
        if response.status_code == 200 and 'name="decision"' in response.text:
            response = web.post(
                str(response.url), data={"decision": "allow", "csrfmiddlewaretoken": csrf_from(response.text)}
            )
            continue
        if response.status_code != 302:
            raise SystemExit(f"sign-in: {response.status_code} at {response.url}: {response.text[:300]}")
        parts = urlsplit(location)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        if parts.path == "/auth/sign-in":
            form = web.get(path)
            response = web.post(
                "/auth/sign-in",
                data={
                    "identifier": citizen["uin"],
                    "password": citizen["password"],
                    "next": parse_qs(parts.query).get("next", [""])[0],
                    "csrfmiddlewaretoken": csrf_from(form.text),
                },
            )
        elif parts.path == "/auth/verify":
            form = web.get(path)
            step = max(citizen["last_step"] + 1, totp.step_at(time.time()))
            if step > totp.step_at(time.time()) + 1:
                time.sleep(30)
                step = totp.step_at(time.time())
            citizen["last_step"] = step
            response = web.post(
                "/auth/verify",
                data={
                    "code": totp.hotp(totp._key(citizen["secret"]), step),
                    "next": parse_qs(parts.query).get("next", [""])[0],
                    "csrfmiddlewaretoken": csrf_from(form.text),
                },
            )
        elif path == next_url:
            return web
        else:
            response = web.get(path)
    raise SystemExit("the sign-in did not finish")


# --- locust -------------------------------------------------------------------------------------------


def locust_run(
    port: int,
    *,
    user_class: str,
    users: int,
    spawn_rate: float,
    seconds: float,
    scratch: Path,
    env: dict[str, str],
) -> dict[str, Any]:
    """One headless locust run of ``user_class`` (``bench/portal_locust.py``, configured by ``env``);
    its measurements and the CPU locust used."""
    out = scratch / f"locust-{secrets.token_hex(4)}.json"
    env = {**os.environ, **env, "PORTAL_BENCH_OUT": str(out), "PORTAL_BENCH_SECONDS": str(seconds)}
    stagger = float(env.get("PORTAL_BENCH_STAGGER", "0"))
    run_time = int(users / spawn_rate + stagger + seconds + 8)  # ramp-up, stagger, window, requests in flight
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(
        [
            str(BIN / "locust"),
            "-f",
            str(HERE / "portal_locust.py"),
            user_class,
            "--headless",
            "--users",
            str(users),
            "--spawn-rate",
            str(spawn_rate),
            "--run-time",
            f"{run_time}s",
            "--stop-timeout",
            "0",
            "--host",
            f"http://127.0.0.1:{port}",
            "--only-summary",
            "--loglevel",
            "WARNING",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=run_time + 120,
        check=False,
    )
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if not out.exists():
        raise SystemExit(
            f"locust wrote no results (exit {done.returncode}):\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
        )
    result = dict(json.loads(out.read_text(encoding="utf-8")))
    out.unlink()
    result["locust_cpu_s"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return result


def percentile(values: list[float], q: float) -> float:
    """Nearest rank (the value below which ``q`` of the samples lie)."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, math.ceil(q * len(ordered)) - 1))]


def summarise(result: dict[str, Any]) -> dict[str, Any]:
    by_page: dict[str, list[float]] = defaultdict(list)
    failed: dict[str, int] = defaultdict(int)
    refused: dict[str, int] = defaultdict(int)
    for name, ms, fail, _started, was_refused in result["samples"]:
        if was_refused:  # a 503 with Retry-After: counted, not timed (a fast "no" is not a fast page)
            refused[name] += 1
            continue
        by_page[name].append(ms)
        if fail:
            failed[name] += 1
    everything = [ms for values in by_page.values() for ms in values]
    seconds = result["window_seconds"]
    pages = {
        name: {
            "count": len(values),
            "p50": percentile(values, 0.50),
            "p95": percentile(values, 0.95),
            "p99": percentile(values, 0.99),
            "failures": failed.get(name, 0),
            "refused": refused.get(name, 0),
        }
        for name, values in by_page.items()
    }
    return {
        "pages": pages,
        "overall": {
            "count": len(everything),
            "p50": percentile(everything, 0.50),
            "p95": percentile(everything, 0.95),
            "p99": percentile(everything, 0.99),
            "failures": sum(failed.values()),
            "refused": sum(refused.values()),
        },
        "rps": len(everything) / seconds,
        "failures": result["failures"],
        "failures_outside_window": result.get("failures_outside_window", {}),
        "journeys": result.get("journeys", {}),
    }


# --- where the time goes ----------------------------------------------------------------------------


def path_of(location: str) -> str:
    parts = urlsplit(location)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def inprocess_client(base_url: str) -> Any:
    """A Django test client at the server's address whose back-channel calls to the provider (token,
    keys, userinfo) are answered in this process, on the same database connection, as the tests do."""
    import httpx2
    from django.core.handlers.wsgi import WSGIHandler
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections
    from django.test import Client

    from gov21.portal import rp

    class InProcessProvider(WSGIHandler):
        def __call__(self, environ: Any, start_response: Any) -> Any:
            request_started.disconnect(close_old_connections)
            request_finished.disconnect(close_old_connections)
            try:
                response = super().__call__(environ, start_response)
                body = b"".join(response)
                response.close()
                return [body]
            finally:
                request_started.connect(close_old_connections)
                request_finished.connect(close_old_connections)

    rp.TRANSPORT = httpx2.WSGITransport(app=InProcessProvider())
    return Client(HTTP_HOST=urlsplit(base_url).netloc)


class PageMeter:
    """Requests through a test client, with the CPU (ms) and the SQL statements of each, by page."""

    def __init__(self, web: Any) -> None:
        self.web = web
        self.cpu: dict[str, list[float]] = defaultdict(list)
        self.queries: dict[str, list[int]] = defaultdict(list)
        self.record = False
        self.profiler: Any = None

    def __call__(self, name: str, method: str, path: str, data: dict[str, str] | None = None, expect: int = 0) -> Any:
        from django.db import connection
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as captured:
            if self.profiler is not None and self.record:
                self.profiler.enable()
            started = time.process_time()
            try:
                response = self.web.get(path) if method == "GET" else self.web.post(path, data or {})
            finally:
                spent = time.process_time() - started
                if self.profiler is not None:
                    self.profiler.disable()
        if expect and response.status_code != expect:
            raise SystemExit(f"{name}: {response.status_code} instead of {expect}: {response.content[:300]!r}")
        if self.record:
            self.cpu[name].append(spent * 1000)
            self.queries[name].append(len(captured))
        return response

    def table(self) -> list[tuple[str, str, str]]:
        names = [n for n in PAGES if n in self.cpu] + sorted(set(self.cpu) - set(PAGES))
        return [
            (name, f"{statistics.median(self.cpu[name]):.1f}", f"{statistics.median(self.queries[name]):.0f}")
            for name in names
        ]


def journey_in_process(meter: PageMeter, citizen: dict[str, Any]) -> None:
    """The locust citizen's journey through a test client (CSRF is not enforced there)."""
    from gov21.identity import totp

    def loc(response: Any) -> str:
        return path_of(response["Location"])

    meter("home", "GET", "/", expect=200)
    meter("life event", "GET", "/life/driving", expect=200)
    meter("search", "GET", "/services?q=renew+licence", expect=200)
    meter("start page", "GET", f"/services/{SERVICE}", expect=200)
    r = meter("start, signed out", "POST", f"/services/{SERVICE}/start", expect=302)
    r = meter("portal sign-in", "GET", loc(r), expect=302)
    r = meter("oidc authorize", "GET", loc(r), expect=302)
    sign_in = loc(r)
    next_url = parse_qs(urlsplit(sign_in).query)["next"][0]
    meter("idp sign-in form", "GET", sign_in, expect=200)
    data = {"identifier": citizen["uin"], "password": citizen["password"], "next": next_url}
    r = meter("idp password", "POST", "/auth/sign-in", data, expect=302)
    meter("idp code form", "GET", loc(r), expect=200)
    now = totp.step_at(time.time())
    if citizen["last_step"] >= now:
        time.sleep((citizen["last_step"] + 1) * totp.STEP_SECONDS - time.time() + 0.1)
    citizen["last_step"] = totp.step_at(time.time())
    code = totp.hotp(totp._key(citizen["secret"]), citizen["last_step"])
    r = meter("idp code", "POST", "/auth/verify", {"code": code, "next": next_url}, expect=302)
    authorize = loc(r)
    r = meter("oidc authorize, signed in", "GET", authorize)
    if r.status_code == 200:
        r = meter("oidc consent", "POST", authorize, {"decision": "allow"}, expect=302)
    r = meter("portal callback", "GET", loc(r), expect=302)
    meter("start page", "GET", loc(r), expect=200)
    r = meter("start application", "POST", f"/services/{SERVICE}/start", expect=302)
    consent = loc(r)
    reference = consent.split("/")[2]
    meter("consent form", "GET", consent, expect=200)
    r = meter("consent", "POST", consent, {"agree": "yes"}, expect=302)
    meter("task list", "GET", loc(r), expect=200)
    location = f"/apply/{reference}/q/licence_number"
    answers = {"licence_number": citizen["licence"], "health": "no", "email": ""}
    while "/q/" in location:
        qid = location.rsplit("/q/", 1)[1]
        meter("question", "GET", location, expect=200)
        location = loc(meter("answer", "POST", location, {qid: answers[qid]}, expect=302))
    meter("check answers", "GET", location, expect=200)
    r = meter("send", "POST", location, expect=302)
    page = meter("confirmation", "GET", loc(r), expect=200)
    if b"Automatically, because every check passed" not in page.content:
        raise SystemExit("the renewal was not decided automatically")


def profile_in_process(base_url: str, citizens: list[dict[str, Any]], count: int, top: int = 30) -> dict[str, Any]:
    """CPU and SQL statements per page over ``count`` journeys (after 2 unrecorded), then cProfile's
    top functions over ``count`` more (cProfile inflates Python-heavy code: shares are approximate)."""
    import cProfile
    import io
    import itertools
    import pstats

    from django.db import connections

    pool = itertools.cycle(citizens)
    timed = PageMeter(None)
    for journeys, record in ((2, False), (count, True)):
        timed.record = record
        for _ in range(journeys):
            timed.web = inprocess_client(base_url)
            journey_in_process(timed, next(pool))
    profiled = PageMeter(None)
    profiled.profiler = cProfile.Profile()
    profiled.record = True
    for _ in range(count):
        profiled.web = inprocess_client(base_url)
        journey_in_process(profiled, next(pool))
    connections.close_all()
    tottime, cumulative = io.StringIO(), io.StringIO()
    pstats.Stats(profiled.profiler, stream=tottime).sort_stats("tottime").print_stats(top)
    pstats.Stats(profiled.profiler, stream=cumulative).sort_stats("cumulative").print_stats(top)
    return {"table": timed.table(), "tottime": tottime.getvalue(), "cumulative": cumulative.getvalue()}


# What a sampled stack is doing: the innermost frame that matches one of these (file or function).
SPY_KINDS = (
    (
        "TLS context for an HTTP client (ssl.create_default_context)",
        ("create_default_context", "load_verify_locations"),
    ),
    ("password hashing (argon2)", ("argon2/",)),
    ("SQLite", ("sqlite3/",)),
    ("signatures and keys (cryptography, joserfc)", ("cryptography/", "joserfc/")),
    ("service rules (CEL)", ("cel/", "gov21/onestop/rules.py")),
    ("templates", ("django/template/",)),
    ("ORM: build and compile queries", ("django/db/models/",)),
    ("HTTP client (httpx2, httpcore2, authlib)", ("httpx2/", "httpcore2/", "authlib/")),
    ("sessions and signing of cookies", ("django/contrib/sessions/", "django/core/signing.py")),
    ("Ed25519 signatures (compact JWS)", ("gov21/core/crypto.py",)),
    ("gov21's own Python", ("gov21/",)),
    ("Django: request cycle, middleware, URLs", ("django/",)),
    ("gunicorn (HTTP, threads)", ("gunicorn/", "concurrent/futures/", "selectors.py")),
)
# Work inside these parts of gov21 is counted for each part, whatever it is doing (every request
# passes through gov21/exchange/wsgi.py, so the exchange is recognised by its client proxy).
SPY_INSIDE = (
    ("portal → provider back-channel (gov21/portal/rp.py)", "gov21/portal/rp.py"),
    (
        "exchange calls (client_proxy: sign, check, log at both ends)",
        "client_proxy (gov21/exchange/consumer.py",
    ),
    ("service engine (gov21/onestop/)", "gov21/onestop/"),
)
VIEW_FILE = re.compile(r"\((?:.*/)?gov21/([a-z_]+)/(journeys|my|views|oidc_views)\.py:\d+\)")


def spy_summary(collapsed: Path, top: int = 25) -> dict[str, Any]:
    """Shares of py-spy's samples (collapsed stacks, outermost frame first): by view (the first
    frame in a view module), by kind of work (the innermost frame of a known kind), inside which
    part of gov21, and the functions most often on top of the stack."""
    views: dict[str, int] = defaultdict(int)
    kinds: dict[str, int] = defaultdict(int)
    inside: dict[str, int] = defaultdict(int)
    on_top: dict[str, int] = defaultdict(int)
    total = 0
    for line in collapsed.read_text(encoding="utf-8", errors="replace").splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        view = "(outside a view: gunicorn, middleware)"
        for frame in frames:
            match = VIEW_FILE.search(frame)
            if match:
                view = f"{match.group(1)}.{match.group(2)}.{frame.split(' (')[0]}"
                break
        views[view] += count
        kind = "other Python"
        for frame in reversed(frames):
            found = next((name for name, needles in SPY_KINDS if any(n in frame for n in needles)), None)
            if found:
                kind = found
                break
        kinds[kind] += count
        for name, needle in SPY_INSIDE:
            if needle in stack:
                inside[name] += count
        on_top[frames[-1]] += count

    def shares(counts: dict[str, int], n: int) -> list[tuple[str, float]]:
        return [(k, v / max(1, total)) for k, v in sorted(counts.items(), key=lambda kv: -kv[1])[:n]]

    return {
        "samples": total,
        "views": shares(views, 25),
        "kinds": shares(kinds, 20),
        "inside": shares(inside, 10),
        "self": shares(on_top, top),
    }


# --- main ---------------------------------------------------------------------------------------------


def stop_on_sigterm() -> None:
    """SIGTERM (``kill PID``) ends the benchmark like Ctrl+C: the server is stopped, the scratch
    directory removed."""
    import signal

    def stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="Data directory to use (default: a temporary one).")
    parser.add_argument("--people", type=int, default=20000, help="Size of the demo nation.")
    parser.add_argument("--citizens", type=int, default=300, help="Citizens prepared with accounts and licences.")
    parser.add_argument("--users", type=int, default=100, help="Concurrent simulated citizens.")
    parser.add_argument("--spawn-rate", type=float, default=10, help="Users started per second.")
    parser.add_argument("--seconds", type=float, default=60, help="Measurement window of each run, after ramp-up.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--think", default="1,3", help="min,max seconds a citizen pauses before each action.")
    parser.add_argument(
        "--stagger",
        type=float,
        help="Citizens start within this many seconds, and the window opens after it (default: one journey's pauses).",
    )
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (gov21 up: 3).")
    parser.add_argument(
        "--threads", type=int, default=0, help="Threads per worker (default 0: gov21 up's flags, core.capacity)."
    )
    parser.add_argument("--warm-up", type=float, default=15, help="Seconds of unrecorded load first.")
    parser.add_argument("--idle", type=float, default=0.8, help="Idle share of the machine to wait for before a run.")
    parser.add_argument("--idle-limit", type=float, default=180, help="Longest wait for it (s).")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="Then N journeys in-process: CPU, SQL.")
    parser.add_argument("--py-spy", type=Path, metavar="PY_SPY", help="py-spy binary: sample one more run.")
    parser.add_argument("--py-spy-out", type=Path, help="Keep py-spy's collapsed stacks in this file.")
    parser.add_argument("--json", action="store_true", help="Also print every run as JSON.")
    parser.add_argument(
        "--surge", type=int, default=0, metavar="USERS", help="Then surge runs: USERS citizens, then --users again."
    )
    parser.add_argument("--surge-seconds", type=float, default=60, help="How long the surge lasts once started.")
    parser.add_argument("--after-seconds", type=float, default=40, help="Measured after the surge falls to --users.")
    parser.add_argument("--surge-runs", type=int, default=1)
    args = parser.parse_args()

    began = time.monotonic()
    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="gov21-bench-portal-")) if own_dir else args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        runs, setup = measure(args, data_dir)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    report(args, runs, setup, time.monotonic() - began)


# A journey has this many pauses of the citizen's own (reading, typing, clicking).
PAUSES_PER_JOURNEY = 13


def stagger(args: argparse.Namespace) -> float:
    if args.stagger is not None:
        return float(args.stagger)
    low, high = (float(x) for x in args.think.split(","))
    return round(PAUSES_PER_JOURNEY * (low + high) / 2)


def measure(args: argparse.Namespace, data_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    setup: dict[str, Any] = {"nation_s": nation_prepare(data_dir, base_url, args.people)}
    django_setup(data_dir, base_url)
    started = time.monotonic()
    citizens = citizens_prepare(args.citizens)
    setup["citizens_s"] = time.monotonic() - started
    citizens_file = data_dir / "bench-citizens.json"

    server = server_start(data_dir, port, workers=args.workers, threads=args.threads)
    sampler = CpuSampler(server)
    runs: list[dict[str, Any]] = []
    try:
        # One sign-in first, alone: it registers the portal at the provider under this address.
        browser_sign_in(base_url, citizens[0]).close()
        citizens_file.write_text(json.dumps(citizens), encoding="utf-8")
        common = {
            "spawn_rate": args.spawn_rate,
            "scratch": data_dir,
            "env": {
                "PORTAL_BENCH_CITIZENS": str(citizens_file),
                "PORTAL_BENCH_THINK": args.think,
                "PORTAL_BENCH_STAGGER": str(stagger(args)),
            },
        }
        unstaggered = {**common, "env": {**common["env"], "PORTAL_BENCH_STAGGER": "0"}}
        if args.warm_up:
            warm = locust_run(
                port, user_class="Citizen", users=min(args.users, 20), seconds=args.warm_up, **unstaggered
            )
            setup["warm_up_failures"] = {**warm["failures"], **warm["failures_outside_window"]}
        for _ in range(args.runs):
            run: dict[str, Any] = {"idle_before": idle_wait(idle=args.idle, seconds=10, limit=args.idle_limit)}
            for part, user_class, how in (("journeys", "Citizen", common), ("reference", "HealthCheck", unstaggered)):
                raw = locust_run(port, user_class=user_class, users=args.users, seconds=args.seconds, **how)
                run[part] = summarise(raw)
                opened = raw["window_opened"] or time.time()
                # The server's CPU inside the window, per request measured there, and the machine's.
                server_s, machine_s = sampler.between(opened, opened + args.seconds)
                run[part]["server_cores"] = server_s / args.seconds
                run[part]["machine_cores"] = machine_s / args.seconds
                run[part]["server_cpu_ms_per_request"] = (
                    run[part]["server_cores"] * 1000 / run[part]["rps"] if run[part]["rps"] else float("nan")
                )
                run[part]["locust_cpu_s"] = raw["locust_cpu_s"]
            runs.append(run)
            print(
                f"run {len(runs)}: {run['journeys']['rps']:.1f} requests/s, overall p95 "
                f"{run['journeys']['overall']['p95']:.0f} ms, healthz p95 {run['reference']['overall']['p95']:.1f} ms, "
                f"{run['journeys']['overall']['failures'] + run['reference']['overall']['failures']} failures, "
                f"{run['journeys']['journeys']['completed']} renewals",
                flush=True,
            )
        if args.surge:
            setup["surges"] = [surge_run(args, port, unstaggered) for _ in range(args.surge_runs)]
        if args.py_spy:
            setup["spy"] = spy_run(args, server, port, common, user_class="Citizen")
    finally:
        sampler.close()
        server_stop(server)
    if args.profile:
        setup["profile"] = profile_in_process(base_url, json.loads(citizens_file.read_text()), args.profile)
    return runs, setup


RECOVERY_BUCKET_S = 5.0


def surge_run(args: argparse.Namespace, port: int, how: dict[str, Any]) -> dict[str, Any]:
    """``--surge`` citizens for ``--surge-seconds``, then ``--users`` for ``--after-seconds``: what
    failed (anything but a 503 with Retry-After), how much was refused, and how fast p95 came back."""
    idle = idle_wait(idle=args.idle, seconds=10, limit=args.idle_limit)
    env = {
        **how["env"],
        "PORTAL_BENCH_SURGE": f"{args.surge},{args.surge_seconds},{args.users},{args.after_seconds}",
        "PORTAL_BENCH_SPAWN_RATE": str(args.spawn_rate),
    }
    seconds = args.surge_seconds + args.after_seconds
    raw = locust_run(
        port,
        user_class="Citizen",
        users=args.surge,
        seconds=seconds,
        spawn_rate=args.spawn_rate,
        scratch=how["scratch"],
        env=env,
    )
    ended = raw.get("surge_ended") or (raw["window_opened"] or time.time()) + args.surge_seconds
    timed = [(started, ms) for _name, ms, _fail, started, refused in raw["samples"] if not refused]
    during = [ms for started, ms in timed if started < ended]
    buckets = []
    for k in range(int(args.after_seconds // RECOVERY_BUCKET_S)):
        low = ended + k * RECOVERY_BUCKET_S
        got = [ms for started, ms in timed if low <= started < low + RECOVERY_BUCKET_S]
        refused = sum(1 for *_, started, r in raw["samples"] if r and low <= started < low + RECOVERY_BUCKET_S)
        buckets.append(
            {"from_s": k * RECOVERY_BUCKET_S, "count": len(got), "p95": percentile(got, 0.95), "refused": refused}
        )
    recovered = next(
        (b["from_s"] for i, b in enumerate(buckets) if all(later["p95"] <= TARGET_P95_MS for later in buckets[i:])),
        None,
    )
    return {
        "idle_before": idle,
        "during": {
            "count": len(during),
            "p50": percentile(during, 0.50),
            "p95": percentile(during, 0.95),
            "refused": sum(1 for *_, started, r in raw["samples"] if r and started < ended),
        },
        "after_10s_p95": percentile([ms for started, ms in timed if started >= ended + 10], 0.95),
        "buckets": buckets,
        "recovered_after_s": recovered,
        "failures": {**raw["failures"], **raw["failures_outside_window"]},
        "journeys": raw.get("journeys", {}),
    }


def spy_run(
    args: argparse.Namespace, server: subprocess.Popen[bytes], port: int, common: dict[str, Any], *, user_class: str
) -> dict[str, Any]:
    """One more run (not in the medians) with py-spy sampling every gunicorn worker."""
    collapsed = Path(common["scratch"]) / "py-spy.txt"
    duration = int(args.users / args.spawn_rate + stagger(args) + args.seconds)
    spy = subprocess.Popen(
        [
            str(args.py_spy),
            "record",
            "--pid",
            str(server.pid),
            "--subprocesses",
            "--nonblocking",
            "--rate",
            "100",
            "--format",
            "raw",
            "--duration",
            str(duration),
            "--output",
            str(collapsed),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        raw = locust_run(port, user_class=user_class, users=args.users, seconds=args.seconds, **common)
    finally:
        try:
            spy.wait(timeout=60)
        except subprocess.TimeoutExpired:
            spy.kill()
    if not collapsed.exists():
        return {"error": "py-spy wrote nothing (ptrace not permitted?)"}
    if args.py_spy_out:
        shutil.copyfile(collapsed, args.py_spy_out)
    return {**spy_summary(collapsed), "under": summarise(raw)["overall"]}


def report(args: argparse.Namespace, runs: list[dict[str, Any]], setup: dict[str, Any], elapsed: float) -> None:
    if not runs:  # --runs 0: only the surge
        for number, surge in enumerate(setup.get("surges", []), start=1):
            print_surge(args, number, surge)
        return

    def med(values: list[float]) -> float:
        return statistics.median(values) if values else float("nan")

    ref_p95 = med([r["reference"]["overall"]["p95"] for r in runs])
    ref_p50 = med([r["reference"]["overall"]["p50"] for r in runs])
    ref_p99 = med([r["reference"]["overall"]["p99"] for r in runs])
    rows = [("Page (medians of runs)", "requests", "p50 ms", "p95 ms", "p99 ms", "failures", "p95 / ref", "≤ 200 ms")]
    names = [n for n in PAGES if any(n in r["journeys"]["pages"] for r in runs)]
    names += sorted({n for r in runs for n in r["journeys"]["pages"]} - set(names))
    for name in names:
        got = [r["journeys"]["pages"][name] for r in runs if name in r["journeys"]["pages"]]
        p95 = med([g["p95"] for g in got])
        rows.append(
            (
                name,
                f"{med([g['count'] for g in got]):.0f}",
                f"{med([g['p50'] for g in got]):.1f}",
                f"{p95:.1f}",
                f"{med([g['p99'] for g in got]):.1f}",
                f"{sum(g['failures'] for g in got)}",
                f"{p95 / ref_p95:.0f}×",
                "yes" if p95 <= TARGET_P95_MS else "NO",
            )
        )
    overall = [r["journeys"]["overall"] for r in runs]
    p95 = med([o["p95"] for o in overall])
    rows.append(
        (
            "all pages",
            f"{med([o['count'] for o in overall]):.0f}",
            f"{med([o['p50'] for o in overall]):.1f}",
            f"{p95:.1f}",
            f"{med([o['p99'] for o in overall]):.1f}",
            f"{sum(o['failures'] for o in overall)}",
            f"{p95 / ref_p95:.0f}×",
            "yes" if p95 <= TARGET_P95_MS else "NO",
        )
    )
    rows.append(
        (
            "reference: /healthz",
            f"{med([r['reference']['overall']['count'] for r in runs]):.0f}",
            f"{ref_p50:.1f}",
            f"{ref_p95:.1f}",
            f"{ref_p99:.1f}",
            f"{sum(r['reference']['overall']['failures'] for r in runs)}",
            "1×",
            "",
        )
    )
    rps = med([r["journeys"]["rps"] for r in runs])
    renewals = med([r["journeys"]["journeys"]["completed"] for r in runs])
    cores = med([r["journeys"]["server_cores"] for r in runs])
    per_request = med([r["journeys"]["server_cpu_ms_per_request"] for r in runs])
    ref_per_request = med([r["reference"]["server_cpu_ms_per_request"] for r in runs])
    locust_cpu = med([r["journeys"]["locust_cpu_s"] for r in runs])
    run_time = args.users / args.spawn_rate + stagger(args) + args.seconds + 8
    if args.json:
        print(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "setup": setup, "runs": runs}, indent=2))
    print(
        f"\nOne-stop shop under load: {args.users} citizens (think {args.think} s, start within "
        f"{stagger(args):.0f} s), gunicorn {args.workers} workers × "
        f"{args.threads or 'gov21 up'} threads, a nation of {args.people:,}, {args.runs} runs of "
        f"{args.seconds:.0f} s after "
        f"ramp-up, medians ({elapsed:.0f} s in all; nation {setup['nation_s']:.0f} s, "
        f"{args.citizens} citizens {setup['citizens_s']:.0f} s)\n"
    )
    print_table(rows)
    failures: dict[str, int] = defaultdict(int)
    for r in runs:
        for part in ("journeys", "reference"):
            for key, count in r[part]["failures"].items():
                failures[key] += count
    outside: dict[str, int] = defaultdict(int)
    for r in runs:
        for part in ("journeys", "reference"):
            for key, count in r[part]["failures_outside_window"].items():
                outside[key] += count
    print(
        f"\nRequests/s (window): {rps:.1f}; renewals completed per run: {renewals:.0f} "
        f"({renewals / args.seconds * 60:.0f} per minute); failures in all runs: {sum(failures.values())}"
    )
    print(
        f"Server CPU in the window: {cores:.2f} cores, {per_request:.1f} ms per request "
        f"(reference /healthz: {ref_per_request:.1f} ms); locust {locust_cpu / run_time:.2f} cores"
    )
    for key, count in sorted(failures.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  failure ×{count}: {key}")
    for title, found in (
        ("in ramp-up and tail, outside the windows", outside),
        ("in the warm-up", setup.get("warm_up_failures", {})),
    ):
        print(f"Failures {title}: {sum(found.values())}")
        for key, count in sorted(found.items(), key=lambda kv: -kv[1])[:10]:
            print(f"  ×{count}: {key}")
    idle = [r["idle_before"] for r in runs]
    busy = med([r["journeys"]["machine_cores"] for r in runs])
    print(f"Machine idle before the runs: {', '.join(f'{x:.0%}' for x in idle)}; busy in the window: {busy:.2f} cores")
    for number, surge in enumerate(setup.get("surges", []), start=1):
        print_surge(args, number, surge)
    spy = setup.get("spy")
    if spy:
        print_spy(spy)
    profile = setup.get("profile")
    if profile:
        print(profile["tottime"])
        print(profile["cumulative"])
        print(f"\nIn-process, one journey at a time, medians over {args.profile} journeys:\n")
        print_table([("Page", "server CPU ms", "SQL statements"), *profile["table"]])


def print_table(rows: list[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for i, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)) + " |")
        if i == 0:
            print("| " + " | ".join("-" * w for w in widths) + " |")


def print_surge(args: argparse.Namespace, number: int, surge: dict[str, Any]) -> None:
    during = surge["during"]
    failures = surge["failures"]
    print(
        f"\nSurge {number}: {args.surge} citizens for {args.surge_seconds:.0f} s, then {args.users} "
        f"(machine {surge['idle_before']:.0%} idle before): during it p50 {during['p50']:.0f} ms, p95 "
        f"{during['p95']:.0f} ms over {during['count']} answered requests, {during['refused']} refused with "
        f"503 + Retry-After; failures of any other kind: {sum(failures.values())}; renewals completed "
        f"{surge['journeys'].get('completed', 0)}"
    )
    for key, count in sorted(failures.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  failure ×{count}: {key}")
    recovered = surge["recovered_after_s"]
    print(
        "  after the surge fell: p95 per 5 s "
        + ", ".join(
            f"{b['p95']:.0f}" + (f" ({b['refused']} refused)" if b["refused"] else "") for b in surge["buckets"]
        )
        + f" ms; p95 from 10 s on {surge['after_10s_p95']:.0f} ms; "
        + (
            f"under {TARGET_P95_MS:.0f} ms from {recovered:.0f} s on"
            if recovered is not None
            else "never back under target"
        )
    )


def print_spy(spy: dict[str, Any]) -> None:
    if "error" in spy:
        print(f"\npy-spy: {spy['error']}")
        return
    print(f"\npy-spy, {spy['samples']:,} samples of active threads in every worker under the same load:")
    for title, key in (
        ("by view", "views"),
        ("by kind of work (innermost frame)", "kinds"),
        ("inside", "inside"),
        ("on top of the stack", "self"),
    ):
        print(f"  {title}:")
        for name, share in spy[key]:
            print(f"    {share:6.1%}  {name[:150]}")


if __name__ == "__main__":
    main()
