from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.config import render_markdown


class Command(BaseCommand):
    help = "Write or check docs/configuration.md from the declared settings."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--check", action="store_true")
        parser.add_argument("--file", default="docs/configuration.md")

    def handle(self, *args: Any, **options: Any) -> None:
        path = Path(options["file"])
        text = render_markdown()
        if options["check"]:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                raise CommandError(f"{path} is out of date: run `gov21 docs_config`.")
            return
        path.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {path}")
