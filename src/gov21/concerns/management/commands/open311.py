from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.concerns.services import key_create, key_revoke
from gov21.core.errors import DomainError


class Command(BaseCommand):
    help = "Create or revoke the keys client applications use on the Open311 API."

    def add_arguments(self, parser: CommandParser) -> None:
        what = parser.add_subparsers(dest="what", required=True)
        key = what.add_parser("key", help="Client keys.")
        action = key.add_subparsers(dest="action", required=True)
        create = action.add_parser("create", help="Create a key and print it once.")
        create.add_argument("--name", required=True)
        create.add_argument("--agency", default="", help="The exchange member whose queue the key reads (e.g. PWD).")
        revoke = action.add_parser("revoke", help="Revoke a key by id.")
        revoke.add_argument("id", type=int)

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            if options["action"] == "create":
                issued = key_create(name=options["name"], agency=options["agency"])
                self.stderr.write(f"Open311 key {issued.id} ({options['name']}). It is shown once; store it safely.")
                self.stdout.write(issued.key)
            else:
                key_revoke(key_id=options["id"])
                self.stdout.write(f"Open311 key {options['id']} revoked.")
        except DomainError as error:
            raise CommandError(error.detail) from error
