"""The Open311 API with many reports: ``POST requests`` per second, and ``GET requests`` with the
specification's filters (service code, status, a date window) at ``--reports`` reports.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/open311.py --reports 100000

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), writes ``--reports``
reports spread over the last 90 days across every service (rows written directly: the fill is not
what is measured), then through Django's WSGI handler in this process (no network, one thread):
``--posts`` form-encoded POSTs with a client key, each checked and recorded in its transaction,
and ``--gets`` GETs with a random service code, status and one-day window. Prints one JSON line per
measure: requests per second for POST, median and p95 in milliseconds and the rows answered for GET.

The demo nation's exchange is set up first, so each POST also publishes its ``concern.reported``
event to the three agencies' subscriptions, as a deployment does. Beside the wall-clock rate, POST
reports the CPU time this process spent per request (``time.process_time``): on a machine shared
with other work the wall clock measures the share of a core the run was given, the CPU time what a
request costs; ``per_s_one_core`` is the rate one whole core would give at that cost (the database's
own work inside this process included for SQLite; PostgreSQL's server process is not counted).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--reports", type=int, default=100_000)
    parser.add_argument("--posts", type=int, default=1000)
    parser.add_argument("--gets", type=int, default=300)
    parser.add_argument(
        "--multipart", action="store_true", help="POST as multipart/form-data (as a client sending a photo does)"
    )
    args = parser.parse_args()
    import django

    django.setup()
    from django.core.management import call_command
    from django.test import Client
    from django.utils import timezone

    from gov21.concerns.categories import categories_load
    from gov21.concerns.models import Category, Report
    from gov21.concerns.services import key_create
    from gov21.core.geography import geography
    from gov21.exchange.contracts import exchange_bootstrap

    call_command("migrate", verbosity=0)
    exchange_bootstrap()
    categories_load()
    services = list(Category.objects.all())
    places = [(s.lat, s.lon) for p in geography() for s in p.settlements]
    rng = random.Random(311)
    now = timezone.now()
    missing = args.reports - Report.objects.count()
    start = time.perf_counter()
    while missing > 0:
        batch = []
        for _ in range(min(missing, 5000)):
            category = rng.choice(services)
            at = now - timedelta(seconds=rng.uniform(0, 90 * 86400))
            lat, lon = rng.choice(places)
            batch.append(
                Report(
                    token=f"b{rng.getrandbits(96):024x}",
                    category=category,
                    agency=category.agency,
                    status=rng.choice(["open", "closed"]),
                    description="A problem reported for the benchmark.",
                    requested_at=at,
                    updated_at=at,
                    expected_at=at + timedelta(hours=category.target_hours),
                    lat=lat + rng.uniform(-0.01, 0.01),
                    lon=lon + rng.uniform(-0.01, 0.01),
                    parish="XA-01",
                )
            )
        Report.objects.bulk_create(batch)
        missing -= len(batch)
    print(json.dumps({"fill_s": round(time.perf_counter() - start, 1), "reports": Report.objects.count()}))

    client = Client()
    key = key_create(name="bench").key
    lat, lon = places[0]
    form = {"api_key": key, "lat": str(lat), "long": str(lon), "description": "Bench report", "email": "a@b.example"}
    codes = [c.code for c in services if not c.attributes]
    from urllib.parse import urlencode

    def post(fields: dict[str, str]) -> Any:
        # Open311 clients send application/x-www-form-urlencoded unless they attach a photo.
        if args.multipart:
            return client.post("/open311/v2/requests.json", fields)
        return client.post(
            "/open311/v2/requests.json", urlencode(fields), content_type="application/x-www-form-urlencoded"
        )

    for _ in range(20):  # warm up
        post({**form, "service_code": codes[0]})
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(args.posts):
        answer = post({**form, "service_code": codes[i % len(codes)]})
        assert answer.status_code == 201, answer.content
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    print(
        json.dumps(
            {
                "measure": "POST requests.json" + (" (multipart)" if args.multipart else ""),
                "requests": args.posts,
                "per_s": round(args.posts / elapsed, 1),
                "cpu_ms_per_request": round(cpu * 1000 / args.posts, 2),
                "per_s_one_core": round(args.posts / cpu, 1),
            }
        )
    )

    times, cpus, rows = [], [], []
    for fmt in ("json", "xml"):
        times.clear()
        cpus.clear()
        rows.clear()
        for _ in range(args.gets):
            day = now - timedelta(days=rng.uniform(1, 89))
            params = {
                "service_code": rng.choice([c.code for c in services]),
                "status": rng.choice(["open", "closed"]),
                "start_date": day.isoformat(),
                "end_date": (day + timedelta(days=1)).isoformat(),
            }
            t0, c0 = time.perf_counter(), time.process_time()
            answer = client.get(f"/open311/v2/requests.{fmt}", params)
            times.append((time.perf_counter() - t0) * 1000)
            cpus.append((time.process_time() - c0) * 1000)
            assert answer.status_code == 200
            rows.append(answer.content.count(b"service_request_id") // (1 if fmt == "json" else 2))
        times.sort()
        cpus.sort()
        print(
            json.dumps(
                {
                    "measure": f"GET requests.{fmt} (service_code, status, one day)",
                    "median_ms": round(statistics.median(times), 1),
                    "p95_ms": round(times[int(len(times) * 0.95) - 1], 1),
                    "cpu_p95_ms": round(cpus[int(len(cpus) * 0.95) - 1], 1),
                    "rows_median": statistics.median(rows),
                }
            )
        )


if __name__ == "__main__":
    main()
