"""Box queries on the land register's parcels through the OGC API Features server: how long a small
window (a street block) and a large one (a parish) take among many parcels, and how many rows each
reads from the database.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/land_bbox.py --parcels 200000

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), writes ``--parcels``
square parcels on a grid in one registered transaction (rows written directly: the benchmark is of
reading), then times ``/geo/collections/parcels/items`` with each window and prints one JSON line
per window: the median and worst of ``--runs`` requests in milliseconds and the features matched.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

WEST, SOUTH, STEP = -63.2, 13.9, 0.0005  # about 54 m by 55 m a parcel


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument(
        "--statistics",
        choices=("refresh", "none", "optimize"),
        default="refresh",
        help="the planner's statistics before timing: gathered as after a bulk load (refresh), removed"
        " (none), or removed and then left to PRAGMA optimize as the first request's connection closes",
    )
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.utils import timezone
    from shapely.geometry import box

    from gov21.core.geo import area_m2
    from gov21.land.models import Parcel, Transaction

    call_command("migrate", verbosity=0)
    side = math.ceil(math.sqrt(args.parcels))
    if Parcel.objects.count() < args.parcels:
        from gov21.geo.contracts import collection_changed

        now = timezone.now()
        with transaction.atomic():
            tx = Transaction.objects.create(
                number="L-BENCH-000001",
                kind="first_registration",
                state="registered",
                lodged_by="bench",
                lodged_at=now,
                registered_at=now,
            )
            batch = []
            for index in range(args.parcels):
                col, row = index % side, index // side
                shape = box(WEST + col * STEP, SOUTH + row * STEP, WEST + (col + 1) * STEP, SOUTH + (row + 1) * STEP)
                parcel = Parcel(
                    number=f"XA-01-{index:06d}", parish="XA-01", area_m2=area_m2(shape), valid_from=now, opened_by=tx
                )
                batch.append(parcel.geometry_set(shape))
                if len(batch) == 5000:
                    Parcel.objects.bulk_create(batch)
                    batch = []
            Parcel.objects.bulk_create(batch)
            collection_changed("parcels")  # as a registration does: tiles kept before are not served
    # The planner's statistics (decision 0073): without them SQLite's planner reads every current
    # parcel through the (valid_to, ...) index instead of the R*Tree's few ids (0.3 s a page).
    if connection.vendor == "sqlite" and args.statistics != "refresh":
        with connection.cursor() as cursor:
            cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    if args.statistics == "refresh":
        from gov21.core.dbstats import planner_statistics_refresh

        print(json.dumps({"statistics": "refresh", "seconds": round(planner_statistics_refresh(), 3)}))
    client = Client()
    if args.statistics == "optimize":
        # One request, then its connection closes as a web worker's does after CONN_MAX_AGE.
        client.get(f"/geo/collections/parcels/items?f=json&limit=100&bbox={WEST},{SOUTH},{WEST + STEP},{SOUTH + STEP}")
        started = time.perf_counter()
        connection.close()
        print(json.dumps({"statistics": "optimize on close", "seconds": round(time.perf_counter() - started, 3)}))
    windows = {
        "block (3 x 3 parcels)": (WEST + 10.5 * STEP, SOUTH + 10.5 * STEP, WEST + 12.5 * STEP, SOUTH + 12.5 * STEP),
        # A page of 100 of the 121 parcels the window meets: what a map or a GIS asks.
        "page (11 x 11 parcels, 100 a page)": (
            WEST + 200.5 * STEP,
            SOUTH + 200.5 * STEP,
            WEST + 210.5 * STEP,
            SOUTH + 210.5 * STEP,
        ),
        "district (40 x 40 parcels)": (
            WEST + 100.5 * STEP,
            SOUTH + 100.5 * STEP,
            WEST + 139.5 * STEP,
            SOUTH + 139.5 * STEP,
        ),
    }
    for name, (w, s, e, n) in windows.items():
        url = f"/geo/collections/parcels/items?f=json&limit=100&bbox={w},{s},{e},{n}"
        times, cpu, matched = [], [], 0
        for _ in range(args.runs):
            started, started_cpu = time.perf_counter(), time.process_time()
            response = client.get(url)
            times.append((time.perf_counter() - started) * 1000)
            cpu.append((time.process_time() - started_cpu) * 1000)
            matched = response.json()["numberMatched"]
        print(
            json.dumps(
                {
                    "window": name,
                    "parcels": args.parcels,
                    "statistics": args.statistics,
                    "matched": matched,
                    "median_ms": round(statistics.median(times), 1),
                    "max_ms": round(max(times), 1),
                    # This process's CPU per request: the steadier figure on a shared machine (on
                    # SQLite the whole cost; on PostgreSQL without the server's share).
                    "median_cpu_ms": round(statistics.median(cpu), 1),
                }
            )
        )


if __name__ == "__main__":
    main()
