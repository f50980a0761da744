from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from gov21.registry.keys import registry_keys


class Command(BaseCommand):
    help = "List the civil registry's signing keys, or rotate to a new one (old keys stay verifiable)."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["list", "rotate"])

    def handle(self, *args: Any, **options: Any) -> None:
        store = registry_keys()
        if options["action"] == "rotate":
            self.stdout.write(f"New signing key: {store.rotate()}")
        for key in store.keys():  # noqa: SIM118 - KeyStore.keys() lists key records; the store is no mapping
            state = "active" if key.active else f"retired {key.retired:%Y-%m-%d}" if key.retired else "retired"
            self.stdout.write(f"{key.kid}  created {key.created:%Y-%m-%d}  {state}")
