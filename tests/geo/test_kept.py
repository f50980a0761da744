"""``geo/kept.py``: the GeoJSON kept per collection, output CRS and version, within a budget."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gov21.geo import kept


@pytest.fixture(autouse=True)
def _empty() -> Iterator[None]:
    kept.kept_clear()
    yield
    kept.kept_clear()


def test_a_new_version_starts_empty_and_an_old_one_keeps_nothing_more() -> None:
    old = kept.kept_get("parcels", "crs84", "v1")
    kept.kept_add(old, {1: ('{"id": "a"', '"a"')})
    assert kept.kept_get("parcels", "crs84", "v1").texts == {1: ('{"id": "a"', '"a"')}
    assert kept.kept_get("parcels", "utm", "v1").texts == {}
    new = kept.kept_get("parcels", "crs84", "v2")
    assert new.texts == {}
    # A request that rendered under v1 after v2 was read keeps nothing: no one asks for v1 again.
    kept.kept_add(old, {2: ('{"id": "b"', '"b"')})
    assert kept.kept_get("parcels", "crs84", "v2").texts == {}
    assert 2 not in old.texts


def test_past_the_budget_everything_is_dropped_and_kept_anew(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "BUDGET", 25)
    parcels = kept.kept_get("parcels", "crs84", "v1")
    buildings = kept.kept_get("buildings", "crs84", "v1")
    kept.kept_add(parcels, {1: ("x" * 10, None)})
    kept.kept_add(buildings, {1: ("y" * 10, None)})
    assert parcels.texts and buildings.texts
    kept.kept_add(parcels, {2: ("z" * 10, None)})
    assert parcels.texts == {2: ("z" * 10, None)} and buildings.texts == {}


def test_a_budget_of_nothing_keeps_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kept, "BUDGET", 0)
    parcels = kept.kept_get("parcels", "crs84", "v1")
    kept.kept_add(parcels, {1: ("x" * 10, None)})
    assert kept.kept_get("parcels", "crs84", "v1").texts == {}
