from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.db import connection
from django.utils import translation

from gov21.core.principal import Principal

# Checks on the suite as a whole: every API operation proved over HTTP, every skip written down.
pytest_plugins = ("tests.suite_checks",)


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


@pytest.fixture
def exchange(db: None) -> Iterator[None]:
    """The demo nation's exchange: agencies, subsystems, registry services, rights, this node."""
    from gov21.exchange import node, provider, setup, wsgi

    node._node_cache.clear()
    node.CONFS.clear()
    provider._address_cache.clear()
    wsgi._client_rules.clear()
    setup.bootstrap()
    yield
    node.CONFS.clear()
    provider._address_cache.clear()
    wsgi._client_rules.clear()
    node._node_cache.clear()


# Where personal data is read as a signed-in person (identity claims, the portal), it comes from the
# registry through the exchange, so those tests get the demo nation's exchange with their database.
_EXCHANGE_DIRS = ("identity", "portal", "browser")


@pytest.fixture(autouse=True)
def _demo_exchange(request: pytest.FixtureRequest) -> Iterator[None]:
    folder = request.node.path.parent.name
    uses_db = request.node.get_closest_marker("django_db") is not None or {
        "db",
        "transactional_db",
        "live_server",
    } & set(request.fixturenames)
    if folder == "portal" or (folder in _EXCHANGE_DIRS and uses_db):
        request.getfixturevalue("exchange")
    yield


@pytest.fixture
def tsa(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """gov21's own RFC 3161 timestamping authority, served over HTTP on a free loopback port and
    configured as the one the logs' tree heads are countersigned by (its certificate pinned)."""
    from gov21.core import tsa as timestamping

    directory = tmp_path_factory.mktemp("tsa")
    authority = timestamping.Authority.load(directory)
    server = timestamping.serve(authority, port=0)
    monkeypatch.setenv("GOV21_TSA_URL", f"http://127.0.0.1:{server.server_address[1]}/")
    monkeypatch.setenv("GOV21_TSA_CERT", str(directory / "tsa.pem"))
    yield authority
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _english_after_each_test() -> Iterator[None]:
    """A request in another language leaves it active in the thread; the next test, in the same
    worker, would read translated messages where it expects English."""
    yield
    translation.deactivate()
