"""Vector tile latency in-process, through Django's whole request path (middleware, the tile view, the
collection's ``items``, clipping, simplifying, MVT encoding), one request at a time:

    GOV21_DATA_DIR=/tmp/bench-tiles .venv/bin/python bench/tiles.py --tiles 200 --runs 3

Two collections: the country's parishes (12 large polygons), and a synthetic register of
``--parcels`` square parcels (30 m a side, 8 vertices each, in a grid over the main island) whose
``items`` finds candidates with a shapely STRtree, as a register with a spatial index would. Tiles
are drawn at random among those that hold data, at zooms 10, 12 and 14. As the reference measured in
the same run, the same bbox is asked of ``/items`` as GeoJSON (limit 1000): the ratio says what the
tile costs beside the features it holds. Reports p50/p95/p99 in milliseconds, medians over runs.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import time
from typing import Any


def _quantiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))], 2)

    return {"p50": at(0.50), "p95": at(0.95), "p99": at(0.99)}


def _synthetic(count: int, seed: int) -> Any:
    import numpy as np
    import shapely
    from shapely.geometry import Polygon

    from gov21.core.geo import BBox
    from gov21.geo.contracts import Collection, Feature, Property, Query, Result

    rng = random.Random(seed)
    # Around Port Clement, on the main island: about 0.00028° is 30 m.
    side = 0.00028
    columns = int(count**0.5) + 1
    features = []
    for index in range(count):
        x0 = -63.20 + (index % columns) * side * 1.3
        y0 = 14.10 + (index // columns) * side * 1.3
        ring = [(x0, y0), (x0 + side / 2, y0 - side / 20), (x0 + side, y0), (x0 + side, y0 + side / 2)]
        ring += [(x0 + side, y0 + side), (x0 + side / 2, y0 + side), (x0, y0 + side), (x0 - side / 20, y0 + side / 2)]
        features.append(
            Feature(
                f"P-{index:06d}",
                Polygon(ring),
                {"parcel": f"P-{index:06d}", "use": rng.choice(["home", "farm", "shop"])},
            )
        )
    geometries = np.array([feature.geometry for feature in features], dtype=object)
    tree = shapely.STRtree(geometries)

    def items(query: Query) -> Result:
        if query.bbox is None:
            found = features
        else:
            window = query.bbox.geometry()
            hits = sorted(int(i) for i in tree.query(window, predicate="intersects"))
            found = [features[i] for i in hits]
        return Result(found[query.offset : query.offset + query.limit], len(found))

    bounds = shapely.total_bounds(geometries)
    return Collection(
        id="bench-parcels",
        title="Parcels (synthetic)",
        description="Synthetic parcels for the tile benchmark.",
        properties=(Property("parcel", "string", "Parcel"), Property("use", "string", "Use")),
        items=items,
        item=lambda feature_id, reader: None,
        extent=lambda: BBox(*(float(v) for v in bounds)),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tiles", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--parcels", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=21)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    import morecantile
    from django.test import Client

    from gov21.geo.contracts import collection_get, collection_register

    collection_register(_synthetic(args.parcels, args.seed))
    tms = morecantile.tms.get("WebMercatorQuad")
    client = Client()
    rng = random.Random(args.seed)
    report: dict[str, Any] = {"parcels": args.parcels, "tiles": args.tiles, "runs": args.runs, "results": {}}
    for collection_id in ("parishes", "bench-parcels"):
        collection = collection_get(collection_id)
        assert collection is not None
        box = collection.extent()
        assert box is not None
        for zoom in (10, 12, 14):
            candidates = list(tms.tiles(box.minx, box.miny, box.maxx, box.maxy, [zoom]))
            chosen = [rng.choice(candidates) for _ in range(args.tiles)]
            runs: dict[str, list[dict[str, float]]] = {"tile": [], "items": []}
            sizes: list[int] = []
            for _run in range(args.runs):
                tile_ms, items_ms = [], []
                for tile in chosen:
                    url = f"/geo/collections/{collection_id}/tiles/WebMercatorQuad/{zoom}/{tile.y}/{tile.x}"
                    start = time.perf_counter()
                    response = client.get(url)
                    tile_ms.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200, response.content[:200]
                    sizes.append(len(response.content))
                    bounds = tms.bounds(tile)
                    bbox = f"{bounds.left},{bounds.bottom},{bounds.right},{bounds.top}"
                    start = time.perf_counter()
                    response = client.get(f"/geo/collections/{collection_id}/items?bbox={bbox}&limit=1000&f=json")
                    items_ms.append((time.perf_counter() - start) * 1000)
                    assert response.status_code == 200
                runs["tile"].append(_quantiles(tile_ms))
                runs["items"].append(_quantiles(items_ms))
            medians = {
                kind: {q: round(statistics.median(run[q] for run in values), 2) for q in ("p50", "p95", "p99")}
                for kind, values in runs.items()
            }
            medians["bytes_p50"] = {"p50": float(statistics.median(sizes))}
            medians["ratio_p95"] = {"tile/items": round(medians["tile"]["p95"] / max(medians["items"]["p95"], 0.01), 2)}
            report["results"][f"{collection_id} z{zoom}"] = medians
            print(f"{collection_id} z{zoom}: {json.dumps(medians)}", flush=True)
    print(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
