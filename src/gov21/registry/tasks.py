from __future__ import annotations

from django.conf import settings
from django.db import transaction
from django_tasks import task

from gov21.registry.uin_pool import uin_pool_refill, uin_pool_size


@task()
def uin_pool_top_up() -> int:
    """Refill the UIN pool to its target size. Runs on the background worker."""
    return uin_pool_refill(target=settings.GOV21_UIN_POOL_SIZE)


def uin_pool_watch() -> None:
    """After the current transaction commits, ask the worker to refill the pool if it runs low."""

    def _check() -> None:
        if uin_pool_size() < settings.GOV21_UIN_POOL_LOW_WATER:
            uin_pool_top_up.enqueue()

    transaction.on_commit(_check)
