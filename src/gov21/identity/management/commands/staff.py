from __future__ import annotations

import getpass
import sys
from typing import Any

from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from gov21.core.errors import DomainError
from gov21.core.permissions import ROLES
from gov21.identity.services import staff_create


class Command(BaseCommand):
    help = "Create a public servant's account (or reset its password) with roles in an agency."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="Create or update a staff account; asks for the password.")
        create.add_argument("username")
        create.add_argument("--role", action="append", required=True, choices=ROLES, dest="roles")
        create.add_argument("--agency", default="civil-registry")
        create.add_argument(
            "--password-stdin", action="store_true", help="Read the password from standard input (for scripts)."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        if options["password_stdin"]:
            password = sys.stdin.readline().rstrip("\n")
        else:
            password = getpass.getpass("Password: ")
            if getpass.getpass("Again: ") != password:
                raise CommandError("The two passwords differ.")
        try:
            validate_password(password)
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        try:
            staff_create(
                username=options["username"], password=password, roles=options["roles"], agency=options["agency"]
            )
        except DomainError as error:
            raise CommandError(error.detail) from error
        self.stdout.write(f"{options['username']}: {', '.join(options['roles'])} at {options['agency']}.")
