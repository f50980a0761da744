"""The cost of one access-log append: ``audit.contracts.access_record`` in its own transaction, as
every logged read of personal data pays it.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/access_log.py --appends 5000

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), warms up, then times
``--appends`` appends, each in its own transaction, and prints one JSON line with the mean and the
99th percentile in microseconds.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--appends", type=int, default=5000)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction

    from gov21.audit.contracts import access_record

    call_command("migrate", verbosity=0)

    def one(i: int) -> float:
        started = time.perf_counter()
        with transaction.atomic():
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
    times = sorted(one(i) for i in range(args.appends))
    print(
        json.dumps(
            {
                "appends": args.appends,
                "mean_us": round(statistics.fmean(times) * 1e6),
                "p99_us": round(times[int(len(times) * 0.99)] * 1e6),
                "database": connection.vendor,
            }
        )
    )


if __name__ == "__main__":
    main()
