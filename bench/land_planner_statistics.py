"""A page of 100 parcels in a box on SQLite with and without the query planner's statistics, and
what gathering them costs (decision 0073).

    GOV21_DATA_DIR=D .venv/bin/python bench/land_bbox.py --parcels 200000 --runs 1   # loads D once
    GOV21_DATA_DIR=D .venv/bin/python bench/land_planner_statistics.py none
    GOV21_DATA_DIR=D .venv/bin/python bench/land_planner_statistics.py optimize

``none`` removes the statistics (as a database loaded without them has none) and times the page;
``optimize`` removes them, asks one page, closes the connection (the platform's SQLite backend runs
``PRAGMA optimize`` then, as a web worker's connection does after ``CONN_MAX_AGE``), and times the
page on a new connection. Each prints the box statement's plan, the close's seconds and the median
of ``--runs`` pages in milliseconds. SQLite only; loopback only (Django's test client, in-process).
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

WEST, SOUTH, STEP = -63.2, 13.9, 0.0005  # the grid of bench/land_bbox.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=("none", "optimize"))
    parser.add_argument("--runs", type=int, default=10)
    args = parser.parse_args()
    import django

    django.setup()
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    if connection.vendor != "sqlite":
        raise SystemExit("SQLite only: PostgreSQL's autovacuum gathers its statistics itself.")
    box = (WEST + 200.5 * STEP, SOUTH + 200.5 * STEP, WEST + 210.5 * STEP, SOUTH + 210.5 * STEP)
    url = "/geo/collections/parcels/items?f=json&limit=100&bbox=" + ",".join(str(v) for v in box)
    raw = sqlite3.connect(str(connection.settings_dict["NAME"]))
    raw.execute("DROP TABLE IF EXISTS sqlite_stat1")
    raw.commit()
    raw.close()
    client = Client()
    closed_s = None
    if args.mode == "optimize":
        client.get(url)
        started = time.perf_counter()
        connection.close()
        closed_s = round(time.perf_counter() - started, 3)
    with CaptureQueriesContext(connection) as queries:
        client.get(url)
    box_sql = next(q["sql"] for q in queries.captured_queries if "CASE WHEN" in q["sql"])
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN QUERY PLAN " + box_sql)
        plan = [row[3] for row in cursor.fetchall()]
    times = []
    for _ in range(args.runs):
        started = time.perf_counter()
        client.get(url)
        times.append((time.perf_counter() - started) * 1000)
    print(
        json.dumps(
            {
                "mode": args.mode,
                "plan": plan,
                "close_s": closed_s,
                "median_ms": round(statistics.median(times), 1),
                "load": os.getloadavg()[0],
            }
        )
    )


if __name__ == "__main__":
    main()
