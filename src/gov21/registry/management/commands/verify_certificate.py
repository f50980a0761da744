from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.credentials import code_from_text
from gov21.core.crypto import verify_compact
from gov21.core.errors import DomainError


class Command(BaseCommand):
    help = (
        "Check a certificate's QR payload offline, with nothing but the registry's published keys "
        "(a copy of /.well-known/jwks.json). Revocation needs the online check at /verify."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "payload", help="The text of the QR code: the verification address, or the code itself (GOV21:...)."
        )
        parser.add_argument("--jwks", required=True, type=Path, help="A saved copy of the registry's JWKS.")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            jwks = json.loads(options["jwks"].read_text(encoding="utf-8"))
        except (OSError, ValueError) as exc:
            raise CommandError(f"Cannot read the keys file {options['jwks']}: {exc}") from exc
        # The QR code holds the verification address; the signed code stands whole in it.
        token = code_from_text(str(options["payload"]))
        if token.upper().startswith("GOV21:"):
            token = token[6:]
        try:
            claims = verify_compact(token, jwks)
        except DomainError as error:
            raise CommandError(f"NOT GENUINE: {error.detail}") from error
        self.stdout.write("GENUINE: the registry signed these facts.")
        for key, value in claims.items():
            self.stdout.write(f"  {key}: {value}")
