"""Django's SQLite backend, keeping the query planner's statistics fresh (decision 0073).

SQLite's planner chooses between indexes by the statistics ``ANALYZE`` leaves in ``sqlite_stat1``;
without them it guesses, and on a large land register it read every current parcel through the
``(valid_to, ...)`` index instead of the R*Tree's few ids (345 ms for a page of 100, against 1 to
3 ms with statistics). As SQLite advises, each connection runs ``PRAGMA optimize`` before it
closes: it analyses the tables whose queries on that connection would have planned better with
fresh statistics (none, usually, and then it costs microseconds). ``analysis_limit`` (set when the
connection opens, in settings) bounds each analysis to a sample of every index. A web worker's
connection closes after ``CONN_MAX_AGE``, so this runs every few minutes on a busy node; after a
bulk load the loader gathers them at once (``gov21.core.dbstats``)."""

from __future__ import annotations

import logging
import sqlite3

from django.db.backends.sqlite3 import base

logger = logging.getLogger(__name__)


class DatabaseWrapper(base.DatabaseWrapper):
    def close(self) -> None:
        if self.connection is not None and not self.in_atomic_block and not self.is_in_memory_db():
            try:
                self.connection.execute("PRAGMA optimize")
            except sqlite3.Error as error:  # a busy database: the next connection's close tries again
                logger.info("PRAGMA optimize skipped: %s", error)
        super().close()
