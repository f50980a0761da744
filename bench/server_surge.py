"""The production server under a surge: how fast it answers below capacity, whether it refuses
the excess with 503 and Retry-After instead of letting it wait, and how soon it is fast again.

    .venv/bin/python bench/server_surge.py [--servers gthread-before,gthread,granian] [--runs 3]
        [--shape 8:8,200:12,8:12] [--path /] [--granian /tmp/srv]

Prepares a scratch data directory as ``gov21 up --no-serve`` does (a small demo nation), then for
each server and run: starts it on 127.0.0.1 (3 workers, as ``gov21 up``), runs a headless locust
(``bench/surge_locust.py``) whose users ask for ``--path`` with 0.1–0.3 s between requests through
the phases of ``--shape`` (users:seconds: a few, a surge, a few again), and reports per phase the
answers per second, p50/p95/p99 of the 200s, the 503s that said when to come back, every other
failure (any other status, a timeout, a refused connection), the server's CPU, and how many
seconds after the surge the p95 of each one-second window was back under 200 ms. Medians over
``--runs``.

Servers:

- ``gthread-before``: gunicorn gthread, 4 threads per worker and nothing refused (the request gate
  opened wide), as ``gov21 up`` ran before.
- ``gthread``: gunicorn gthread as ``gov21 up`` runs it now: more threads than the request gate has
  slots and queue places, a bounded number of connections per worker and a short backlog.
- ``granian``: granian's WSGI interface with the same request gate (``--granian``: a directory it
  was installed into, e.g. ``uv pip install --target /tmp/srv granian``; never a dependency).

Everything runs on 127.0.0.1 and is bounded in time; the scratch directory is removed at the end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
SRC = Path(os.environ.get("BENCH_SRC", str(HERE.parent / "src")))

from portal_load import BIN, free_port, nation_prepare, server_cpu, server_env, wait_port  # noqa: E402

TARGET_P95_MS = 200.0


def _gov21_up_flags() -> list[str]:
    sys.path.insert(0, str(SRC))
    from gov21.core.capacity import gunicorn_capacity

    return gunicorn_capacity()


def server_start(kind: str, data_dir: Path, port: int, granian: str) -> subprocess.Popen[bytes]:
    env = server_env(data_dir, f"http://127.0.0.1:{port}")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(SRC), env.get("PYTHONPATH", "")]))
    if kind == "gthread-before":
        env["GOV21_WEB_SLOTS"] = "100000"
        command = [str(BIN / "gunicorn"), "gov21.wsgi:application", "--workers", "3", "--threads", "4"]
    elif kind == "gthread":
        command = [str(BIN / "gunicorn"), "gov21.wsgi:application", "--workers", "3", *_gov21_up_flags()]
    elif kind == "granian":
        env["PYTHONPATH"] = os.pathsep.join([granian, env["PYTHONPATH"]])
        threads = os.environ.get("GOV21_WEB_THREADS", "16")
        command = [
            *(sys.executable, "-m", "granian", "--interface", "wsgi", "gov21.wsgi:application"),
            *("--workers", "3", "--blocking-threads", threads, "--backpressure", threads, "--log-level", "warning"),
            *("--host", "127.0.0.1", "--port", str(port)),
        ]
    else:
        raise SystemExit(f"unknown server {kind}")
    if kind.startswith("gthread"):
        command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning"]
    server = subprocess.Popen(command, env=env)
    wait_port(port)
    return server


def server_stop(server: subprocess.Popen[bytes]) -> None:
    server.terminate()
    try:
        server.wait(timeout=20)
    except subprocess.TimeoutExpired:
        server.kill()


def _p(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def summarise(answers: list[list[Any]], phases: list[tuple[int, int]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    start = 0.0
    for index, (users, seconds) in enumerate(phases):
        inside = [a for a in answers if start <= a[0] < start + seconds]
        ok = [a[2] for a in inside if a[1] == 200]
        result[f"phase{index}"] = {
            "users": users,
            "per_s": round(len(inside) / seconds, 1),
            "ok_p50": round(_p(ok, 0.50), 1),
            "ok_p95": round(_p(ok, 0.95), 1),
            "ok_p99": round(_p(ok, 0.99), 1),
            "refused_503": sum(1 for a in inside if a[3]),
            "refused_p95": round(_p([a[2] for a in inside if a[3]], 0.95), 1),
            "failed": sum(1 for a in inside if a[1] != 200 and not a[3]),
        }
        start += seconds
    # Seconds after the surge (the second phase) ends until a one-second window's p95 is under target.
    if len(phases) >= 3:
        surge_end = phases[0][1] + phases[1][1]
        recovered = None
        for second in range(phases[2][1]):
            window = [a[2] for a in answers if surge_end + second <= a[0] + a[2] / 1000 < surge_end + second + 1]
            if window and _p(window, 0.95) <= TARGET_P95_MS:
                recovered = second + 1
                break
        result["recovered_after_s"] = recovered
    return result


def one_run(kind: str, data_dir: Path, args: argparse.Namespace, phases: list[tuple[int, int]]) -> dict[str, Any]:
    port = free_port()
    server = server_start(kind, data_dir, port, args.granian)
    out = data_dir / f"answers-{kind}.json"
    try:
        # Warm up: every worker imports and connects before the measurement.
        for _ in range(30):
            with urllib.request.urlopen(f"http://127.0.0.1:{port}{args.path}") as answer:
                answer.read()
        cpu0 = server_cpu(server)
        env = {
            **os.environ,
            "SURGE_PATH": args.path,
            "SURGE_SHAPE": args.shape,
            "SURGE_OUT": str(out),
        }
        total = sum(seconds for _, seconds in phases)
        subprocess.run(
            [
                *(str(BIN / "locust"), "-f", str(HERE / "surge_locust.py"), "--headless", "--only-summary"),
                *("--host", f"http://127.0.0.1:{port}", "--loglevel", "ERROR", "--stop-timeout", "35"),
            ],
            env=env,
            check=False,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=total + 120,
        )
        cpu = server_cpu(server) - cpu0
    finally:
        server_stop(server)
    answers = json.loads(out.read_text(encoding="utf-8"))
    summary = summarise(answers, phases)
    summary["server_cpu_s"] = round(cpu, 1)
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", default="gthread-before,gthread,granian")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--shape", default="8:8,200:12,8:12")
    parser.add_argument("--path", default="/")
    parser.add_argument("--people", type=int, default=300)
    parser.add_argument("--granian", default="/tmp/srv")
    parser.add_argument("--data-dir", type=Path)
    args = parser.parse_args()
    phases = [(int(u), int(s)) for u, s in (part.split(":") for part in args.shape.split(","))]
    data_dir = args.data_dir or Path(tempfile.mkdtemp(prefix="gov21-surge-"))
    try:
        if not (data_dir / "gov21.sqlite3").exists():
            nation_prepare(data_dir, "http://127.0.0.1:8000", args.people)
        for kind in args.servers.split(","):
            runs = [one_run(kind, data_dir, args, phases) for _ in range(args.runs)]
            for run in runs:
                print(json.dumps({"server": kind, "path": args.path, **run}), flush=True)
            median: dict[str, Any] = {"server": kind, "path": args.path, "median_of": len(runs)}
            for key, value in runs[0].items():
                if isinstance(value, dict):
                    median[key] = {k: statistics.median(r[key][k] for r in runs) for k in value if k != "users"} | {
                        "users": value["users"]
                    }
                elif isinstance(value, (int, float)) and key != "recovered_after_s":
                    median[key] = statistics.median(r[key] for r in runs)
                else:
                    median[key] = [r[key] for r in runs]
            print(json.dumps(median), flush=True)
    finally:
        if args.data_dir is None:
            shutil.rmtree(data_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
