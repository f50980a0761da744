"""CKAN's ``package_search`` served by gunicorn as ``gov21 up`` starts it, loaded by wrk on loopback.

    GOV21_DATA_DIR=D PYTHONPATH=src .venv/bin/python bench/opendata_search.py --datasets 10000 --requests 10
    GOV21_DATA_DIR=D PYTHONPATH=src .venv/bin/python bench/opendata_search_wrk.py --runs 3 --seconds 20

Uses the catalogue ``bench/opendata_search.py`` wrote in the same data directory (or the database of
``GOV21_DATABASE_URL``). Starts ``--workers`` gunicorn workers with the platform's own flags (gthread
workers with ``GOV21_WEB_THREADS`` threads, the admission gate's settings, the JSON access log, sent
to /dev/null here), then runs wrk ``--runs`` times for ``--seconds`` with ``--connections``
connections over a varied set of anonymous searches: each request picks at random one of
``--queries`` paths made of one or two query words (a word, a part of a word, a name), none or one
``fq`` term, none or two facets, four sorts and three pages. Prints one JSON line per run and one
with the medians and the load average. ``BENCH_SRC`` serves another copy of the source (a "before").
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
SRC = Path(os.environ.get("BENCH_SRC", str(HERE.parent / "src")))
sys.path.insert(0, str(SRC))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
BIN = Path(sys.executable).parent

WORDS = ("births", "deaths", "roads", "water", "schools", "budget", "licences", "rainfall", "land", "buses")
FRAGMENTS = ("birth", "road", "fall", "school", "table", "figures", "number 12", "dataset-0001", "and", "bus")
FQS = ("", "", "organization:stats", "tags:water", "groups:theme-2", "organization:lta tags:roads")
SORTS = ("", "name asc", "metadata_modified desc", "title_string asc")
FACETS = ("", '["organization","tags"]', '["groups","res_format"]')


def _paths(count: int, seed: int) -> list[str]:
    chance = random.Random(seed)
    paths = set()
    while len(paths) < count:
        params = {"q": chance.choice(WORDS + FRAGMENTS + ("",))}
        if chance.random() < 0.3:
            params["q"] = f"{params['q']} {chance.choice(WORDS)}".strip()
        for key, values in (("fq", FQS), ("sort", SORTS), ("facet.field", FACETS)):
            value = chance.choice(values)
            if value:
                params[key] = value
        params["rows"] = "10"
        params["start"] = str(chance.choice((0, 0, 10, 20)))
        paths.add("/api/3/action/package_search?" + urlencode(params))
    return sorted(paths)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait(port: int, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/3/action/status_show", timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"no server answered on port {port}")


def _wrk(port: int, paths: Path, *, seconds: int, connections: int, threads: int, seed: int) -> dict[str, Any]:
    out = subprocess.run(
        [
            *(shutil.which("wrk") or "wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--timeout", "5s"),
            *("-s", str(HERE / "wrk_anonymous.lua"), f"http://127.0.0.1:{port}"),
        ],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PATHS_FILE": str(paths), "SEED": str(seed)},
    )
    for line in out.stdout.splitlines():
        if line.startswith("RESULT "):
            return json.loads(line[len("RESULT ") :])  # type: ignore[no-any-return]
    raise SystemExit(f"wrk printed no result:\n{out.stdout}\n{out.stderr}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=20)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--wrk-threads", type=int, default=2)
    parser.add_argument("--queries", type=int, default=300)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is needed: apt-get install -y wrk")

    import django

    django.setup()
    from gov21.core.capacity import gunicorn_capacity
    from gov21.core.logs import gunicorn_logging

    folder = Path(tempfile.mkdtemp(prefix="odp-wrk-"))
    paths_file = folder / "paths.txt"
    paths = _paths(args.queries, seed=21)
    paths_file.write_text("\n".join(paths) + "\n")
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(SRC), "DJANGO_SETTINGS_MODULE": "gov21.settings"}
    with open(os.devnull, "w") as sink:
        server = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "gov21.wsgi:application",
                *("--bind", f"127.0.0.1:{port}", "--workers", str(args.workers)),
                *gunicorn_capacity(),
                *gunicorn_logging(access=True),
            ],
            env=env,
            stdout=sink,
            stderr=sink,
        )
        try:
            _wait(port)
            # Every worker builds its index at its first search; a short run warms them all.
            _wrk(port, paths_file, seconds=5, connections=args.connections, threads=args.wrk_threads, seed=1)
            runs = []
            for n in range(args.runs):
                found = _wrk(
                    port,
                    paths_file,
                    seconds=args.seconds,
                    connections=args.connections,
                    threads=args.wrk_threads,
                    seed=n,
                )
                found["loadavg"] = round(os.getloadavg()[0], 2)
                runs.append(found)
                print(json.dumps(found), flush=True)
        finally:
            server.terminate()
            server.wait(timeout=30)
    shutil.rmtree(folder, ignore_errors=True)
    print(
        json.dumps(
            {
                "median_rps": statistics.median(r["rps"] for r in runs),
                "median_p50_ms": statistics.median(r["p50_ms"] for r in runs),
                "median_p95_ms": statistics.median(r["p95_ms"] for r in runs),
                "errors": sum(r["errors"] + r["non2xx"] for r in runs),
                "distinct_queries": len(paths),
                "workers": args.workers,
                "connections": args.connections,
                "loadavg": [r["loadavg"] for r in runs],
                "source": str(SRC),
            }
        )
    )


if __name__ == "__main__":
    main()
