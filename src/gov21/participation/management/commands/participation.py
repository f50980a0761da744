"""``gov21 participation tally FILE``: recount a participatory budget from its published list of
anonymised ballots (``/participation/<process>/ballots.json``), with nothing but that file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.participation.tally import TallyError, tally_recompute


class Command(BaseCommand):
    help = "E-participation: recount a budget vote from its published ballots."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        tally = sub.add_parser("tally", help="Recount from a published ballots file (JSON).")
        tally.add_argument("file", type=Path)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            document = json.loads(Path(options["file"]).read_text(encoding="utf-8"))
            counts = tally_recompute(document)
        except (OSError, ValueError, TallyError) as error:
            raise CommandError(f"Cannot recount: {error}") from error
        self.stdout.write(json.dumps(counts, indent=2, sort_keys=True))
