"""Birth registration throughput: declare → validate → register through the real services (UIN,
registration number, history, audit, duplicate checks), against a seeded data directory.

    GOV21_DATA_DIR=var/bench1m [GOV21_DATABASE_URL=...] .venv/bin/python bench/registrations.py --seconds 10

Runs ``--processes`` writers at once (each its own process and connection) for a bounded time and
reports registrations per second, the SQL statements of one registration (transaction control
included) and each writer's CPU time per registration. Registrations are real: the registry grows by
what is measured. Each writer has its own mothers; on a small nation (``gov21 seed --people 20000``)
they come round again with births dated further back, each at least ten months from the mother's
other children. ``--batch N`` sends N births per call of ``register_births`` (one transaction), as a
hospital entering a backlog would through ``POST /api/v1/registry/events/births/batch``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import multiprocessing
import os
import random
import statistics
import time
from collections.abc import Iterator
from datetime import date, timedelta


def _writer(
    seconds: float,
    slot: int,
    slots: int,
    queue: multiprocessing.Queue[tuple[int, float, int, int, float]],
    limit: int = 0,
    batch: int = 0,
) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from gov21.core.errors import Conflict, DomainError
    from gov21.core.principal import Principal
    from gov21.registry import services
    from gov21.registry.models import LifeEvent, Person
    from gov21.registry.records import BirthFacts
    from gov21.registry.uin_pool import uin_pool_refill

    # The background worker keeps the UIN pool filled while the platform runs; do its job up front.
    uin_pool_refill(target=limit + 100 if limit else int(seconds * 600))
    actor = Principal(name="bench.registrar", kind="staff", roles=frozenset({"registrar"}))
    today = timezone.localdate()
    adult = today - timedelta(days=365 * 20)
    mothers = list(
        Person.objects.filter(
            sex="F", status="alive", birth_date__gte=today - timedelta(days=365 * 45), birth_date__lte=adult
        )
        .order_by("id")
        .values_list("id", "uin", "birth_date")
    )[slot::slots]  # each writer its own mothers
    # A second birth to the same mother within nine months would rightly be held as a possible
    # duplicate, so each birth gets a date at least ten months from her other children's (earlier
    # runs' included): on a small nation, mothers come round again with births registered late.
    children: dict[int, list[date]] = {}
    for mother_id, born in Person.objects.filter(
        mother_id__in=[m[0] for m in mothers], birth_date__gte=today - timedelta(days=365 * 25)
    ).values_list("mother_id", "birth_date"):
        children.setdefault(mother_id, []).append(born)
    # Declarations still waiting for a registrar count too (a held birth of an earlier run).
    by_uin = {uin: mother_id for mother_id, uin, _ in mothers}
    for uin, born in LifeEvent.objects.filter(
        kind="birth", state__in=services.OPEN_STATES, mother_uin__in=list(by_uin)
    ).values_list("mother_uin", "event_date"):
        children.setdefault(by_uin[uin], []).append(born)
    rng = random.Random(f"{slot}-{time.time_ns()}")  # new names every run: reruns are not duplicates

    def births() -> Iterator[tuple[str, date]]:
        for round_ in range(40):
            for mother_id, uin, mother_born in mothers:
                born = today - timedelta(days=round_ * 305 + rng.randint(1, 40))
                if born < mother_born + timedelta(days=365 * 18):
                    continue
                if all(abs((born - other).days) > 300 for other in children.get(mother_id, ())):
                    children.setdefault(mother_id, []).append(born)
                    yield uin, born

    next_birth = births()
    given = ["Amara", "Jaden", "Keisha", "Malik", "Naomi", "Rohan", "Shanice", "Tariq", "Yolanda", "Zion"]
    syllables = ["ba", "ce", "di", "fo", "gu", "ha", "je", "ki", "lo", "mu", "na", "pe", "ri", "so", "tu", "va", "we"]

    def family() -> str:
        # Distinct-sounding names, so that the duplicate check has no reason to hold them.
        return "".join(rng.choice(syllables) for _ in range(5)).capitalize()

    def facts() -> BirthFacts:
        mother_uin, born = next(next_birth)
        return BirthFacts.model_validate(
            {
                "given_names": f"{rng.choice(given)} {rng.choice(given)}",
                "family_name": family(),
                "sex": rng.choice("FM"),
                "birth_date": born.isoformat(),
                "birth_parish": "XA-01",
                "mother_uin": mother_uin,
            }
        )

    statements = 0
    if slot == 0:
        # What one registration costs the database, counted on the first writer's first birth.
        # A birth held as a possible duplicate counts all the same.
        with CaptureQueriesContext(connection) as queries, contextlib.suppress(Conflict):
            services.register_birth(birth=facts(), actor=actor)
        statements = len(queries.captured_queries)
    count = 0
    held = 0
    started = time.perf_counter()
    cpu_started = time.process_time()
    deadline = started + seconds
    while time.perf_counter() < deadline and not (limit and count >= limit):
        if batch:
            # A hospital's backlog: ``batch`` births in one request, all or none. A birth the registry
            # holds back (a possible duplicate) is left out and the rest sent again, as a caller would.
            births = [facts() for _ in range(batch)]
            try:
                count += len(services.register_births(births=births, actor=actor))
            except DomainError as error:
                refused = {int(e["index"]) for e in error.extra.get("errors", ())}
                if not refused:
                    raise
                held += len(refused)
                rest = [b for i, b in enumerate(births) if i not in refused]
                if rest:
                    count += len(services.register_births(births=rest, actor=actor))
            continue
        try:
            services.register_birth(birth=facts(), actor=actor)
            count += 1
        except Conflict:
            held += 1  # the mother had another child within nine months: held for a registrar
    cpu = time.process_time() - cpu_started
    queue.put((count, time.perf_counter() - started, held, statements, cpu * 1000 / max(1, count + held)))


def _prepare() -> None:
    """Set the node's exchange up as ``gov21 up`` does, so that each registration publishes its event."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gov21.settings")
    import django

    django.setup()
    from django.db import connections

    from gov21.exchange.contracts import exchange_bootstrap

    exchange_bootstrap()
    connections.close_all()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--processes", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--count", type=int, default=0, help="Stop after this many registrations (within --seconds).")
    parser.add_argument(
        "--batch", type=int, default=0, help="Births per request through register_births (default 0: one at a time)."
    )
    args = parser.parse_args()
    _prepare()
    rates = []
    held_total = 0
    statements = 0
    cpu_ms: list[float] = []
    for _ in range(args.runs):
        queue: multiprocessing.Queue[tuple[int, float, int, int, float]] = multiprocessing.Queue()
        procs = [
            multiprocessing.Process(
                target=_writer,
                args=(
                    args.seconds,
                    i,
                    args.processes,
                    queue,
                    -(-args.count // args.processes) if args.count else 0,
                    args.batch,
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
        statements = max(r[3] for r in results)
        cpu_ms.append(statistics.median(r[4] for r in results))
    rates.sort()
    print(
        json.dumps(
            {
                "args": vars(args),
                "rates_per_s": rates,
                "median_per_s": rates[len(rates) // 2],
                "held_as_duplicates": held_total,
                "statements_per_registration": statements,
                "cpu_ms_per_registration": round(statistics.median(cpu_ms), 2),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
