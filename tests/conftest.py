from __future__ import annotations

from typing import Any

import pytest
from django.db import connection

from gov21.identity.principal import Principal


@pytest.fixture
def registrar() -> Principal:
    return Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))


@pytest.fixture
def clerk() -> Principal:
    return Principal(name="clerk.one", kind="staff", roles=frozenset({"clerk"}))


@pytest.fixture
def reader() -> Principal:
    return Principal(name="reader.one", kind="token", roles=frozenset({"reader"}))


def pytest_collection_modifyitems(config: Any, items: list[Any]) -> None:
    skip_pg = pytest.mark.skip(reason="needs PostgreSQL (set GOV21_DATABASE_URL)")
    for item in items:
        if "postgres_only" in item.keywords and connection.vendor != "postgresql":
            item.add_marker(skip_pg)
