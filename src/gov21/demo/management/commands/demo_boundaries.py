from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gov21.demo.boundaries import boundaries_geojson


class Command(BaseCommand):
    help = "Draw the demo nation's parish boundaries from its settlements; print them, or --write core/data."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", action="store_true", help="Write core/data/boundaries.geojson.")

    def handle(self, *args: Any, **options: Any) -> None:
        text = boundaries_geojson()
        if not options["write"]:
            self.stdout.write(text, ending="")
            return
        target = Path(str(resources.files("gov21.core").joinpath("data/boundaries.geojson")))
        target.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {target}.")
