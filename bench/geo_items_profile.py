"""The CPU one page of 100 parcels in a box costs in-process, over many different boxes, and where it
goes: the register ``bench/land_bbox.py`` built (200,000 parcels on a grid), ``--boxes`` different
windows of 11 x 11 parcels along the grid's diagonal, each asked through Django's whole request path.

    GOV21_DATA_DIR=D .venv/bin/python bench/geo_items_profile.py [--warm] [--profile]

Prints the median over ``--runs`` of this process's CPU time per request (ms). Without ``--warm``
the boxes are asked for the first time in the timed pass (what a worker pays for parts of the map
it has not served yet); with it, they are asked once before (the features' GeoJSON kept, decision
0079). ``--profile`` prints cProfile's view of one more pass, sorted by cumulative time (or by
the key ``PROFILE_SORT`` names, e.g. ``tottime``).
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")

WEST, SOUTH, STEP = -63.2, 13.9, 0.0005  # the grid of bench/land_bbox.py


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--boxes", type=int, default=200)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--warm", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()
    import django

    django.setup()
    from django.test import Client

    client = Client()
    cpu = []
    for run in range(args.runs):
        # Each run's boxes are new to this process unless --warm: other rows of the grid.
        urls = []
        for k in range(args.boxes):
            col, row = 5 + k % 420, 5 + (k * 7 + run * 131) % 420
            w, s = WEST + (col + 0.5) * STEP, SOUTH + (row + 0.5) * STEP
            urls.append(f"/geo/collections/parcels/items?f=json&limit=100&bbox={w},{s},{w + 10 * STEP},{s + 10 * STEP}")
        if args.warm:
            for url in urls:
                client.get(url)
        started = time.process_time()
        for url in urls:
            assert client.get(url).status_code == 200
        cpu.append((time.process_time() - started) * 1000 / len(urls))
    print(
        json.dumps(
            {
                "warm": args.warm,
                "boxes": args.boxes,
                "cpu_ms": [round(c, 2) for c in cpu],
                "median_cpu_ms": round(statistics.median(cpu), 2),
            }
        )
    )
    if args.profile:
        profile = cProfile.Profile()
        profile.enable()
        for url in urls:
            client.get(url)
        profile.disable()
        pstats.Stats(profile).sort_stats(os.environ.get("PROFILE_SORT", "cumulative")).print_stats(40)


if __name__ == "__main__":
    main()
