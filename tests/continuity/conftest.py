"""The continuity tests' own node: a data directory of their own, so keys made there never touch
other tests. The registry's, the service engine's and the land register's key stores are looked up
once per process, so they are dropped on the way in and out."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import connection


def forget_key_stores() -> None:
    from gov21.land.extracts import land_keys
    from gov21.onestop.documents import services_keys
    from gov21.registry.keys import registry_keys

    registry_keys.cache_clear()
    services_keys.cache_clear()
    land_keys.cache_clear()


@pytest.fixture
def node(tmp_path: Path, settings: Any) -> Iterator[Path]:
    data = tmp_path / "node"
    data.mkdir()
    settings.DATA_DIR = data
    forget_key_stores()
    yield data
    forget_key_stores()


NewDatabase = Callable[[], "str | None"]


@pytest.fixture
def new_database() -> Iterator[NewDatabase]:
    """Where each restore puts its database: nowhere extra on SQLite (the restored directory holds it),
    a new database on this PostgreSQL server otherwise, each one dropped after the test."""
    from gov21.continuity.drill import scratch_database_url
    from gov21.continuity.postgres import database_drop

    made: list[str] = []

    def make() -> str | None:
        if connection.vendor != "postgresql":
            return None
        made.append(scratch_database_url())
        return made[-1]

    yield make
    for url in made:
        database_drop(url)
