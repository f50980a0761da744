"""Latency of "My profile" (``/my/profile``): the person's data assembled live from four agencies'
registers through the exchange, for a signed-in citizen; and, as the reference in the same run, the
person read alone through the exchange's ``/r1/`` interface (the first of the profile's four calls),
at the gateway's information-system listener (``gov21.wsgi:clients``, never the public port).

    .venv/bin/python bench/profile_latency.py [--people 20000] [--concurrency 10] [--seconds 20] [--runs 3]

Prepares a scratch data directory and ``--citizens`` citizens with accounts and licences as
``bench/portal_load.py`` does, starts gunicorn the same way (3 workers × 4 threads) for the portal
and for the client interface (the portal's system registered for plain HTTP from loopback), and signs each
citizen in through the OpenID Connect provider over HTTP (password, authenticator code). Then, per
run, headless locust (``bench/portal_locust.py``) drives, one after the other and for ``--seconds``
each, with no pause between requests (a closed loop):

- ``my profile``: ``GET /my/profile`` with a citizen's portal session; the page must show the
  citizen's licence and no part that failed;
- ``person read through the exchange``: ``GET /r1/XA/GOV/CRO/civil-registry/persons/{uin}`` as
  ``XA/GOV/PORTAL/portal`` (signed, rights-checked, logged at both ends, a data-use record);
- ``healthz``: the floor of a Django request on this server;

first with 1 user (sequential), then with ``--concurrency`` users. Reported: p50/p95/p99 and
requests/s of each, medians over ``--runs``, the ratio of the profile to the person read, and
``--profile N``: the CPU and SQL statements of each in-process, one at a time.

Every load is bounded in time and targets 127.0.0.1 only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from portal_load import (
    CpuSampler,
    PageMeter,
    browser_sign_in,
    citizens_prepare,
    django_setup,
    free_port,
    idle_wait,
    inprocess_client,
    journey_in_process,
    locust_run,
    nation_prepare,
    print_spy,
    print_table,
    server_start,
    server_stop,
    spy_summary,
    stop_on_sigterm,
    summarise,
)

TARGET_P95_MS = 100.0
TARGETS = (("ProfileViewer", "my profile"), ("PersonRead", "person read through the exchange"), ("Health", "healthz"))


def main() -> None:
    stop_on_sigterm()
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data-dir", type=Path, help="Data directory to use (default: a temporary one).")
    parser.add_argument("--people", type=int, default=20000, help="Size of the demo nation.")
    parser.add_argument("--citizens", type=int, default=10, help="Signed-in citizens the users take in turn.")
    parser.add_argument("--concurrency", type=int, default=10, help="Users of the concurrent measurement.")
    parser.add_argument("--seconds", type=float, default=20, help="Measurement window of each load.")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--workers", type=int, default=3, help="gunicorn workers (gov21 up: 3).")
    parser.add_argument(
        "--threads", type=int, default=0, help="Threads per worker (default 0: gov21 up's flags, core.capacity)."
    )
    parser.add_argument("--idle", type=float, default=0.8, help="Idle share of the machine to wait for.")
    parser.add_argument("--idle-limit", type=float, default=180, help="Longest wait for it (s).")
    parser.add_argument("--profile", type=int, default=0, metavar="N", help="Then N requests of each in-process.")
    parser.add_argument("--py-spy", type=Path, metavar="PY_SPY", help="py-spy binary: sample one more profile load.")
    parser.add_argument("--py-spy-out", type=Path, help="Keep py-spy's collapsed stacks in this file.")
    parser.add_argument("--json", action="store_true", help="Also print every run as JSON.")
    args = parser.parse_args()

    began = time.monotonic()
    own_dir = args.data_dir is None
    data_dir = Path(tempfile.mkdtemp(prefix="gov21-bench-profile-")) if own_dir else args.data_dir.resolve()
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        runs, extra = measure(args, data_dir)
    finally:
        if own_dir:
            shutil.rmtree(data_dir, ignore_errors=True)
    report(args, runs, extra, time.monotonic() - began)


def measure(args: argparse.Namespace, data_dir: Path) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    extra: dict[str, Any] = {"nation_s": nation_prepare(data_dir, base_url, args.people)}
    django_setup(data_dir, base_url)
    citizens = citizens_prepare(args.citizens)
    server = server_start(data_dir, port, workers=args.workers, threads=args.threads)
    # The person read goes to the exchange's own listener, as the portal's information system
    # registered for plain HTTP from loopback.
    from django.core.management import call_command

    call_command("exchange", "node", "client", "set", "XA/GOV/PORTAL/portal", "--connection", "http")
    client_port = free_port()
    clients = server_start(
        data_dir, client_port, workers=args.workers, threads=args.threads, app="gov21.wsgi:clients", base_url=base_url
    )
    ports = {"PersonRead": client_port}
    sampler = CpuSampler(server, clients)
    runs: list[dict[str, Any]] = []
    try:
        sessions = []
        for citizen in citizens:
            web = browser_sign_in(base_url, citizen)
            cookie = "; ".join(f"{name}={value}" for name, value in web.cookies.items())
            sessions.append({"uin": citizen["uin"], "licence": citizen["licence"], "cookie": cookie})
            web.close()
        sessions_file = data_dir / "bench-sessions.json"
        sessions_file.write_text(json.dumps(sessions), encoding="utf-8")
        common = {"spawn_rate": 50.0, "scratch": data_dir, "env": {"PORTAL_BENCH_SESSIONS": str(sessions_file)}}
        for user_class, _ in TARGETS:  # warm-up: every worker's imports, templates, keys, connections
            locust_run(ports.get(user_class, port), user_class=user_class, users=args.concurrency, seconds=3, **common)
        for _ in range(args.runs):
            run: dict[str, Any] = {"idle_before": idle_wait(idle=args.idle, seconds=10, limit=args.idle_limit)}
            for users, mode in ((1, "sequential"), (args.concurrency, "concurrent")):
                for user_class, name in TARGETS:
                    raw = locust_run(
                        ports.get(user_class, port), user_class=user_class, users=users, seconds=args.seconds, **common
                    )
                    result = summarise(raw)
                    opened = raw["window_opened"] or time.time()
                    server_s, machine_s = sampler.between(opened, opened + args.seconds)
                    result["server_cores"] = server_s / args.seconds
                    result["machine_cores"] = machine_s / args.seconds
                    result["server_cpu_ms_per_request"] = (
                        server_s * 1000 / result["overall"]["count"] if result["overall"]["count"] else float("nan")
                    )
                    run[f"{mode}/{name}"] = result
            runs.append(run)
            seq, conc = run["sequential/my profile"]["overall"], run["concurrent/my profile"]["overall"]
            ref_seq = run["sequential/person read through the exchange"]["overall"]
            ref_conc = run["concurrent/person read through the exchange"]["overall"]
            print(
                f"run {len(runs)}: profile p95 {seq['p95']:.1f} ms sequential, {conc['p95']:.1f} ms at "
                f"{args.concurrency}; person read p95 {ref_seq['p95']:.1f} / {ref_conc['p95']:.1f} ms",
                flush=True,
            )
        if args.py_spy:
            extra["spy"] = _spy(args, server, port, common)
    finally:
        sampler.close()
        server_stop(server)
        server_stop(clients)
    if args.profile:
        extra["profile"] = _in_process(base_url, citizens[0], args.profile)
    return runs, extra


def _spy(args: argparse.Namespace, server: Any, port: int, common: dict[str, Any]) -> dict[str, Any]:
    import subprocess

    collapsed = Path(common["scratch"]) / "py-spy-profile.txt"
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
            str(int(args.seconds)),
            "--output",
            str(collapsed),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        raw = locust_run(port, user_class="ProfileViewer", users=args.concurrency, seconds=args.seconds, **common)
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


def _in_process(base_url: str, citizen: dict[str, Any], count: int) -> list[tuple[str, str, str]]:
    """CPU and SQL statements of the profile and of the person read, one request at a time."""
    from django.db import connections

    meter = PageMeter(inprocess_client(base_url))
    journey_in_process(meter, citizen)  # signs the client in (and renews the licence once more)
    meter.cpu.clear()
    meter.queries.clear()
    headers = {
        "HTTP_X_ROAD_CLIENT": "XA/GOV/PORTAL/portal",
        "HTTP_X_ROAD_USERID": citizen["uin"],
        "HTTP_X_ROAD_ISSUE": "the person's own profile",
    }
    web = meter.web
    for record in [False] * 3 + [True] * count:
        meter.record = record
        meter("my profile", "GET", "/my/profile", expect=200)
        meter.web = _ClientInterface(headers)
        meter("person read through the exchange", "GET", f"/r1/XA/GOV/CRO/civil-registry/persons/{citizen['uin']}")
        meter.web = web
        meter("healthz", "GET", "/healthz", expect=200)
    connections.close_all()
    return meter.table()


class _ClientInterface:
    """The exchange's information-system listener (``gov21.wsgi:clients``) called in this process
    from loopback, with the exchange's headers on each GET."""

    def __init__(self, headers: dict[str, str]) -> None:
        self.headers = headers

    def get(self, path: str) -> Any:
        import io
        from types import SimpleNamespace
        from wsgiref.util import setup_testing_defaults

        from gov21.wsgi import clients

        environ: dict[str, Any] = {
            "REQUEST_METHOD": "GET",
            "PATH_INFO": path,
            "QUERY_STRING": "",
            "REMOTE_ADDR": "127.0.0.1",
            "wsgi.input": io.BytesIO(b""),
            **self.headers,
        }
        setup_testing_defaults(environ)
        status: list[int] = []
        body = b"".join(clients(environ, lambda line, headers: status.append(int(line.split()[0]))))
        if status[0] != 200:
            raise SystemExit(f"person read: {status[0]} {body[:300]!r}")
        return SimpleNamespace(status_code=status[0], content=body)


