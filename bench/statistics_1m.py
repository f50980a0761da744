"""The statistics office at national scale: its tables rebuilt from scratch, its forecast, and how
soon a registration reaches the published table, over a seeded nation.

    GOV21_DATA_DIR=var/stats1m [GOV21_DATABASE_URL=...] .venv/bin/python bench/statistics_1m.py --people 1000000

Seeds the nation into an empty data directory first (not timed; minutes for a million people) and
sets up the demo exchange. Then, ``--runs`` times each:

- *rebuild*: every release of the office deleted, then the population table and the tables of this
  year and last year recounted through the exchange, protected and published on the data portal;
- *forecast*: the projection and its back-test (25 reads of the registry's numbers, 1,000 simulations);
- *current*: one birth registered through the registry's services, then one ``events_follow`` (what
  ``gov21 statistics follow`` runs every 2 s): the seconds from the registration's commit to the
  births table recounted and, where a published cell changed, released on the portal;
- *burst*: ``--burst`` births registered back to back, then one ``events_follow``: the seconds from
  the first one's commit to the releases (the registrations after it included), of the follow
  alone, and how many releases the burst made (one per table it changed, not one per event).

Prints the seconds of each run and their medians as JSON. Loopback only; bounded by ``--runs``.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import time
from datetime import date, timedelta


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--events", type=int, default=5, help="registrations timed for the 'current' figure")
    parser.add_argument("--no-forecast", action="store_true", help="time the rebuild and the recounts only")
    parser.add_argument("--burst", type=int, default=10, help="registrations read together for the 'burst' figure")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.utils import timezone

    from gov21.core.principal import Principal
    from gov21.exchange import setup
    from gov21.registry import services as registry
    from gov21.registry.models import Person
    from gov21.registry.records import BirthFacts
    from gov21.statistics import forecasting, services
    from gov21.statistics.models import TableRelease

    call_command("migrate", verbosity=0)
    setup.bootstrap()
    seeded_s = None
    if not Person.objects.exists():
        started = time.perf_counter()
        call_command("seed", people=args.people, verbosity=0)
        seeded_s = round(time.perf_counter() - started, 1)
    persons = Person.objects.count()
    year = timezone.localdate().year
    services.events_follow()  # the seed's own events: read and acknowledged before timing

    rebuild, rebuild_cpu, forecast = [], [], []
    mape = None
    releases = 0
    for _ in range(args.runs):
        TableRelease.objects.all().delete()
        started, cpu = time.perf_counter(), time.process_time()
        releases = len(services.tables_refresh(years=[year - 1, year]))
        rebuild.append(round(time.perf_counter() - started, 2))
        rebuild_cpu.append(round(time.process_time() - cpu, 2))
        if args.no_forecast:
            continue
        started = time.perf_counter()
        mape = forecasting.forecast_build().result["backtest"]["total_mape"][-1]
        forecast.append(round(time.perf_counter() - started, 2))

    registrar = Principal(name="bench.registrar", kind="staff", roles=frozenset({"registrar"}))
    print(json.dumps({"rebuild_s": rebuild, "rebuild_cpu_s": rebuild_cpu, "forecast_s": forecast}), flush=True)
    current: list[float] = []
    current_cpu: list[float] = []  # the process's own CPU seconds: what the load of a shared machine hides
    released = 0
    rng = random.Random(time.time_ns())

    def birth(k: int, born: date) -> None:
        facts = {
            # Names unlike any other, so that no birth looks like a duplicate to be resolved first.
            "given_names": "".join(rng.choice(string.ascii_lowercase) for _ in range(10)).capitalize(),
            "family_name": "".join(rng.choice(string.ascii_lowercase) for _ in range(12)).capitalize(),
            "sex": "F" if k % 2 else "M",
            "birth_date": born.isoformat(),
            "birth_parish": "XA-03",
            "birth_settlement": "Anse Corail",
            "address_parish": "XA-03",
            "address_settlement": "Anse Corail",
            "address_line": f"{k + 1} Harbour Road",
        }
        registry.register_birth(birth=BirthFacts.model_validate(facts), actor=registrar)

    for k in range(args.events):
        born = timezone.localdate() - timedelta(days=1 + k)
        birth(k, born)
        committed, cpu = time.perf_counter(), time.process_time()
        _count, made = services.events_follow()
        current.append(round(time.perf_counter() - committed, 2))
        current_cpu.append(round(time.process_time() - cpu, 2))
        # A birth that only moves a suppressed cell changes nothing published: no new release.
        released += any(r.dataset == f"births-by-parish-month-sex-{born.year}" for r in made)
    print(json.dumps({"current_s": current, "current_cpu_s": current_cpu}), flush=True)
    burst, burst_follow, burst_releases = [], [], []
    for repeat in range(args.runs):
        first = None
        for k in range(args.burst):
            birth(1000 * (repeat + 1) + k, timezone.localdate() - timedelta(days=1 + k % 20))
            first = first or time.perf_counter()
        assert first is not None
        following = time.perf_counter()
        _count, made = services.events_follow()
        burst.append(round(time.perf_counter() - first, 2))
        burst_follow.append(round(time.perf_counter() - following, 2))
        burst_releases.append(len(made))

    print(
        json.dumps(
            {
                "people": persons,
                "seeded_s": seeded_s,
                "releases_per_rebuild": releases,
                "rebuild_s": rebuild,
                "rebuild_median_s": statistics.median(rebuild),
                "rebuild_cpu_s": rebuild_cpu,
                "forecast_s": forecast,
                "forecast_median_s": statistics.median(forecast) if forecast else None,
                "backtest_mape_5y_pct": mape,
                "current_s": current,
                "current_median_s": statistics.median(current),
                "current_cpu_s": current_cpu,
                "current_cpu_median_s": statistics.median(current_cpu),
                "current_new_releases": released,
                "burst_events": args.burst,
                "burst_s": burst,
                "burst_median_s": statistics.median(burst),
                "burst_follow_s": burst_follow,
                "burst_releases": burst_releases,
                "engine": django.db.connection.vendor,
                "load_average": os.getloadavg(),
                "date": date.today().isoformat(),
            }
        )
    )


if __name__ == "__main__":
    main()
