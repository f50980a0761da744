"""The query planner's statistics, gathered after a bulk load and when the platform starts
(decision 0073): a box page of a large register uses its indexes only when the planner knows how
many rows each would read. PostgreSQL's autovacuum gathers them on its own, later; SQLite never
does unless asked (``core.backends.sqlite3`` asks again as connections close)."""

from __future__ import annotations

import time
from typing import Final

from django.db import connection

# Rows SQLite samples of each index (SQLite's own advice for ANALYZE run as routine): 0.06 s for
# the land register of 200,000 parcels instead of a full scan of every index.
SQLITE_ANALYSIS_LIMIT: Final = 1000


def planner_statistics_refresh() -> float:
    """Gather the statistics of every table now; the seconds it took."""
    started = time.perf_counter()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"PRAGMA analysis_limit={SQLITE_ANALYSIS_LIMIT}")
        cursor.execute("ANALYZE")
    return time.perf_counter() - started


def planner_statistics_missing() -> bool:
    """On SQLite: whether no table has statistics yet (a database loaded or restored without them)."""
    if connection.vendor != "sqlite":
        return False
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE name = 'sqlite_stat1'")
        if cursor.fetchone() is None:
            return True
        cursor.execute("SELECT count(*) FROM sqlite_stat1")
        row = cursor.fetchone()
        return row is None or int(row[0]) == 0
