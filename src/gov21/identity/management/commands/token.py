from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.core.permissions import ROLES
from gov21.identity.services import token_create, token_revoke

_DURATION = re.compile(r"^(\d+)([hdw])$")


def parse_lifetime(text: str) -> timedelta:
    match = _DURATION.match(text.strip())
    if not match:
        raise CommandError(f"--expires must look like 12h, 30d or 4w, not {text!r}")
    amount, unit = int(match.group(1)), match.group(2)
    return {"h": timedelta(hours=amount), "d": timedelta(days=amount), "w": timedelta(weeks=amount)}[unit]


class Command(BaseCommand):
    help = "Create or revoke API tokens for systems and scripts."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create a token and print it once.")
        create.add_argument("--role", required=True, choices=ROLES)
        create.add_argument("--name", default="script")
        create.add_argument("--expires", default="30d", help="Lifetime such as 12h, 30d, 4w (default 30d).")
        revoke = sub.add_parser("revoke", help="Revoke a token by id.")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                issued = token_create(
                    name=options["name"],
                    role=options["role"],
                    lifetime=parse_lifetime(options["expires"]),
                    created_by="cli",
                )
                self.stderr.write(
                    f"Token {issued.id} ({options['role']}), expires {issued.expires_at:%Y-%m-%d %H:%M %Z}."
                )
                self.stderr.write("It is shown once; store it safely.")
                self.stdout.write(issued.token)
            else:
                token_revoke(token_id=options["id"])
                self.stdout.write(f"Token {options['id']} revoked.")
        except DomainError as error:
            raise CommandError(error.detail) from error
