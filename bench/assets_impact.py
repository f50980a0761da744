""" "Everything inside this hurricane track": the asset register's impact query over a whole nation.

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/assets_impact.py --assets 20000 --runs 3
    GOV21_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_assets .venv/bin/python bench/assets_impact.py

Migrates a fresh data directory (or the database of ``GOV21_DATABASE_URL``), loads ``--assets``
synthetic assets spread over the country's parishes (70 % buildings as points, 20 % roads as lines,
10 % outlines as polygons), then times, ``--runs`` times each:

* ``impact``: the assets a hurricane track buffered by 15 km touches, read as the office and the API
  read them (``selectors.assets_within``: ``bbox_filter`` in the database, then the exact test);
* ``geo_page``: the first page of ``/geo/collections/assets/items`` with the track's box, through the
  collection (box columns, then exact test, then paging);
* ``reference``: the same answer by reading every row and testing every geometry, as a register
  without box columns would.

Prints one JSON line: the median and each run in milliseconds, the number of assets found, and the
ratio of the reference to the impact query.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

KINDS = ("school", "clinic", "hospital", "police", "shelter", "substation", "port", "airstrip")
AGENCIES = ("MOE", "MOH", "PWD", "POLICE", "NDMO", "UTIL", "PORTS")


def _load(count: int, seed: int) -> None:
    import shapely
    from django.db import transaction
    from django.utils import timezone
    from shapely.geometry import LineString, Point, box
    from shapely.geometry.base import BaseGeometry

    from gov21.assets.models import Asset
    from gov21.core.geography import boundaries

    rng = random.Random(seed)
    parishes = boundaries()
    tree = shapely.STRtree([p.geometry for p in parishes])
    now = timezone.now()
    rows = []
    for n in range(count):
        parish = parishes[n % len(parishes)]
        west, south, east, north = parish.geometry.bounds
        while True:
            lon, lat = rng.uniform(west, east), rng.uniform(south, north)
            if parish.geometry.contains(Point(lon, lat)):
                break
        roll = rng.random()
        geometry: BaseGeometry
        if roll < 0.2:
            kind = "road"
            steps = [(lon + rng.uniform(-0.01, 0.01) * i, lat + rng.uniform(-0.01, 0.01) * i) for i in range(4)]
            geometry = LineString(steps)
        elif roll < 0.3:
            kind = rng.choice(KINDS)
            geometry = box(lon, lat, lon + 0.0008, lat + 0.0006)
        else:
            kind = rng.choice(KINDS)
            geometry = Point(lon, lat)
        hit = tree.query(geometry.representative_point(), predicate="intersects")
        asset = Asset(
            code=f"B-{n:06d}",
            name=f"Asset {n}",
            kind=kind,
            agency=rng.choice(AGENCIES),
            parish=parishes[int(hit[0])].code if len(hit) else "",
            condition=rng.choice(("good", "fair", "poor")),
            replacement_value_cents=rng.randrange(1_000_000, 500_000_000),
            currency="XCD",
            criticality=rng.choice(("low", "medium", "high", "critical")),
            capacity=rng.randrange(20, 800) if kind in ("school", "shelter", "hospital", "clinic") else None,
            road_class="secondary" if kind == "road" else "",
            road_surface="paved" if kind == "road" else "",
            created_at=now,
            updated_at=now,
        )
        asset.geometry_set(geometry)
        rows.append(asset)
    with transaction.atomic():
        Asset.objects.bulk_create(rows, batch_size=2000)


def _timed(work: object, runs: int) -> tuple[list[float], int]:
    times, found = [], 0
    for _ in range(runs):
        started = time.perf_counter()
        found = work()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return times, found


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--assets", type=int, default=20_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--buffer-km", type=float, default=15.0)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection, reset_queries

    from gov21.assets import selectors, services
    from gov21.assets.collections import assets_collection
    from gov21.assets.models import Asset
    from gov21.core.geo import bounds_of
    from gov21.core.spatial import geometry_from_wkb
    from gov21.geo.contracts import Query

    call_command("migrate", verbosity=0)
    started = time.perf_counter()
    if not Asset.objects.exists():
        _load(args.assets, args.seed)
    load_s = time.perf_counter() - started
    # A track from the south-west of the country to its north-east, across most parishes.
    track = json.dumps({"type": "LineString", "coordinates": [[-63.25, 13.95], [-63.05, 14.25], [-62.78, 14.62]]})
    area = services.area_parse(track, buffer_km=args.buffer_km).geometry

    def impact() -> int:
        return len(selectors.assets_within(area))

    def geo_page() -> int:
        box = bounds_of([area])
        assert box is not None
        return len(assets_collection().items(Query(limit=1000, bbox=box)).features)

    def reference() -> int:
        rows = Asset.objects.only(*selectors.LISTED)
        return sum(1 for row in rows if area.intersects(geometry_from_wkb(row.geometry_wkb)))

    impact()  # warm the connection and the caches once
    reset_queries()
    results: dict[str, dict[str, Any]] = {}
    for name, work in (("impact", impact), ("geo_page", geo_page), ("reference", reference)):
        times, found = _timed(work, args.runs)
        results[name] = {
            "median_ms": round(statistics.median(times), 1),
            "runs_ms": [round(t, 1) for t in times],
            "found": found,
        }
    print(
        json.dumps(
            {
                "database": connection.vendor,
                "assets": Asset.objects.count(),
                "buffer_km": args.buffer_km,
                "load_s": round(load_s, 1),
                **results,
                "reference_over_impact": round(results["reference"]["median_ms"] / results["impact"]["median_ms"], 2),
            }
        )
    )


if __name__ == "__main__":
    main()
