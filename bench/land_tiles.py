"""Vector tiles of the land register's parcels, in-process through Django's whole request path, one
request at a time, over a register seeded by ``bench/land_bbox.py`` (200,000 parcels on a grid):

    GOV21_DATA_DIR=/path/seeded/by/land_bbox .venv/bin/python bench/land_tiles.py --tiles 30 --runs 3

For each run the register is marked changed (``collection_changed``, as a registration does), so the
first request of each tile builds it (``cold``: the register's rows read, clipped, projected,
simplified and encoded); the same tile asked again is read from what was kept (``warm``); asked with
its ETag it is a 304 (``revalidate``). Tiles are drawn at random among the zoom's tiles over the
parcels. Prints p50/p95/p99 in milliseconds per kind, the medians over runs, and the features a tile
holds. Then, ``--runs`` times, the register is marked changed again and the tile keeper
(``geo.seeding.tiles_rebuild``, what ``gov21 tiles follow`` runs) builds the tiles kept before, timed
with its CPU per tile; the same tiles are then asked as a map would (``after_change``). With
``BENCH_SRC`` pointing at an older tree (no kept tiles) every request is cold.
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


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))]

    return {"p50": at(0.5), "p95": at(0.95), "p99": at(0.99)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiles", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--zoom", type=int, default=14)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument(
        "--no-gc-freeze",
        action="store_true",
        help="leave what is loaded in the garbage collector's sight (gov21.wsgi, which a web worker loads,"
        " freezes it; without this the benchmark loads it too)",
    )
    args = parser.parse_args()
    import django

    django.setup()
    import mapbox_vector_tile
    import morecantile
    from django.db import connection
    from django.test import Client

    from gov21.geo.contracts import collection_get

    try:
        from gov21.geo.contracts import collection_changed
    except ImportError:  # an older tree: no tile is kept

        def collection_changed(collection_id: str) -> None:
            pass

    if not args.no_gc_freeze:
        import gov21.wsgi  # noqa: F401 - loads the platform and freezes it, as a web worker does
    parcels = collection_get("parcels")
    assert parcels is not None
    box = parcels.extent()
    assert box is not None, "seed the register first (bench/land_bbox.py)"
    tms = morecantile.tms.get("WebMercatorQuad")
    candidates = list(tms.tiles(box.minx, box.miny, box.maxx, box.maxy, [args.zoom]))
    rng = random.Random(args.seed)
    chosen = rng.sample(candidates, min(args.tiles, len(candidates)))
    client = Client()
    runs: dict[str, list[dict[str, float]]] = {"cold": [], "warm": [], "revalidate": []}
    features: list[int] = []
    sizes: list[int] = []
    for _run in range(args.runs):
        collection_changed("parcels")
        times: dict[str, list[float]] = {kind: [] for kind in ("cold", "warm", "revalidate")}
        cpu: list[float] = []
        for tile in chosen:
            url = f"/geo/collections/parcels/tiles/WebMercatorQuad/{args.zoom}/{tile.y}/{tile.x}"
            for kind in ("cold", "warm"):
                start, start_cpu = time.perf_counter(), time.process_time()
                response = client.get(url)
                times[kind].append((time.perf_counter() - start) * 1000)
                if kind == "cold":
                    cpu.append((time.process_time() - start_cpu) * 1000)
                assert response.status_code == 200, response.content[:200]
            start = time.perf_counter()
            again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
            times["revalidate"].append((time.perf_counter() - start) * 1000)
            assert again.status_code == 304
            if _run == 0:
                sizes.append(len(response.content))
                features.append(len(mapbox_vector_tile.decode(response.content)["parcels"]["features"]))
        runs.setdefault("cold_cpu", []).append(_quantiles(cpu))
        print(f"run {_run + 1} cold_cpu: {json.dumps({k: round(v, 1) for k, v in _quantiles(cpu).items()})}")
        for kind, values in times.items():
            runs[kind].append(_quantiles(values))
            print(f"run {_run + 1} {kind}: {json.dumps({k: round(v, 1) for k, v in _quantiles(values).items()})}")
    after: dict[str, Any] = {}
    try:
        from gov21.geo.seeding import tiles_rebuild
    except ImportError:  # an older tree: no tile keeper
        tiles_rebuild = None
    if tiles_rebuild is not None:
        # A registration changes the register; the keeper builds the tiles kept before; then the map.
        for _run in range(args.runs):
            collection_changed("parcels")
            start, start_cpu = time.perf_counter(), time.process_time()
            rebuilt = tiles_rebuild(parcels)
            keeper = {
                "tiles": rebuilt,
                "seconds": round(time.perf_counter() - start, 2),
                "cpu_ms_per_tile": round((time.process_time() - start_cpu) * 1000 / max(rebuilt, 1), 1),
            }
            times_after: list[float] = []
            for tile in chosen:
                url = f"/geo/collections/parcels/tiles/WebMercatorQuad/{args.zoom}/{tile.y}/{tile.x}"
                start = time.perf_counter()
                response = client.get(url)
                times_after.append((time.perf_counter() - start) * 1000)
                assert response.status_code == 200
            runs.setdefault("after_change", []).append(_quantiles(times_after))
            after.setdefault("keeper", []).append(keeper)
            print(
                f"run {_run + 1} after_change: keeper {json.dumps(keeper)}, then {json.dumps(_quantiles(times_after))}"
            )
    medians = {
        kind: {q: round(statistics.median(run[q] for run in values), 1) for q in ("p50", "p95", "p99")}
        for kind, values in runs.items()
    }
    report: dict[str, Any] = {
        "database": connection.vendor,
        "gc_freeze": not args.no_gc_freeze,
        "zoom": args.zoom,
        "tiles": len(chosen),
        "runs": args.runs,
        "features_per_tile": {"p50": statistics.median(features), "max": max(features)},
        "bytes_p50": statistics.median(sizes),
        "median": medians,
        "after_change_keeper": after.get("keeper"),
        "runs_detail": runs,
    }
    print(json.dumps(report))


if __name__ == "__main__":
    main()
