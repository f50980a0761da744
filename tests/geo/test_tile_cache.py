"""Tiles kept until their collection changes: a versioned public collection's tile is built once and
served again without asking the collection; a change (``collection_changed``) shows on the next
request with a new ETag; a change during the build, a rolled-back change, a collection that needs a
right, and a collection that does not say when it changes are never served from what was kept."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import mapbox_vector_tile
import morecantile
import pytest
from django.db import transaction
from django.test import Client, override_settings
from shapely.geometry import Point

from gov21.core.geo import BBox
from gov21.core.principal import Principal
from gov21.geo import contracts, tiles, views
from gov21.geo.contracts import (
    Collection,
    Feature,
    Property,
    Query,
    Result,
    collection_changed,
    collection_get,
    collection_register,
    collection_version,
    features_select,
)
from gov21.geo.seeding import tiles_rebuild

pytestmark = pytest.mark.django_db
TMS = morecantile.tms.get("WebMercatorQuad")
TILE = TMS.tile(-63.1234, 14.2345, 14)
URL = f"/geo/collections/wells/tiles/WebMercatorQuad/14/{TILE.y}/{TILE.x}"


class Wells:
    """A register of wells held in a list: what it serves, and how often it was asked."""

    def __init__(self) -> None:
        self.features = [Feature("w1", Point(-63.1234, 14.2345), {"name": "Old well"})]
        self.asked = 0
        self.during_read: Callable[[], None] | None = None

    def items(self, query: Query) -> Result:
        self.asked += 1
        if self.during_read is not None:
            self.during_read()
        return features_select(self.features, query)


def _register(wells: Wells, *, versioned: bool = True, permission: str | None = None) -> None:
    collection_register(
        Collection(
            id="wells",
            title="Wells",
            description="Wells.",
            properties=(Property("name", "string", "Name"),),
            items=wells.items,
            item=lambda feature_id, reader: None,
            extent=lambda: BBox(-63.2, 14.2, -63.1, 14.3),
            versioned=versioned,
            permission=permission,
        )
    )


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(DATA_DIR=tmp_path):
        yield tmp_path


@pytest.fixture
def wells(data_dir: Path) -> Iterator[Wells]:
    register = Wells()
    _register(register)
    collection_changed("wells")
    yield register
    contracts._COLLECTIONS.pop("wells")


def _wells() -> Collection:
    found = collection_get("wells")
    assert found is not None
    return found


def _names(content: bytes, layer: str = "wells") -> set[str]:
    return {f["properties"]["name"] for f in mapbox_vector_tile.decode(content)[layer]["features"]}


def test_a_tile_is_built_once_and_kept_until_its_collection_changes(wells: Wells, data_dir: Path) -> None:
    client = Client()
    first = client.get(URL)
    assert first.status_code == 200 and _names(first.content) == {"Old well"} and wells.asked == 1
    assert list((data_dir / "tiles" / "wells").rglob("*.mvt"))
    again = client.get(URL)
    assert again.content == first.content and again["ETag"] == first["ETag"] and wells.asked == 1
    assert client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304 and wells.asked == 1
    # The register changes: the next request builds the tile again and shows the change.
    wells.features = [*wells.features, Feature("w2", Point(-63.1230, 14.2340), {"name": "New well"})]
    collection_changed("wells")
    changed = client.get(URL, HTTP_IF_NONE_MATCH=first["ETag"])
    assert changed.status_code == 200 and changed["ETag"] != first["ETag"] and wells.asked == 2
    assert _names(changed.content) == {"Old well", "New well"}
    # The new version's tile is kept and served; the earlier version's folder waits for the tile
    # keeper, which finds its tile already built and removes the folder.
    assert client.get(URL).content == changed.content and wells.asked == 2
    assert len(list((data_dir / "tiles" / "wells").iterdir())) == 2
    assert tiles_rebuild(_wells()) == 0 and wells.asked == 2
    assert len(list((data_dir / "tiles" / "wells").iterdir())) == 1


def test_an_earlier_version_left_alone_is_removed_by_the_next_new_version(
    wells: Wells, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    client.get(URL)
    collection_changed("wells")
    client.get(URL)
    assert len(list((data_dir / "tiles" / "wells").iterdir())) == 2  # kept for the keeper
    monkeypatch.setattr(tiles, "EARLIER_KEPT_SECONDS", -1)  # as if no keeper ran for ten minutes
    collection_changed("wells")
    client.get(URL)
    assert len(list((data_dir / "tiles" / "wells").iterdir())) == 1


def test_a_change_during_the_build_is_served_but_not_kept(wells: Wells) -> None:
    client = Client()
    wells.during_read = lambda: collection_changed("wells")
    client.get(URL)
    client.get(URL)
    assert wells.asked == 2  # each build saw the version change under it: nothing was kept
    wells.during_read = None
    client.get(URL)
    client.get(URL)
    assert wells.asked == 3


def test_a_rolled_back_change_brings_back_the_earlier_version(wells: Wells) -> None:
    before = collection_version("wells")
    assert before is not None
    with pytest.raises(RuntimeError), transaction.atomic():
        collection_changed("wells")
        assert collection_version("wells") != before
        raise RuntimeError("the registration failed")
    assert collection_version("wells") == before


def test_the_dataset_tile_joins_kept_and_built_layers(wells: Wells) -> None:
    client = Client()
    url = f"/geo/tiles/WebMercatorQuad/14/{TILE.y}/{TILE.x}"
    first = client.get(url)
    decoded = mapbox_vector_tile.decode(first.content)
    assert {"wells", "parishes"} <= set(decoded) and _names(first.content) == {"Old well"}
    assert client.get(url).content == first.content and wells.asked == 1
    wells.features = []
    collection_changed("wells")
    assert _names(client.get(url).content) == set() and wells.asked == 2


def test_a_collection_that_does_not_say_when_it_changes_is_built_each_time(data_dir: Path) -> None:
    register = Wells()
    _register(register, versioned=False)
    try:
        client = Client()
        client.get(URL)
        register.features = []
        assert _names(client.get(URL).content) == set() and register.asked == 2
        assert not (data_dir / "tiles").exists()
    finally:
        contracts._COLLECTIONS.pop("wells")


def test_a_collection_whose_register_never_changed_is_built_each_time(data_dir: Path) -> None:
    register = Wells()
    _register(register)
    try:
        assert collection_version("wells") is None
        client = Client()
        client.get(URL)
        client.get(URL)
        assert register.asked == 2 and not (data_dir / "tiles").exists()
    finally:
        contracts._COLLECTIONS.pop("wells")


def test_a_collection_that_needs_a_right_is_never_kept(
    data_dir: Path, registrar: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    register = Wells()
    _register(register, permission="person.read")
    collection_changed("wells")
    monkeypatch.setattr(views, "request_principal", lambda request: registrar)
    try:
        client = Client()
        assert client.get(URL).status_code == 200 and client.get(URL).status_code == 200
        assert register.asked == 2 and not (data_dir / "tiles").exists()
    finally:
        contracts._COLLECTIONS.pop("wells")
