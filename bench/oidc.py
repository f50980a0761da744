"""OpenID Connect sign-in throughput: complete code flows (authorize → token → userinfo) for a person
already signed in at the provider, and userinfo alone, against a real server.

    .venv/bin/python bench/oidc.py [--data-dir DIR] [--workers 2] [--clients 4] [--seconds 20] [--runs 3]
    GOV21_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_oidc .venv/bin/python bench/oidc.py

Prepares a fresh data directory (a temporary one unless ``--data-dir`` is given; SQLite, or the
PostgreSQL database in ``GOV21_DATABASE_URL``, which should be empty): migrates, registers one person,
activates their account with an authenticator app (TOTP) through the real services, and registers a
relying party that authenticates with ``private_key_jwt`` (an EC P-256 key made for the run). Then
starts gunicorn on 127.0.0.1 (bench settings, which add the bare reference view), signs in once over
HTTP (password, then TOTP code) and grants consent once, keeping the provider's session cookie.

- Flows: ``--clients`` processes, each with its own connection, loop over the whole code flow with
  PKCE (S256), an ES256 client assertion with a fresh ``jti`` per token request, and the userinfo
  call, checking every answer. Complete flows per second over ``--seconds``; median of ``--runs``.
- Userinfo: wrk (Debian's ``/usr/bin/wrk``) against ``/oidc/userinfo`` with one valid access token,
  and against the bare person-read view of ``bench_urls`` (token lookup, the same person row and an
  access-log insert in hand-written SQL) as a reference; median of ``--runs``.
- ``--profile N`` afterwards runs N flows in this process through Django's test client under
  cProfile and prints the CPU each endpoint costs on the server and the top functions.

Every load is bounded in time and the server is stopped at the end. Nothing is written to the repository.
"""

from __future__ import annotations

import argparse
import base64
import cProfile
import hashlib
import http.client
import io
import json
import multiprocessing
import os
import pstats
import re
import secrets
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, quote, urlencode, urlsplit

from run_api import _free_port, _wait
from run_api import _wrk as run_api_wrk

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
REDIRECT_URI = "http://127.0.0.1:9/cb"
PASSWORD = "correct horse battery staple"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def _env(data_dir: Path, base_url: str) -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["PYTHONPATH"] = f"{HERE}{os.pathsep}{env.get('PYTHONPATH', '')}"
    env["GOV21_DATA_DIR"] = str(data_dir)
    env["GOV21_BASE_URL"] = base_url  # the issuer: must be the address the clients call
    return env


# --- preparation (in this process, before the server starts) ---------------------------------------


