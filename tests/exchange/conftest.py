from __future__ import annotations

from collections.abc import Iterator

import pytest

from gov21.exchange import gateway, node, setup


@pytest.fixture
def exchange(db: None, settings: object) -> Iterator[None]:
    """The demo nation's exchange: agencies, subsystems, registry services, rights, this node."""
    node._node_cache.clear()
    node.CONFS.clear()
    gateway._address_cache.clear()
    setup.bootstrap()
    yield
    node.CONFS.clear()
    gateway._address_cache.clear()
    node._node_cache.clear()
