from __future__ import annotations

from collections.abc import Iterator

import pytest


@pytest.fixture(autouse=True)
def _concerns_exchange(request: pytest.FixtureRequest) -> Iterator[None]:
    """The demo nation's exchange (the agencies work their queues through it) for every test with a
    database."""
    uses_db = request.node.get_closest_marker("django_db") is not None or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if uses_db:
        request.getfixturevalue("exchange")
        from gov21.concerns.categories import categories_load

        categories_load()  # a transactional test's flush empties what the migration loaded
    yield
