"""The cost of access-log appends: ``audit.contracts.access_record`` called outside any transaction,
as every logged read of personal data pays it, by one thread or by several at once.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/access_log.py --appends 5000
    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/access_log.py --appends 5000 --threads 16

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), warms up, then times
``--appends`` appends shared among ``--threads`` threads (each append returns once its record is
committed), and prints one JSON line: appends per second, the mean, median and 99th percentile of
one append in microseconds, and the number of write transactions that carried them.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=5000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, connections

    from gov21.audit.contracts import access_record

    call_command("migrate", verbosity=0)

    def one(i: int) -> float:
        started = time.perf_counter()
        access_record(
            actor="registrar.one",
            actor_kind="staff",
            action="person.read",
            subject=str(2300000000 + i),
            purpose="case B-2026-000123",
            detail={"fields": ["name", "birth"]},
        )
        return time.perf_counter() - started

    for i in range(200):
        one(i)
    times: list[float] = []
    lock = threading.Lock()
    per_thread = args.appends // args.threads

    def worker(offset: int) -> None:
        try:
            mine = [one(offset + i) for i in range(per_thread)]
            with lock:
                times.extend(mine)
        finally:
            connections.close_all()

    before = _batches()
    started = time.perf_counter()
    threads = [threading.Thread(target=worker, args=(n * per_thread,)) for n in range(args.threads)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    after = _batches()
    times.sort()
    print(
        json.dumps(
            {
                "appends": len(times),
                "threads": args.threads,
                "per_s": round(len(times) / elapsed),
                "mean_us": round(statistics.fmean(times) * 1e6),
                "p50_us": round(times[len(times) // 2] * 1e6),
                "p99_us": round(times[int(len(times) * 0.99)] * 1e6),
                # Without group commit (an older tree) every append is a transaction of its own.
                "transactions": len(times) if before is None or after is None else after - before,
                "database": connection.vendor,
            }
        )
    )


def _batches() -> int | None:
    try:
        from gov21.core import groupcommit
    except ImportError:
        return None
    return groupcommit.batches_written()


if __name__ == "__main__":
    main()
