"""The query planner's statistics on SQLite (decision 0073): gathered after a bulk load and at start
when missing, and kept fresh by PRAGMA optimize as a connection closes."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from django.db import connection
from django.test import override_settings

from gov21.core.backends.sqlite3.base import DatabaseWrapper
from gov21.core.dbstats import planner_statistics_missing, planner_statistics_refresh


@pytest.mark.django_db
def test_the_statistics_are_gathered_for_every_table() -> None:
    if connection.vendor != "sqlite":
        planner_statistics_refresh()  # PostgreSQL: ANALYZE, and nothing to read back here
        assert planner_statistics_missing() is False
        return
    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS sqlite_stat1")
    assert planner_statistics_missing()
    seconds = planner_statistics_refresh()
    assert seconds < 30 and not planner_statistics_missing()
    with connection.cursor() as cursor:
        cursor.execute("SELECT DISTINCT tbl FROM sqlite_stat1 WHERE tbl = 'django_migrations'")
        assert cursor.fetchall() == [("django_migrations",)]  # (empty tables have nothing to record)


def test_a_connection_that_closes_analyses_what_its_queries_needed(tmp_path: Path, django_db_blocker: Any) -> None:
    """A file database used through the platform's backend: the table its query used has statistics
    once the connection closes, without anyone running ANALYZE."""
    path = tmp_path / "node.sqlite3"
    raw = sqlite3.connect(path)
    raw.execute("CREATE TABLE parcel (id INTEGER PRIMARY KEY, valid_to TEXT, lon REAL)")
    raw.execute("CREATE INDEX parcel_current ON parcel (valid_to, lon)")
    raw.executemany("INSERT INTO parcel (valid_to, lon) VALUES (?, ?)", ((None, i / 1000) for i in range(20_000)))
    raw.commit()
    raw.close()
    settings_dict = {
        "ENGINE": "gov21.core.backends.sqlite3",
        "NAME": str(path),
        "OPTIONS": {"init_command": "PRAGMA analysis_limit=1000;"},
        "TIME_ZONE": None,
        "CONN_MAX_AGE": 0,
        "CONN_HEALTH_CHECKS": False,
        "AUTOCOMMIT": True,
        "ATOMIC_REQUESTS": False,
        "TEST": {},
    }
    with override_settings(), django_db_blocker.unblock():
        wrapper = DatabaseWrapper(settings_dict, alias="planner_statistics")
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT id FROM parcel WHERE valid_to IS NULL AND lon BETWEEN 1 AND 2")
            cursor.fetchall()
        wrapper.close()
    stats = sqlite3.connect(path).execute("SELECT tbl, idx FROM sqlite_stat1").fetchall()
    assert ("parcel", "parcel_current") in stats
