"""``gov21 notify``: send the email and SMS notifications that are due, once or every few seconds."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gov21.onestop import notify


class Command(BaseCommand):
    help = "Send due email and SMS notifications, with retries; print how many are in each state."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--every", type=float, default=0, metavar="SECONDS", help="Repeat (default: once).")

    def handle(self, *args: Any, **options: Any) -> None:
        if options["every"] > 0:
            notify.notifications_loop(interval=options["every"], stop_after=None)
            return
        delivered = notify.notifications_run()
        self.stdout.write(f"{delivered} notifications delivered")
        for channel, counts in notify.notifications_summary().items():
            self.stdout.write(f"{channel:<6}" + "".join(f"  {status} {n}" for status, n in counts.items()))
