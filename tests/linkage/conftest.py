from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings


@pytest.fixture(autouse=True)
def _linkage_data(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    """The demo nation's exchange (the linkage reads the registry through it) for every test with a
    database."""
    uses_db = request.node.get_closest_marker("django_db") is not None or {"db", "transactional_db"} & set(
        request.fixturenames
    )
    with override_settings(DATA_DIR=tmp_path):
        if uses_db:
            request.getfixturevalue("exchange")
        yield
