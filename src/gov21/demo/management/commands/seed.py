from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone
from tqdm import tqdm

from gov21.core.dbstats import planner_statistics_refresh
from gov21.core.errors import DomainError
from gov21.demo.bulk import load_nation
from gov21.demo.places import PlacesError, generate_places
from gov21.demo.registers import places_load
from gov21.demo.synthetic import simulate
from gov21.registry.uin_pool import uin_pool_refill


class Command(BaseCommand):
    help = "Generate a deterministic synthetic nation into an empty registry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--people", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=21)

    def handle(self, *args: Any, **options: Any) -> None:
        people, seed = options["people"], options["seed"]
        if people < 10:
            raise CommandError("--people must be at least 10.")
        started = time.perf_counter()
        today = timezone.localdate()
        with tqdm(total=people, desc="simulating", unit="person", unit_scale=True, leave=True) as bar:
            nation = simulate(people=people, seed=seed, today=today, progress=bar.update)  # type: ignore[arg-type]
        simulated = time.perf_counter()
        bars = {
            "check": tqdm(total=people, desc="checking rules", unit="person", unit_scale=True),
            "write": tqdm(total=people, desc="writing", unit="person", unit_scale=True),
        }

        def progress(phase: str, n: int) -> None:
            bar = bars[phase]
            bar.update(min(n, people - int(bar.n)))

        try:
            stats = load_nation(nation, progress=progress)
        except DomainError as error:
            raise CommandError(f"The synthetic nation broke a registration rule: {error.detail}") from error
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(f"Phases (s): {stats.seconds}")
        drawing = time.perf_counter()
        try:
            places = generate_places(nation, seed=seed)
            drawn = time.perf_counter()
            placed = places_load(places, uins=stats.uins)
        except PlacesError as error:
            raise CommandError(f"The demo nation's places could not be drawn: {error}") from error
        except DomainError as error:
            raise CommandError(f"The demo nation's places broke a register's rule: {error.detail}") from error
        loaded = time.perf_counter()
        self.stdout.write(
            f"Places: {placed.get('parcels', 0):,} parcels, {placed.get('buildings', 0):,} buildings, "
            f"{placed.get('transactions', 0):,} land transactions, {placed.get('assets', 0):,} assets and roads "
            f"(drawn {drawn - drawing:.1f} s, written {loaded - drawn:.1f} s)."
        )
        uin_pool_refill(target=2000)
        # After a bulk load, statistics at once: the planner needs them to choose the right indexes.
        self.stdout.write(f"Planner statistics gathered in {planner_statistics_refresh():.2f} s.")
        total = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {stats.persons:,} people, {stats.events:,} registered events, {stats.versions:,} record "
                f"versions and {stats.unions:,} marriages in {total:.1f} s (simulation {simulated - started:.1f} s)."
            )
        )
