"""Load test of the registry API against a seeded data directory, with a bare-Django reference.

    GOV21_DATA_DIR=var/bench1m [GOV21_DATABASE_URL=...] .venv/bin/python bench/run_api.py --runs 3

Starts gunicorn on 127.0.0.1 (bench settings, which add the bare reference view), then drives it
with wrk from a separate process: person reads through the API, the same reads through the bare
view, and name searches. Each load is bounded in time; medians over ``--runs`` are reported.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

HERE = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["PYTHONPATH"] = f"{HERE}{os.pathsep}{env.get('PYTHONPATH', '')}"
    return env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _samples(count: int) -> tuple[list[str], list[str]]:
    sys.path.insert(0, str(HERE))
    os.environ.update(_env())
    import django

    django.setup()
    from gov21.registry.models import Person

    top = Person.objects.order_by("-id").values_list("id", flat=True).first() or 0
    rng = random.Random(21)
    ids = [rng.randint(1, top) for _ in range(count)]
    rows = list(Person.objects.filter(id__in=ids).values_list("uin", "given_names", "family_name"))
    uins = [r[0] for r in rows]
    names = [f"{r[1].split()[0]} {r[2]}" for r in rows[: max(1, count // 5)]]
    return uins, names


def _token() -> str:
    out = subprocess.run(
        [str(BIN / "gov21"), "token", "create", "--role", "reader", "--name", "bench", "--expires", "1d"],
        env=_env(),
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def _wait(port: int, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit("server did not start")


def _wrk(port: int, paths_file: Path, token: str, *, seconds: int, connections: int, threads: int) -> dict[str, Any]:
    env = {**os.environ, "PATHS_FILE": str(paths_file), "TOKEN": token}
    out = subprocess.run(
        [
            shutil.which("wrk") or "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "5s",
            "-s",
            str(HERE / "wrk_paths.lua"),
            f"http://127.0.0.1:{port}",
        ],
        env=env,
        check=True,
        capture_output=True,
        text=True,
        timeout=seconds + 30,
    )
    match = re.search(r"^RESULT (.*)$", out.stdout, re.MULTILINE)
    if not match:
        raise SystemExit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")
    result: dict[str, Any] = json.loads(match.group(1))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--threads", type=int, default=1, help="wrk's threads.")
    parser.add_argument(
        "--threads-per-worker",
        type=int,
        default=0,
        help="gunicorn threads per worker (default 0: gov21 up's flags, core.capacity; 1: sync workers).",
    )
    parser.add_argument("--only", choices=("api", "bare", "search"), action="append", help="Measure only these.")
    parser.add_argument(
        "--search-connections", type=int, default=4, help="Searches are measured for latency at a moderate load."
    )
    parser.add_argument("--samples", type=int, default=20000)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    uins, names = _samples(args.samples)
    token = _token()
    tmp = Path(tempfile.mkdtemp(prefix="gov21-bench-"))
    api_paths = tmp / "api.txt"
    api_paths.write_text("".join(f"/api/v1/registry/persons/{u}\n" for u in uins))
    bare_paths = tmp / "bare.txt"
    bare_paths.write_text("".join(f"/bench/bare/persons/{u}\n" for u in uins))
    search_paths = tmp / "search.txt"
    search_paths.write_text("".join(f"/api/v1/registry/persons?name={quote(n)}&limit=20\n" for n in names))

    port = _free_port()
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
    if args.threads_per_worker == 0:  # as gov21 up starts it: gthread workers behind the request gate
        from gov21.core.capacity import gunicorn_capacity

        command += gunicorn_capacity()
    elif args.threads_per_worker > 1:
        command += ["--threads", str(args.threads_per_worker)]
    server = subprocess.Popen(command, env=_env())
    results: dict[str, list[dict[str, Any]]] = {"api": [], "bare": [], "search": []}
    try:
        _wait(port)
        plan = tuple(
            step
            for step in (
                ("api", api_paths, args.connections),
                ("bare", bare_paths, args.connections),
                ("search", search_paths, args.search_connections),
            )
            if not args.only or step[0] in args.only
        )
        for _, paths, connections in plan:
            _wrk(port, paths, token, seconds=3, connections=connections, threads=args.threads)
        for _ in range(args.runs):
            for key, paths, connections in plan:
                results[key].append(
                    _wrk(port, paths, token, seconds=args.seconds, connections=connections, threads=args.threads)
                )
    finally:
        server.terminate()
        server.wait(timeout=20)

    def med(key: str, field: str) -> float:
        return statistics.median(r[field] for r in results[key])

    summary = {
        key: {f: med(key, f) for f in ("rps", "p50_ms", "p95_ms", "p99_ms")}
        | {"non2xx": sum(r["non2xx"] for r in results[key])}
        for key in results
        if results[key]
    }
    if "api" in summary and "bare" in summary:
        summary["ratio_api_to_bare"] = {"rps": summary["api"]["rps"] / summary["bare"]["rps"]}
    print(json.dumps({"args": vars(args), "runs": results, "median": summary}, indent=2))


if __name__ == "__main__":
    main()
