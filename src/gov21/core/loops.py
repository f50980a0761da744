"""The loop of a background worker: run a batch, rest when the batch was not full, stop when told."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

from django.db import close_old_connections, connection


def batches_loop(
    run: Callable[[int], tuple[int, int]],
    *,
    batch: int,
    interval: float,
    stop_after: float | None,
    logger: logging.Logger,
    what: str,
) -> int:
    """Call ``run(batch)`` (which returns attempted, done) until ``stop_after`` seconds have passed
    (for ever without it), resting ``interval`` seconds whenever a run found less than a full batch.
    A failing run is logged and the loop goes on. Returns how many were done."""
    started = time.monotonic()
    total = 0
    while True:
        if connection.get_autocommit():  # never inside a caller's transaction
            close_old_connections()
        busy = False
        try:
            attempted, done = run(batch)
            total += done
            busy = attempted >= batch
        except Exception:
            logger.exception("%s run failed", what)
        elapsed = time.monotonic() - started
        if stop_after is not None and elapsed >= stop_after:
            return total
        if not busy:
            rest = interval if stop_after is None else min(interval, stop_after - elapsed)
            time.sleep(max(rest, 0.0))
