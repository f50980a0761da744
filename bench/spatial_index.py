"""A page of parcels in a box, in-process: ``bbox_filter`` over 200,000 parcel-sized polygons, with and
without the spatial index, on the database the environment names (decision 0052).

    GOV21_DATA_DIR=$(mktemp -d) .venv/bin/python bench/spatial_index.py
    GOV21_DATA_DIR=$(mktemp -d) GOV21_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/bench_spatial \\
        .venv/bin/python bench/spatial_index.py

Builds a throwaway table ``bench_spatial_parcel`` (dropped at the end), fills it with random
quadrilaterals of 15 to 60 m a side scattered over the country's box, then for each mode (the box
columns alone; the index: R*Tree on SQLite, PostGIS on PostgreSQL) asks ``--queries`` random windows
of 1.5 km a side (about 100 parcels) for their first 100 rows (``bbox_filter``), and the same windows
for an exact page of 100 with its count (``intersecting_page``). Prints the median time per request
over ``--runs`` runs, in milliseconds, and the requests per second it stands for on one core, and the
CPU time this process spent per request (on a loaded machine the steadier figure for SQLite, which
runs in-process).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parcels", type=int, default=200_000)
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=52)
    parser.add_argument("--side", type=float, default=1_500, help="the side of a window, in metres")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    import shapely
    from django.apps.registry import Apps
    from django.db import connection, models, transaction
    from shapely.geometry import Polygon

    from gov21.core.geography import country_bounds
    from gov21.core.spatial import (
        SpatialRecord,
        bbox_filter,
        intersecting_page,
        spatial_index_create,
        spatial_index_drop,
    )

    class Parcel(SpatialRecord):
        name = models.CharField(max_length=20)

        class Meta:
            app_label = "bench_spatial"
            db_table = "bench_spatial_parcel"
            apps = Apps()

    rng = random.Random(args.seed)
    bounds = country_bounds()
    metre = 1 / 111_000  # degrees of latitude in a metre (near enough for sizes)

    def parcel(i: int) -> Parcel:
        x, y = rng.uniform(bounds.minx, bounds.maxx), rng.uniform(bounds.miny, bounds.maxy)
        w, h = rng.uniform(15, 60) * metre, rng.uniform(15, 60) * metre
        skew = rng.uniform(-0.3, 0.3) * w
        shape = Polygon([(x, y), (x + w, y + skew), (x + w, y + h + skew), (x, y + h)])
        return Parcel(name=f"P{i}").geometry_set(shape)

    with connection.schema_editor() as editor:
        if "bench_spatial_parcel" in connection.introspection.table_names():
            spatial_index_drop(editor, Parcel)
            editor.delete_model(Parcel)
        editor.create_model(Parcel)
    started = time.perf_counter()
    for start in range(0, args.parcels, 10_000):
        with transaction.atomic():
            Parcel.objects.bulk_create(
                [parcel(i) for i in range(start, min(start + 10_000, args.parcels))], batch_size=2_000
            )
    load_s = time.perf_counter() - started
    side = args.side * metre
    windows = []
    for _ in range(args.queries):
        x, y = rng.uniform(bounds.minx, bounds.maxx - side), rng.uniform(bounds.miny, bounds.maxy - side)
        windows.append(shapely.box(x, y, x + side, y + side))

    def run(label: str) -> dict[str, float]:
        results: dict[str, float] = {}
        for name, ask in (
            ("bbox page", lambda w: len(list(bbox_filter(Parcel.objects.all(), w)[:100]))),
            ("exact page", lambda w: len(intersecting_page(Parcel.objects.order_by("pk"), w, offset=0, limit=100)[0])),
        ):
            medians, cpu, found = [], [], 0
            for _run in range(args.runs):
                times = []
                cpu_began = time.process_time()
                for window in windows:
                    began = time.perf_counter()
                    found += ask(window)
                    times.append(time.perf_counter() - began)
                cpu.append((time.process_time() - cpu_began) / len(windows) * 1000)
                medians.append(statistics.median(times) * 1000)
            ms = statistics.median(medians)
            results[f"{label} {name} ms"] = round(ms, 3)
            results[f"{label} {name} per s"] = round(1000 / ms)
            # CPU time of this process per request: on SQLite the whole cost, on PostgreSQL the client's.
            results[f"{label} {name} cpu ms"] = round(statistics.median(cpu), 3)
            results[f"{label} {name} rows"] = round(found / args.runs / len(windows), 1)
        return results

    report: dict[str, object] = {"database": connection.vendor, "parcels": args.parcels, "load s": round(load_s, 1)}
    report.update(run("columns"))
    started = time.perf_counter()
    with connection.schema_editor() as editor:
        spatial_index_create(editor, Parcel)
    report["index build s"] = round(time.perf_counter() - started, 1)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute('ANALYZE "bench_spatial_parcel"')
    report.update(run("index"))
    with connection.schema_editor() as editor:
        spatial_index_drop(editor, Parcel)
        editor.delete_model(Parcel)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
