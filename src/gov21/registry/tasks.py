from __future__ import annotations

import itertools
from typing import Final

from django.conf import settings
from django.db import transaction
from django_tasks import task

from gov21.registry.uin_pool import uin_pool_refill, uin_pool_size


@task()
def uin_pool_top_up() -> int:
    """Refill the UIN pool to its target size. Runs on the background worker."""
    return uin_pool_refill(target=settings.GOV21_UIN_POOL_SIZE)


# Births between two looks at the pool's size in one process. Counting the pool after every birth
# was a statement and a commit hook per registration for a number that moves by one; the pool's
# margin above its low-water mark (1,500 UINs by default) is far more than the births of every
# process between two looks, and a registration that finds the pool empty refills it inline.
WATCH_EVERY: Final = 32
_births = itertools.count()


def uin_pool_watch() -> None:
    """After the current transaction commits, ask the worker to refill the pool if it runs low (every
    ``WATCH_EVERY`` births of this process, the first included)."""
    if next(_births) % WATCH_EVERY:
        return

    def _check() -> None:
        if uin_pool_size() < settings.GOV21_UIN_POOL_LOW_WATER:
            uin_pool_top_up.enqueue()

    transaction.on_commit(_check)
