"""``gov21 tiles follow [--every S]`` builds again, after each change of a register, the tiles kept for
its collections' earlier versions (run by ``gov21 up``); ``gov21 tiles seed [--collection C]
[--max-zoom Z]`` builds every tile over a collection's extent, as after a bulk load."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError
from gov21.geo import seeding


class Command(BaseCommand):
    help = "Build vector tiles before maps ask for them: after each change (follow), or over an extent (seed)."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        follow = sub.add_parser("follow", help="Every few seconds, build again the kept tiles of changed collections.")
        follow.add_argument("--every", type=float, default=2.0)
        follow.add_argument("--for", dest="stop_after", type=float, default=None)
        seed = sub.add_parser("seed", help="Build every tile over a collection's extent up to a zoom.")
        seed.add_argument(
            "--collection", default=None, help="A collection whose tiles are kept (all of them by default)."
        )
        seed.add_argument("--max-zoom", dest="max_zoom", type=int, default=16)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["action"] == "follow":
            if options["every"] <= 0:
                raise CommandError(_("--every is a number of seconds above 0."))
            built = seeding.tiles_follow(
                every=options["every"], stop_after=options["stop_after"], say=self.stdout.write
            )
            self.stdout.write(f"{built} tiles built")
            return
        try:
            built_per = seeding.tiles_seed(collection_id=options["collection"], max_zoom=options["max_zoom"])
        except DomainError as error:
            raise CommandError(str(error.detail)) from None
        for collection_id, made in built_per.items():
            self.stdout.write(f"{collection_id}: {made} tiles built")
