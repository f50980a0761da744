from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from gov21.demo.places import PlacesError, generate_places
from gov21.demo.places.export import write_places
from gov21.demo.synthetic import simulate


class Command(BaseCommand):
    help = (
        "Draw the demo nation's places (roads, parcels with owners and histories, public assets) for a "
        "simulated population and write them as GeoJSON layers for a GIS. Touches no database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--out", required=True, help="Directory to write the layers into (created if missing).")
        parser.add_argument("--people", type=int, default=20_000)
        parser.add_argument("--seed", type=int, default=21)
        parser.add_argument(
            "--today", default="", help="The day the nation is drawn as of (YYYY-MM-DD); default today."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        people, seed = options["people"], options["seed"]
        if people < 10:
            raise CommandError("--people must be at least 10.")
        try:
            today = date.fromisoformat(options["today"]) if options["today"] else timezone.localdate()
        except ValueError as error:
            raise CommandError(f"--today must be a date as YYYY-MM-DD: {error}") from error
        out = Path(options["out"])
        if out.exists() and not out.is_dir():
            raise CommandError(f"--out {out} exists and is not a directory.")
        started = time.perf_counter()
        try:
            nation = simulate(people=people, seed=seed, today=today)
        except ValueError as error:
            raise CommandError(str(error)) from error
        simulated = time.perf_counter()
        try:
            places = generate_places(nation, seed=seed)
        except PlacesError as error:
            raise CommandError(str(error)) from error
        drawn = time.perf_counter()
        counts = write_places(places, out)
        summary = ", ".join(f"{n:,} {name}" for name, n in counts.items())
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {summary} to {out} (population {simulated - started:.1f} s, places {drawn - simulated:.1f} s, "
                f"files {time.perf_counter() - drawn:.1f} s)."
            )
        )
