from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser


def openapi_document() -> str:
    from gov21.api import api

    schema = api.get_openapi_schema(path_prefix="/api/v1")
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


class Command(BaseCommand):
    help = "Print the OpenAPI 3 document of the public API, write it, or check the committed copy."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--write", metavar="FILE", help="Write the document to FILE.")
        parser.add_argument("--check", metavar="FILE", help="Fail if FILE differs from the generated document.")

    def handle(self, *args: Any, **options: Any) -> None:
        document = openapi_document()
        if options["check"]:
            committed = Path(options["check"]).read_text(encoding="utf-8") if Path(options["check"]).exists() else ""
            if committed != document:
                raise CommandError(
                    f"{options['check']} is out of date with the API. Run `gov21 openapi --write {options['check']}` "
                    "and commit the result, so the API change is visible in review."
                )
            self.stdout.write("OpenAPI document is up to date.")
        elif options["write"]:
            Path(options["write"]).write_text(document, encoding="utf-8")
            self.stdout.write(f"Wrote {options['write']}")
        else:
            self.stdout.write(document, ending="")
