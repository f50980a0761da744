"""The continuity tests' own node: a data directory of their own, so keys made there never touch
other tests. The registry's and the service engine's key stores are looked up once per process, so
they are dropped on the way in and out."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest


def forget_key_stores() -> None:
    from gov21.onestop.documents import services_keys
    from gov21.registry.keys import registry_keys

    registry_keys.cache_clear()
    services_keys.cache_clear()


@pytest.fixture
def node(tmp_path: Path, settings: Any) -> Iterator[Path]:
    data = tmp_path / "node"
    data.mkdir()
    settings.DATA_DIR = data
    forget_key_stores()
    yield data
    forget_key_stores()
