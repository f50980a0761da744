from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gov21.wiring.up import platform_prepare, platform_serve


class Command(BaseCommand):
    help = "Migrate, create the demo nation if the data directory is empty, and serve the platform."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--people", type=int, default=None, help="Size of the demo nation (default 20,000).")
        parser.add_argument("--seed", type=int, default=21)
        parser.add_argument("--workers", type=int, default=None, help="Web worker processes.")
        parser.add_argument("--no-serve", action="store_true", help="Prepare everything, then exit.")
        parser.add_argument(
            "--no-demo",
            action="store_true",
            help="Create no demo sign-ins or demo citizen (a real or restored node).",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        demo = platform_prepare(
            people=options["people"], seed=options["seed"], demo=not options["no_demo"], stdout=self.stdout
        )
        if options["no_serve"]:
            return
        platform_serve(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            demo=demo,
            stdout=self.stdout,
            style=self.style,
        )