def _prepare(data_dir: Path, base_url: str) -> dict[str, Any]:
    """Migrate, and create the person, their account with TOTP, an API token and the relying party."""
    os.environ.update(_env(data_dir, base_url))
    sys.path.insert(0, str(HERE))
    import django

    django.setup()
    from datetime import date, timedelta

    from django.core.management import call_command
    from django.db import connections
    from joserfc.jwk import ECKey

    from gov21.core.principal import Principal
    from gov21.identity import totp
    from gov21.identity.services import (
        account_activate,
        activation_code_issue,
        client_register,
        token_create,
        totp_enrol_begin,
        totp_enrol_confirm,
    )
    from gov21.registry import services as registry
    from gov21.registry.models import Person
    from gov21.registry.records import BirthFacts

    call_command("migrate", verbosity=0)
    from gov21.exchange.contracts import exchange_bootstrap

    exchange_bootstrap()  # claims are read from the registry through the exchange, as under `gov21 up`
    officer = Principal(name="bench.officer", kind="staff", roles=frozenset({"registrar"}))
    # A different birth date each run, so that a reused database does not hold the person as a duplicate.
    born = date(1960, 1, 1) + timedelta(days=secrets.randbelow(15000))
    event = registry.register_birth(
        birth=BirthFacts.model_validate(
            {
                "given_names": "Amara Keisha",
                "family_name": "Baptiste",
                "sex": "F",
                "birth_date": born.isoformat(),
                "birth_parish": "XA-01",
                "birth_settlement": "Port Royal",
                "address_parish": "XA-01",
                "address_settlement": "Port Royal",
                "address_line": "1 Bay Street",
            }
        ),
        actor=officer,
    )
    assert event.subject is not None
    uin = Person.objects.get(pk=event.subject.pk).uin
    code = activation_code_issue(uin=uin, officer=officer)
    account = account_activate(uin=uin, code=code, password=PASSWORD, source="bench")
    secret = totp_enrol_begin(account=account)
    step = totp.step_at(time.time()) - 1
    totp_enrol_confirm(account=account, code=totp.hotp(totp._key(secret), step), source="bench")

    key = ECKey.generate_key("P-256", private=True)
    kid = key.thumbprint()
    client_id = f"bench-oidc-{secrets.token_hex(4)}"
    client_register(
        client_id=client_id,
        name="Benchmark relying party",
        agency="Benchmark agency",
        sector="bench",
        purpose="Measure sign-in throughput",
        redirect_uris=[REDIRECT_URI],
        scopes=["openid", "profile"],
        auth_method="private_key_jwt",
        jwks={"keys": [{**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": "ES256"}]},
        created_by="bench",
    )
    api_token = token_create(name="bench", role="reader", lifetime=timedelta(days=1), created_by="bench").token
    connections.close_all()
    return {
        "uin": uin,
        "totp_secret": secret,
        "totp_step": step,
        "client_id": client_id,
        "kid": kid,
        "private_jwk": key.as_dict(private=True),
        "api_token": api_token,
    }


def _csrf(html: str) -> str:
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html)
    if not match:
        raise SystemExit("no CSRF token on the page")
    return match.group(1)


def _authorize_path(client_id: str) -> tuple[str, str, str]:
    """An authorization request with fresh state, nonce and PKCE; returns (path, state, verifier)."""
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    state = secrets.token_urlsafe(12)
    params = {
        "response_type": "code",
        "client_id": client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": "openid profile",
        "state": state,
        "nonce": secrets.token_urlsafe(12),
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    }
    return f"/oidc/authorize?{urlencode(params, quote_via=quote)}", state, verifier


def _sign_in(base_url: str, prep: dict[str, Any]) -> str:
    """Sign in once at the provider (password, TOTP), consent once; the provider's session cookie."""
    import httpx2

    from gov21.identity import totp

    with httpx2.Client(base_url=base_url, follow_redirects=False, timeout=30) as web:
        page = web.get("/auth/sign-in")
        response = web.post(
            "/auth/sign-in",
            data={"identifier": prep["uin"], "password": PASSWORD, "csrfmiddlewaretoken": _csrf(page.text)},
        )
        if response.status_code != 302 or not response.headers["location"].startswith("/auth/verify"):
            raise SystemExit(f"sign-in failed: {response.status_code} {response.text[:500]}")
        page = web.get(response.headers["location"])
        step = max(prep["totp_step"] + 1, totp.step_at(time.time()) - 1)
        response = web.post(
            "/auth/verify",
            data={
                "code": totp.hotp(totp._key(prep["totp_secret"]), step),
                "next": "/auth/account",
                "csrfmiddlewaretoken": _csrf(page.text),
            },
        )
        if response.status_code != 302:
            raise SystemExit(f"second factor failed: {response.status_code} {response.text[:500]}")
        path, _, _ = _authorize_path(prep["client_id"])
        page = web.get(path)
        if page.status_code != 200 or 'name="decision"' not in page.text:
            raise SystemExit(f"expected the consent page: {page.status_code} {page.text[:500]}")
        response = web.post(path, data={"decision": "allow", "csrfmiddlewaretoken": _csrf(page.text)})
        if response.status_code != 302 or not response.headers["location"].startswith(REDIRECT_URI + "?code="):
            raise SystemExit(f"consent failed: {response.status_code} {response.headers.get('location')}")
        cookie = web.cookies.get("sessionid")
    if not cookie:
        raise SystemExit("no session cookie after sign-in")
    return str(cookie)


# --- the client side of a flow (also used in the load processes) ------------------------------------


class FlowClient:
    """One relying party's connection doing complete code flows for the signed-in person."""

    def __init__(self, port: int, issuer: str, prep: dict[str, Any], session: str) -> None:
        from joserfc.jwk import ECKey

        self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        self.issuer = issuer
        self.client_id = prep["client_id"]
        self.kid = prep["kid"]
        self.key = ECKey.import_key(prep["private_jwk"])
        self.cookie = f"sessionid={session}"

    def _request(self, method: str, path: str, body: str | None = None, **headers: str) -> tuple[int, Any, bytes]:
        self.conn.request(method, path, body=body, headers=headers)
        response = self.conn.getresponse()
        return response.status, response, response.read()

    def assertion(self) -> str:
        from joserfc import jwt

        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.issuer,  # the provider accepts its issuer as the audience, nothing else
            "iat": now,
            "exp": now + 60,
            "jti": secrets.token_urlsafe(16),
        }
        return str(jwt.encode({"alg": "ES256", "kid": self.kid}, claims, self.key))

    def flow(self) -> tuple[list[float], dict[str, Any]]:
        """authorize → token → userinfo; the three latencies (s), and the token response."""
        times = []
        path, state, verifier = _authorize_path(self.client_id)
        started = time.perf_counter()
        status, response, body = self._request("GET", path, Cookie=self.cookie)
        location = response.getheader("Location") or ""
        if status != 302 or not location.startswith(REDIRECT_URI + "?"):
            raise RuntimeError(f"authorize: {status} {location} {body[:300]!r}")
        query = parse_qs(urlsplit(location).query)
        if query.get("state") != [state] or "code" not in query:
            raise RuntimeError(f"authorize: bad redirect {location}")
        times.append(time.perf_counter() - started)
        form = urlencode(
            {
                "grant_type": "authorization_code",
                "code": query["code"][0],
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": self.assertion(),
            }
        )
        started = time.perf_counter()
        status, _, body = self._request(
            "POST", "/oidc/token", body=form, **{"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status != 200:
            raise RuntimeError(f"token: {status} {body[:300]!r}")
        token = json.loads(body)
        if not token.get("access_token") or not token.get("id_token"):
            raise RuntimeError(f"token: no tokens in {body[:300]!r}")
        times.append(time.perf_counter() - started)
        started = time.perf_counter()
        status, _, body = self._request("GET", "/oidc/userinfo", Authorization=f"Bearer {token['access_token']}")
        if status != 200 or b'"sub"' not in body or b'"given_name"' not in body:
            raise RuntimeError(f"userinfo: {status} {body[:300]!r}")
        times.append(time.perf_counter() - started)
        return times, token


def _flow_worker(
    port: int,
    issuer: str,
    prep: dict[str, Any],
    session: str,
    start_at: float,
    seconds: float,
    queue: multiprocessing.Queue[dict[str, Any]],
) -> None:
    client = FlowClient(port, issuer, prep, session)
    steps: list[list[float]] = []
    error = ""
    time.sleep(max(0.0, start_at - time.time()))
    deadline = start_at + seconds
    cpu = time.process_time()
    try:
        while time.time() < deadline:
            times, _ = client.flow()
            if time.time() <= deadline:  # count only flows completed inside the window
                steps.append(times)
    except Exception as exc:  # report, don't hang the parent
        error = f"{type(exc).__name__}: {exc}"
    queue.put({"steps": steps, "error": error, "cpu": time.process_time() - cpu})


def _flows(
    port: int, issuer: str, prep: dict[str, Any], session: str, *, clients: int, seconds: float
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    queue: multiprocessing.Queue[dict[str, Any]] = context.Queue()
    start_at = time.time() + 1.5  # after every process has started and imported joserfc
    procs = [
        context.Process(target=_flow_worker, args=(port, issuer, prep, session, start_at, seconds, queue))
        for _ in range(clients)
    ]
    for p in procs:
        p.start()
    results = [queue.get(timeout=seconds + 60) for _ in procs]
    for p in procs:
        p.join(timeout=10)
    errors = [r["error"] for r in results if r["error"]]
    if errors:
        raise SystemExit(f"flows failed: {errors[:3]}")
    steps = [s for r in results for s in r["steps"]]
    if not steps:
        raise SystemExit(f"no flow completed within {seconds} s")
    totals = sorted(sum(s) for s in steps)

    def pct(values: list[float], q: float) -> float:
        return values[min(len(values) - 1, int(q * len(values)))] * 1000

    return {
        "flows": len(steps),
        "flows_per_s": len(steps) / seconds,
        "p50_ms": pct(totals, 0.50),
        "p99_ms": pct(totals, 0.99),
        "authorize_p50_ms": statistics.median(s[0] for s in steps) * 1000,
        "token_p50_ms": statistics.median(s[1] for s in steps) * 1000,
        "userinfo_p50_ms": statistics.median(s[2] for s in steps) * 1000,
        # CPU the load processes spent per flow (JWT signing, HTTP): small beside the server's.
        "client_cpu_ms_per_flow": sum(r["cpu"] for r in results) / max(1, len(steps)) * 1000,
    }


# --- wrk ------------------------------------------------------------------------------------------


def _wrk(port: int, path: str, token: str, *, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    """wrk through ``wrk_paths.lua`` (one path, ``Authorization: Bearer <token>``), as run_api.py runs it."""
    with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False) as paths:
        paths.write(path + "\n")
    try:
        result = run_api_wrk(port, Path(paths.name), token, seconds=seconds, connections=connections, threads=threads)
    finally:
        os.unlink(paths.name)
    if result["non2xx"] or result["errors"]:
        raise SystemExit(f"wrk against {path}: {result['non2xx']} non-2xx, {result['errors']} errors")
    return result


# --- in-process profile ---------------------------------------------------------------------------


def _profile(prep: dict[str, Any], session: str, issuer: str, count: int, top: int) -> dict[str, Any]:
    """Server-side CPU per endpoint over ``count`` in-process flows (no profiler: cProfile roughly
    doubles the cost), then cProfile's top functions over ``count`` more. 20 flows warm up first."""
    from django.db import connections
    from django.test import Client
    from joserfc.jwk import ECKey

    web = Client()
    web.cookies["sessionid"] = session
    helper = FlowClient.__new__(FlowClient)
    helper.issuer, helper.client_id, helper.kid = issuer, prep["client_id"], prep["kid"]
    helper.key = ECKey.import_key(prep["private_jwk"])
    cpu: dict[str, list[float]] = {"authorize": [], "token": [], "userinfo": []}
    profiler = cProfile.Profile()
    phase = {"name": "warm-up"}

    def call(name: str, request: Any) -> Any:
        if phase["name"] == "profile":
            profiler.enable()
        started = time.process_time()
        try:
            return request()
        finally:
            spent = time.process_time() - started
            profiler.disable()
            if phase["name"] == "time":
                cpu[name].append(spent)

    for phase["name"], flows in (("warm-up", 20), ("time", count), ("profile", count)):
        for _ in range(flows):
            path, _, verifier = _authorize_path(prep["client_id"])
            response = call("authorize", lambda path=path: web.get(path))
            assert response.status_code == 302, response.status_code
            code = parse_qs(urlsplit(response["Location"]).query)["code"][0]
            form = {
                "grant_type": "authorization_code",
                "code": code,
                "redirect_uri": REDIRECT_URI,
                "code_verifier": verifier,
                "client_assertion_type": ASSERTION_TYPE,
                "client_assertion": helper.assertion(),
            }
            response = call(
                "token",
                lambda form=form: web.post("/oidc/token", urlencode(form), "application/x-www-form-urlencoded"),
            )
            assert response.status_code == 200, response.content[:300]
            access = response.json()["access_token"]
            response = call(
                "userinfo", lambda access=access: web.get("/oidc/userinfo", HTTP_AUTHORIZATION=f"Bearer {access}")
            )
            assert response.status_code == 200, response.content[:300]
    connections.close_all()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    cumulative = io.StringIO()
    pstats.Stats(profiler, stream=cumulative).sort_stats("cumulative").print_stats(top)
    per = {name: statistics.median(values) * 1000 for name, values in cpu.items()}
    return {
        "cpu_ms_median": per,
        "flow_cpu_ms": sum(per.values()),
        "tottime": out.getvalue(),
        "cumulative": cumulative.getvalue(),
    }


# --- main -----------------------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="Fresh data directory (default: a temporary one).")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn worker processes.")
    parser.add_argument("--threads", type=int, default=1, help="Threads per worker (>1: gthread workers).")
    parser.add_argument("--clients", type=int, default=4, help="Concurrent flow processes.")
    parser.add_argument("--seconds", type=int, default=20, help="Length of each flow run.")
    parser.add_argument("--wrk-seconds", type=int, default=15, help="Length of each wrk run.")
    parser.add_argument("--connections", type=int, default=32, help="wrk connections.")
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="Profile N flows in-process afterwards.")
    parser.add_argument("--profile-top", type=int, default=25)
    parser.add_argument("--json", action="store_true", help="Also print every run as JSON.")
    args = parser.parse_args()
    if not (Path("/usr/bin/wrk").exists() or shutil.which("wrk")):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    began = time.monotonic()
    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="gov21-bench-oidc-")) if own_dir else args.data_dir.resolve()
    try:
        flows, userinfo, bare, profile = _measure(args, data_dir)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    _report(args, flows, userinfo, bare, profile, time.monotonic() - began)


def _measure(
    args: argparse.Namespace, data_dir: Path
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], list[dict[str, Any]], dict[str, Any] | None]:
    port = _free_port()
    issuer = f"http://127.0.0.1:{port}"
    prep = _prepare(data_dir, issuer)

    command = [
        str(BIN / "gunicorn"),
        "gov21.wsgi:application",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(args.workers),
        "--log-level",
        "warning",
    ]
    if args.threads > 1:
        command += ["--worker-class", "gthread", "--threads", str(args.threads)]
    server = subprocess.Popen(command, env=_env(data_dir, issuer))
    flows: list[dict[str, Any]] = []
    userinfo: list[dict[str, Any]] = []
    bare: list[dict[str, Any]] = []
    try:
        _wait(port)
        session = _sign_in(issuer, prep)
        _flows(port, issuer, prep, session, clients=args.clients, seconds=3)  # warm-up
        for _ in range(args.runs):
            flows.append(_flows(port, issuer, prep, session, clients=args.clients, seconds=args.seconds))
        # A fresh access token (valid ACCESS_TOKEN_SECONDS = 600 s) for the userinfo runs.
        _, token = FlowClient(port, issuer, prep, session).flow()
        token_until = time.monotonic() + int(token["expires_in"]) - 5
        needed = (args.runs + 1) * 2 * (args.wrk_seconds + 1)
        if time.monotonic() + needed > token_until:
            raise SystemExit("the wrk runs would outlast the access token: use fewer or shorter runs")
        userinfo_path = "/oidc/userinfo"
        bare_path = f"/bench/bare/persons/{prep['uin']}"
        wrk = {"seconds": args.wrk_seconds, "connections": args.connections, "threads": args.wrk_threads}
        _wrk(port, userinfo_path, token["access_token"], **{**wrk, "seconds": 3})
        _wrk(port, bare_path, prep["api_token"], **{**wrk, "seconds": 3})
        for _ in range(args.runs):
            userinfo.append(_wrk(port, userinfo_path, token["access_token"], **wrk))
            bare.append(_wrk(port, bare_path, prep["api_token"], **wrk))
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()

    profile = _profile(prep, session, issuer, args.profile, args.profile_top) if args.profile else None
    return flows, userinfo, bare, profile


