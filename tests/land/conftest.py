from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings


@pytest.fixture(autouse=True)
def _land_data(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's documents and keys in a directory of its own; the demo nation's exchange (the land
    register reads people and businesses through it) for every test with a database."""
    from gov21.land.extracts import land_keys

    uses_db = request.node.get_closest_marker("django_db") is not None or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    with override_settings(DATA_DIR=tmp_path):
        land_keys.cache_clear()
        if uses_db:
            request.getfixturevalue("exchange")
        yield
    land_keys.cache_clear()
