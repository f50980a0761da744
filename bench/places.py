"""Time to draw the demo nation's places (``gov21.demo.places.generate_places``) on top of a simulated
population, and, with ``--write``, to write them into the land and asset registers on top of the
people already loaded.

Drawing only (the population is simulated once, then the places are drawn ``--runs`` times)::

    PYTHONPATH=src .venv/bin/python bench/places.py --people 1000000 --runs 3

Drawing and writing, as ``gov21 seed`` does after the people: first load the people once into a data
directory (``--prepare`` simulates them, loads them with the registry's bulk path and keeps the UINs
issued beside the database), then time the geography on a copy of it (the places are written into
empty registers only)::

    GOV21_DATA_DIR=/tmp/people100k gov21 migrate
    GOV21_DATA_DIR=/tmp/people100k PYTHONPATH=src .venv/bin/python bench/places.py --people 100000 --prepare
    cp -a /tmp/people100k /tmp/run && GOV21_DATA_DIR=/tmp/run PYTHONPATH=src \\
        .venv/bin/python bench/places.py --people 100000 --write

Prints each run's seconds (wall and CPU), their median, the peak RSS and what was drawn or written, as
JSON.
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
from pathlib import Path


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _uins_file() -> Path:
    from django.conf import settings

    return Path(settings.DATA_DIR) / "bench-places-uins.json"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--seed", type=int, default=21)
    parser.add_argument("--today", default="2026-12-01")
    parser.add_argument("--prepare", action="store_true", help="load the people into GOV21_DATA_DIR, then stop")
    parser.add_argument("--write", action="store_true", help="draw once and write into the registers")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from gov21.demo.places import generate_places
    from gov21.demo.synthetic import simulate

    started = time.perf_counter()
    nation = simulate(people=args.people, seed=args.seed, today=date.fromisoformat(args.today))
    simulated = round(time.perf_counter() - started, 1)
    if args.prepare:
        from gov21.demo.bulk import load_nation

        started = time.perf_counter()
        stats = load_nation(nation)
        _uins_file().write_text(json.dumps(stats.uins), encoding="utf-8")
        print(json.dumps({"people": stats.persons, "loaded_s": round(time.perf_counter() - started, 1)}))
        return
    if args.write:
        _write(nation, args, simulated)
        return
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


def _write(nation: object, args: argparse.Namespace, simulated: float) -> None:
    """Draw the places and write them, as ``gov21 seed`` does after the people."""
    from gov21.demo.places import generate_places
    from gov21.demo.registers import places_load

    uins = json.loads(_uins_file().read_text(encoding="utf-8"))
    wall, cpu = time.perf_counter(), _cpu()
    places = generate_places(nation, seed=args.seed)  # type: ignore[arg-type]
    drawn_wall, drawn_cpu = time.perf_counter(), _cpu()
    written = places_load(places, uins=uins)
    done_wall, done_cpu = time.perf_counter(), _cpu()
    print(
        json.dumps(
            {
                "people": args.people,
                "simulation_s": simulated,
                "drawn_s": round(drawn_wall - wall, 1),
                "drawn_cpu_s": round(drawn_cpu - cpu, 1),
                "written_s": round(done_wall - drawn_wall, 1),
                "written_cpu_s": round(done_cpu - drawn_cpu, 1),
                "geography_s": round(done_wall - wall, 1),
                "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024,
                "load_average": os.getloadavg(),
                "written": written,
            },
            indent=1,
        )
    )


if __name__ == "__main__":
    main()
