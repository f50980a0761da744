"""SIGKILL of the server during a stream of birth registrations: after the restart every acknowledged
registration is there, whole, and nothing is half-written. A few trials here; ``bench/crash.py`` runs
a hundred.

The server runs on data of its own: a data directory under /tmp and, when the suite runs on
PostgreSQL, a database of its own on the same PostgreSQL server, dropped at the end.
"""

from __future__ import annotations

import os
import random
import shutil
from collections.abc import Iterator

import pytest

from tests.continuity.crashing import Acks, Server, pg_database_create, pg_database_drop, trial

# In the group of the other multi-process tests: two such at once on two cores starve each other.
pytestmark = [pytest.mark.xdist_group("nodes"), pytest.mark.timeout(240)]

TRIALS = 3


@pytest.fixture
def server() -> Iterator[Server]:
    suite_database = os.environ.get("GOV21_DATABASE_URL")
    database_url = pg_database_create(suite_database) if suite_database else None
    served = Server(database_url=database_url)
    try:
        served.prepare(people=200)
        served.start()
        yield served
    finally:
        served.stop()
        if database_url:
            pg_database_drop(database_url)
        shutil.rmtree(served.root, ignore_errors=True)


def test_a_killed_server_keeps_every_acknowledged_registration_and_no_half_written_one(
    server: Server, rng: random.Random
) -> None:
    total = Acks()
    trials = [trial(server, total, rng=rng) for _ in range(TRIALS)]

    for number, t in enumerate(trials, 1):
        where = f"trial {number}, killed after {t.kill_after:.2f} s; the server's log:\n{t.log}"
        assert t.refused == [], f"answers other than success before the kill in {where}"
        assert t.lost == [], where
        assert t.half_written == [], where
    # The stream did register births and the kill did cut requests off, or the trials proved nothing.
    assert len(total.registered) > 0
    assert len(total.certified) > 0
    assert sum(t.cut_off for t in trials) > 0
