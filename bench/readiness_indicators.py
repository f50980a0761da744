"""The live readiness indicators of a 1,000,000-person nation (target ≤ 30 s): every agency's numbers
read through the exchange as DGO/readiness, the indicators computed and the round kept.

    GOV21_DATA_DIR=/path/to/node .venv/bin/gov21 up --no-serve --no-demo --people 1000000
    GOV21_DATA_DIR=/path/to/node PYTHONPATH=src .venv/bin/python bench/readiness_indicators.py --runs 3

The node is seeded once by the bulk seeding (``gov21 up --people``); the first run of this script
adds, in bulk, the nation's use of its services (about 60 % of the living with an account,
half an application per person, a year of restore drills: ``gov21.demo.activity``). Prints one
JSON line: the seconds of each round and their median, the seconds of each agency's answer in
the last round, and as a reference measured in the same run, one ``count(*)`` of the persons table.
Loopback only (the exchange's in-process transport), bounded by --runs.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, os.environ.get("BENCH_SRC", str(Path(__file__).resolve().parent.parent / "src")))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--accessibility", action="store_true", help="Check the public pages in each round too.")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from gov21.demo.activity import activity_write
    from gov21.identity.models import Account
    from gov21.onestop.models import Application
    from gov21.readiness import indicators
    from gov21.registry.models import Person

    persons = Person.objects.count()
    written = None
    if not Account.objects.filter(kind="citizen").exists():
        started = time.monotonic()
        activity = activity_write(seed=21)
        written = {
            "seconds": round(time.monotonic() - started, 1),
            "accounts": activity.accounts,
            "applications": activity.applications,
            "drills": activity.drills,
        }
    started = time.monotonic()
    Person.objects.count()
    reference = time.monotonic() - started
    runs = []
    for _ in range(args.runs):
        started = time.monotonic()
        indicators.indicators_measure(accessibility=args.accessibility)
        runs.append(time.monotonic() - started)
    parts = {}
    for name, call in (
        ("services", ("PORTAL", "services", "numbers", "/")),
        ("directory", ("EXCHANGE", "pubsub", "directory", "/")),
        ("identity", ("IDA", "identity", "numbers", "/")),
        ("population", ("CRO", "civil-registry", "numbers", "/population")),
        ("drills", ("EXCHANGE", "data-embassy", "drills", "/")),
    ):
        started = time.monotonic()
        indicators._read(*call)
        parts[name] = round(time.monotonic() - started, 2)
    print(
        json.dumps(
            {
                "persons": persons,
                "applications": Application.objects.count(),
                "accounts": Account.objects.filter(kind="citizen").count(),
                "activity_written": written,
                "runs_s": [round(r, 2) for r in runs],
                "median_s": round(statistics.median(runs), 2),
                "parts_s": parts,
                "reference_count_persons_s": round(reference, 3),
                "load": os.getloadavg(),
            }
        )
    )


if __name__ == "__main__":
    main()
