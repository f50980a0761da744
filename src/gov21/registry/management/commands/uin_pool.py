from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from gov21.registry.uin_pool import uin_pool_refill, uin_pool_size


class Command(BaseCommand):
    help = "Fill the pool of unissued UINs to its target size and show how many remain."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--target", type=int, default=None)

    def handle(self, *args: Any, **options: Any) -> None:
        added = uin_pool_refill(target=options["target"] or settings.GOV21_UIN_POOL_SIZE)
        self.stdout.write(f"UIN pool: {uin_pool_size()} available ({added} added).")