def _report(
    args: argparse.Namespace,
    flows: list[dict[str, Any]],
    userinfo: list[dict[str, Any]],
    bare: list[dict[str, Any]],
    profile: dict[str, Any] | None,
    elapsed: float,
) -> None:
    database = "PostgreSQL" if os.environ.get("GOV21_DATABASE_URL") else "SQLite"

    def med(rows: list[dict[str, Any]], field: str) -> float:
        return statistics.median(r[field] for r in rows)

    summary = {
        "database": database,
        "flows_per_s": med(flows, "flows_per_s"),
        "flow_p50_ms": med(flows, "p50_ms"),
        "flow_p99_ms": med(flows, "p99_ms"),
        "authorize_p50_ms": med(flows, "authorize_p50_ms"),
        "token_p50_ms": med(flows, "token_p50_ms"),
        "userinfo_in_flow_p50_ms": med(flows, "userinfo_p50_ms"),
        "client_cpu_ms_per_flow": med(flows, "client_cpu_ms_per_flow"),
        "userinfo_rps": med(userinfo, "rps"),
        "userinfo_p50_ms": med(userinfo, "p50_ms"),
        "userinfo_p99_ms": med(userinfo, "p99_ms"),
        "bare_rps": med(bare, "rps"),
        "bare_p50_ms": med(bare, "p50_ms"),
        "bare_p99_ms": med(bare, "p99_ms"),
    }
    summary["ratio_userinfo_to_bare"] = summary["userinfo_rps"] / summary["bare_rps"]
    summary["ratio_to_esignet"] = summary["flows_per_s"] / 15
    if args.json:
        print(
            json.dumps(
                {
                    "args": {k: str(v) for k, v in vars(args).items()},
                    "flows": flows,
                    "userinfo": userinfo,
                    "bare": bare,
                    "median": summary,
                    "profile_cpu_ms": profile and profile["cpu_ms_median"],
                },
                indent=2,
            )
        )
    if profile:
        print(profile["tottime"])
        print(profile["cumulative"])
        print("Server CPU per request, in-process median (ms):", json.dumps(profile["cpu_ms_median"]))
        print(f"Server CPU per complete flow: {profile['flow_cpu_ms']:.1f} ms")
    workers = f"{args.workers} {'gthread x' + str(args.threads) if args.threads > 1 else 'sync'}"
    print(
        f"\nOpenID Connect, {database}, gunicorn {workers} workers, {args.clients} flow clients, "
        f"medians of {args.runs} runs ({elapsed:.0f} s in all)\n"
    )
    rows = [
        ("Measure", "Result", "Target"),
        (
            "Sign-in flows/s (authorize → token → userinfo)",
            f"{summary['flows_per_s']:.0f}",
            "≥ 150",
        ),
        ("… flow p50 / p99", f"{summary['flow_p50_ms']:.1f} / {summary['flow_p99_ms']:.1f} ms", ""),
        (
            "… step p50: authorize / token / userinfo",
            f"{summary['authorize_p50_ms']:.1f} / {summary['token_p50_ms']:.1f} / "
            f"{summary['userinfo_in_flow_p50_ms']:.1f} ms",
            "",
        ),
        ("… load-generator CPU per flow", f"{summary['client_cpu_ms_per_flow']:.1f} ms", ""),
        ("eSignet v1.4.1 (published)", "≈ 15", f"ratio {summary['ratio_to_esignet']:.1f}×"),
        (f"Userinfo requests/s (wrk, {args.connections} conn.)", f"{summary['userinfo_rps']:.0f}", "≥ 2,000"),
        ("… p50 / p99", f"{summary['userinfo_p50_ms']:.1f} / {summary['userinfo_p99_ms']:.1f} ms", ""),
        ("Bare person read (bench_urls), requests/s", f"{summary['bare_rps']:.0f}", "reference"),
        ("Ratio userinfo / bare", f"{summary['ratio_userinfo_to_bare']:.2f}", ""),
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for i, row in enumerate(rows):
        print("| " + " | ".join(cell.ljust(widths[j]) for j, cell in enumerate(row)) + " |")
        if i == 0:
            print("| " + " | ".join("-" * w for w in widths) + " |")


if __name__ == "__main__":
    main()