def report(args: argparse.Namespace, runs: list[dict[str, Any]], extra: dict[str, Any], elapsed: float) -> None:
    def med(key: str, *path: str) -> float:
        values = []
        for run in runs:
            value: Any = run[key]
            for p in path:
                value = value[p]
            values.append(value)
        return statistics.median(values)

    if args.json:
        print(json.dumps({"args": {k: str(v) for k, v in vars(args).items()}, "runs": runs}, indent=2, default=str))
    print(
        f'\n"My profile" latency: gunicorn {args.workers} workers × {args.threads} threads, a nation of '
        f"{args.people:,}, {args.runs} runs of {args.seconds:.0f} s per load, closed loop, medians "
        f"({elapsed:.0f} s in all)\n"
    )
    rows: list[tuple[str, ...]] = [
        ("Load", "users", "requests/s", "p50 ms", "p95 ms", "p99 ms", "failures", "server CPU ms/req", "p95 / person")
    ]
    for users, mode in ((1, "sequential"), (args.concurrency, "concurrent")):
        ref = med(f"{mode}/person read through the exchange", "overall", "p95")
        for _, name in TARGETS:
            key = f"{mode}/{name}"
            rows.append(
                (
                    name,
                    str(users),
                    f"{med(key, 'rps'):.1f}",
                    f"{med(key, 'overall', 'p50'):.1f}",
                    f"{med(key, 'overall', 'p95'):.1f}",
                    f"{med(key, 'overall', 'p99'):.1f}",
                    str(sum(r[key]["overall"]["failures"] for r in runs)),
                    f"{med(key, 'server_cpu_ms_per_request'):.1f}",
                    f"{med(key, 'overall', 'p95') / ref:.1f}×",
                )
            )
    print_table(rows)
    for users, mode in ((1, "sequential"), (args.concurrency, "concurrent")):
        p95 = med(f"{mode}/my profile", "overall", "p95")
        verdict = "met" if p95 <= TARGET_P95_MS else "NOT met"
        print(f"Target p95 ≤ {TARGET_P95_MS:.0f} ms, {users} user(s): {p95:.1f} ms, {verdict}")
    idle = [r["idle_before"] for r in runs]
    print(f"Machine idle before the runs: {', '.join(f'{x:.0%}' for x in idle)}")
    outside = sum(sum(r[k]["failures_outside_window"].values()) for r in runs for k in r if "/" in k)
    print(f"Failures outside the windows: {outside}")
    failures: dict[str, int] = {}
    for run in runs:
        for key, result in run.items():
            if "/" in key:
                for what, count in {**result["failures"], **result["failures_outside_window"]}.items():
                    failures[what] = failures.get(what, 0) + count
    for what, count in sorted(failures.items(), key=lambda kv: -kv[1])[:10]:
        print(f"  ×{count}: {what}")
    if extra.get("spy"):
        print_spy(extra["spy"])
    if extra.get("profile"):
        print(f"\nIn-process, one request at a time, medians over {args.profile}:\n")
        print_table([("Request", "server CPU ms", "SQL statements"), *extra["profile"]])


if __name__ == "__main__":
    main()
