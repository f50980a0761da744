from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gov21.core.capacity import port_taken
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
        if not options["no_serve"]:
            # Said now, not after the minutes preparing a nation can take.
            port_check(options["host"], options["port"])
        demo = platform_prepare(
            people=options["people"], seed=options["seed"], demo=not options["no_demo"], stdout=self.stdout
        )
        if options["no_serve"]:
            return
        port_check(options["host"], options["port"])  # again: something may have taken it meanwhile
        platform_serve(
            host=options["host"],
            port=options["port"],
            workers=options["workers"],
            demo=demo,
            stdout=self.stdout,
            style=self.style,
        )


def port_check(host: str, port: int) -> None:
    """Refuse to serve on a port something else already listens on."""
    if port_taken(host, port):
        raise CommandError(
            _("Port %(port)s on %(host)s is already in use: stop what listens there, or choose another with --port.")
            % {"port": port, "host": host}
        )
