"""``gov21 statistics refresh [--year Y ...]`` recounts and republishes the tables now;
``gov21 statistics follow [--interval S]`` follows the registry's events and keeps them current."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gov21.statistics import services


class Command(BaseCommand):
    help = "Recount the statistics office's tables, or follow the registry's events to keep them current."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        refresh = sub.add_parser("refresh", help="Recount every table of the years given (this year by default).")
        refresh.add_argument("--year", type=int, action="append", default=[])
        follow = sub.add_parser("follow", help="Read new events every few seconds and republish what they change.")
        follow.add_argument("--interval", type=float, default=2.0)
        follow.add_argument("--for", dest="stop_after", type=float, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "refresh":
            made = services.tables_refresh(years=options["year"])
            self.stdout.write(f"{len(made)} new releases")
        else:
            made_n = services.follow_loop(interval=options["interval"], stop_after=options["stop_after"])
            self.stdout.write(f"{made_n} new releases")
