"""Person reads through the exchange inside one node, as the portal's "My profile" and the one-stop
shop make them: consumer gateway, provider gateway and the registry's service in this process,
signed, rights-checked and logged at both ends, with the registry's access record and the data-use
record, by one thread or several at once.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/exchange_inproc.py --calls 1000 --threads 1,8

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), seeds 50 people, sets
up the demo nation's exchange, warms up, then times ``--calls`` reads shared among ``--threads``
threads, for each count of ``--threads`` in turn. ``BENCH_SRC`` points at another checkout's
``src``. Prints one JSON line per count: calls per second, the median and 99th percentile of one
call in microseconds, and database commits per call.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

PERSONS = "XA/GOV/CRO/civil-registry/persons"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--threads", default="1", help="thread counts to measure in turn, e.g. 1,8")
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.db.backends.base.base import BaseDatabaseWrapper

    from gov21.exchange import setup
    from gov21.exchange.contracts import exchange_call
    from gov21.registry.models import Person

    call_command("migrate", verbosity=0)
    call_command("seed", people=50, verbosity=0)
    setup.bootstrap()
    uins = list(Person.objects.values_list("uin", flat=True)[:50])
    commits = [0]
    real_commit = BaseDatabaseWrapper.commit

    def counted(self: BaseDatabaseWrapper) -> None:
        real_commit(self)
        commits[0] += 1

    BaseDatabaseWrapper.commit = counted  # type: ignore[method-assign]

    def one(i: int) -> float:
        started = time.perf_counter()
        result = exchange_call(
            client="XA/GOV/MSD/benefits", service=PERSONS, path=f"/{uins[i % len(uins)]}", issue="Benefit claim 17"
        )
        if result.status != 200:
            raise SystemExit(f"the read failed: {result.status} {result.body[:300]!r}")
        return time.perf_counter() - started

    for i in range(50):
        one(i)
    for count in (int(n) for n in args.threads.split(",")):
        print(json.dumps({**_run(one, args.calls, count, commits), "database": connection.vendor}))


def _run(one: Callable[[int], float], calls: int, count: int, commits: list[int]) -> dict[str, object]:
    from django.db import connections

    times: list[float] = []
    lock = threading.Lock()
    per_thread = calls // count

    def worker(offset: int) -> None:
        try:
            mine = [one(offset + i) for i in range(per_thread)]
            with lock:
                times.extend(mine)
        finally:
            connections.close_all()

    before = commits[0]
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n * per_thread,)) for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    times.sort()
    return {
        "calls": len(times),
        "threads": count,
        "per_s": round(len(times) / elapsed),
        "p50_us": round(times[len(times) // 2] * 1e6),
        "p99_us": round(times[int(len(times) * 0.99)] * 1e6),
        "commits_per_call": round((commits[0] - before) / len(times), 2),
    }


if __name__ == "__main__":
    main()
