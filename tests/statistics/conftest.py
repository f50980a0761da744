from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings


@pytest.fixture(autouse=True)
def _statistics_data(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    """Each test's datastore in a directory of its own; the demo nation's exchange (the office reads
    the registry and its events through it) for every test with a database."""
    uses_db = request.node.get_closest_marker("django_db") is not None or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    with override_settings(DATA_DIR=tmp_path):
        if uses_db:
            request.getfixturevalue("exchange")
        yield
