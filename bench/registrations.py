"""Birth registration throughput: declare → validate → register through the real services (UIN,
registration number, history, audit, duplicate checks), against a seeded data directory.

    GOV21_DATA_DIR=var/bench1m [GOV21_DATABASE_URL=...] .venv/bin/python bench/registrations.py --seconds 10

Runs ``--processes`` writers at once (each its own process and connection) for a bounded time and
reports registrations per second. Registrations are real: the registry grows by what is measured.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import random
import time
from datetime import date, timedelta


def _writer(
    seconds: float, slot: int, slots: int, queue: multiprocessing.Queue[tuple[int, float, int]], limit: int = 0
) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from django.utils import timezone

    from gov21.core.errors import Conflict
    from gov21.core.principal import Principal
    from gov21.registry import services
    from gov21.registry.models import Person
    from gov21.registry.records import BirthFacts
    from gov21.registry.uin_pool import uin_pool_refill

    # The background worker keeps the UIN pool filled while the platform runs; do its job up front.
    uin_pool_refill(target=limit + 100 if limit else int(seconds * 400))
    actor = Principal(name="bench.registrar", kind="staff", roles=frozenset({"registrar"}))
    today = timezone.localdate()
    candidates = list(
        Person.objects.filter(
            sex="F",
            status="alive",
            birth_date__gte=today - timedelta(days=365 * 40),
            birth_date__lte=today - timedelta(days=365 * 20),
        )
        .order_by("id")
        .values_list("id", "uin")
    )
    # A mother with a child in the last nine months would rightly be held as a possible duplicate.
    recent = set(
        Person.objects.filter(birth_date__gte=today - timedelta(days=300), mother__isnull=False).values_list(
            "mother_id", flat=True
        )
    )
    mothers = [uin for pk, uin in candidates if pk not in recent]
    # Each writer of each run gets its own mothers: a second birth to the same mother within nine
    # months would rightly be held as a possible duplicate.
    mothers = mothers[slot::slots]
    mothers.reverse()
    rng = random.Random(f"{slot}-{time.time_ns()}")  # new names every run: reruns are not duplicates
    given = ["Amara", "Jaden", "Keisha", "Malik", "Naomi", "Rohan", "Shanice", "Tariq", "Yolanda", "Zion"]
    syllables = ["ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "ri", "so", "tu", "va", "we"]

    def family() -> str:
        # Distinct-sounding names, so that the duplicate check has no reason to hold them.
        return "".join(rng.choice(syllables) for _ in range(5)).capitalize()

    count = 0
    held = 0
    started = time.perf_counter()
    deadline = started + seconds
    while time.perf_counter() < deadline and not (limit and count >= limit):
        born: date = today - timedelta(days=rng.randint(1, 40))
        try:
            services.register_birth(
                birth=BirthFacts.model_validate(
                    {
                        "given_names": f"{rng.choice(given)} {rng.choice(given)}",
                        "family_name": family(),
                        "sex": rng.choice("FM"),
                        "birth_date": born.isoformat(),
                        "birth_parish": "XA-01",
                        "mother_uin": mothers.pop(),
                    }
                ),
                actor=actor,
            )
            count += 1
        except Conflict:
            held += 1  # the mother had another child within nine months: held for a registrar
    queue.put((count, time.perf_counter() - started, held))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=0, help="Stop after this many registrations (within --seconds).")
    parser.add_argument(
        "--first-slot",
        type=int,
        default=0,
        help="Skip mothers used by earlier runs on the same data (slots of mothers).",
    )
    args = parser.parse_args()
    rates = []
    held_total = 0
    for run in range(args.runs):
        queue: multiprocessing.Queue[tuple[int, float, int]] = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(
                target=_writer,
                args=(
                    args.seconds,
                    args.first_slot + run * args.processes + i,
                    args.first_slot + args.runs * args.processes + 8,
                    queue,
                    -(-args.count // args.processes) if args.count else 0,
                ),
            )
            for i in range(args.processes)
        ]
        for p in procs:
            p.start()
        results = [queue.get(timeout=args.seconds + 120) for _ in procs]
        for p in procs:
            p.join(timeout=30)
        total = sum(r[0] for r in results)
        elapsed = max(r[1] for r in results)
        held_total += sum(r[2] for r in results)
        rates.append(total / elapsed)
    rates.sort()
    print(
        json.dumps(
            {
                "args": vars(args),
                "rates_per_s": rates,
                "median_per_s": rates[len(rates) // 2],
                "held_as_duplicates": held_total,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
