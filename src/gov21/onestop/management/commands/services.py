"""``gov21 services``: load the service definitions shipped with gov21 or given as files, check a
definition file without loading it, and list what is loaded."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.onestop import definitions
from gov21.onestop.models import ServiceDefinition


class Command(BaseCommand):
    help = "Load, check and list service definitions."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        load = sub.add_parser("load", help="Load definitions (default: those shipped with gov21).")
        load.add_argument("--dir", type=Path, default=definitions.DEFINITIONS_DIR)
        check = sub.add_parser("check", help="Check definition files against the schema; load nothing.")
        check.add_argument("files", nargs="+", type=Path)
        sub.add_parser("list", help="List loaded definitions and versions.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "load":
                for code, version, created in definitions.definitions_load(
                    directory=options["dir"], by="gov21 services"
                ):
                    self.stdout.write(f"{code} v{version}: {'loaded' if created else 'unchanged'}")
            elif options["action"] == "check":
                for path in options["files"]:
                    definitions.definition_check(
                        definitions.definition_parse(path.read_text(encoding="utf-8"), name=path.name)
                    )
                    self.stdout.write(f"{path.name}: valid")
            else:
                for row in ServiceDefinition.objects.order_by("code", "-version"):
                    self.stdout.write(
                        f"{row.code:<28} v{row.version:<3} {'active' if row.active else '':<7} {row.source}"
                    )
        except DomainError as error:
            raise CommandError(error.detail) from error
        except OSError as error:
            raise CommandError(str(error)) from error
