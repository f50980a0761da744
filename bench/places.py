"""Time to draw the demo nation's places (``gov21.demo.places.generate_places``) on top of a simulated
population: the population is simulated once, then the places are drawn ``--runs`` times.

    PYTHONPATH=src .venv/bin/python bench/places.py --people 1000000 --runs 3

Prints each run's seconds, their median, the peak RSS and what was drawn, as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import time
from collections import Counter
from datetime import date


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--today", default="2026-12-01")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from gov21.demo.places import generate_places
    from gov21.demo.synthetic import simulate

    started = time.perf_counter()
    nation = simulate(people=args.people, seed=args.seed, today=date.fromisoformat(args.today))
    simulated = round(time.perf_counter() - started, 1)
    seconds = []
    places = None
    for _ in range(args.runs):
        del places
        started = time.perf_counter()
        places = generate_places(nation, seed=args.seed)
        seconds.append(round(time.perf_counter() - started, 1))
    assert places is not None
    print(
        json.dumps(
            {
                "people": args.people,
                "simulation_s": simulated,
                "places_s": seconds,
                "median_s": statistics.median(seconds),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "households": len(places.households),
                "parcels": dict(Counter(p.land_use for p in places.parcels)),
                "transfers": dict(Counter(t.kind for p in places.parcels for t in p.history)),
                "roads": dict(Counter(r.road_class for r in places.roads)),
                "assets": len(places.assets),
                "businesses": len(places.businesses),
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
