"""Tiles built before a map asks for them: after a change, the tile keeper builds for the new version
the tiles that had been kept for the earlier one (so a map finds them kept, with the change in
them), stops when another change comes meanwhile, and never keeps a collection that needs a right;
``gov21 tiles seed`` builds every tile over a collection's extent, once, and refuses bad input."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import mapbox_vector_tile
import morecantile
import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings
from shapely.geometry import Point

from gov21.core.geo import BBox
from gov21.geo import contracts, seeding
from gov21.geo.contracts import (
    Collection,
    Feature,
    Property,
    Query,
    Result,
    collection_changed,
    collection_get,
    collection_register,
    features_select,
)
from gov21.geo.seeding import seed_count, tiles_follow, tiles_rebuild

pytestmark = pytest.mark.django_db
TMS = morecantile.tms.get("WebMercatorQuad")
WELL = (-63.1234, 14.2345)


def _url(zoom: int) -> str:
    tile = TMS.tile(*WELL, zoom)
    return f"/geo/collections/wells/tiles/WebMercatorQuad/{zoom}/{tile.y}/{tile.x}"


class Wells:
    def __init__(self) -> None:
        self.features = [Feature("w1", Point(*WELL), {"name": "Old well"})]
        self.asked = 0
        self.during_read: list[object] = []

    def items(self, query: Query) -> Result:
        self.asked += 1
        if self.during_read:
            self.during_read.pop()
            collection_changed("wells")
        return features_select(self.features, query)


def _register(wells: Wells, *, permission: str | None = None) -> Collection:
    collection = Collection(
        id="wells",
        title="Wells",
        description="Wells.",
        properties=(Property("name", "string", "Name"),),
        items=wells.items,
        item=lambda feature_id, reader: None,
        extent=lambda: BBox(-63.13, 14.23, -63.12, 14.24),
        versioned=True,
        permission=permission,
        tile_min_zoom=12,
    )
    collection_register(collection)
    return collection


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


def _names(content: bytes) -> set[str]:
    return {f["properties"]["name"] for f in mapbox_vector_tile.decode(content)["wells"]["features"]}


def _wells() -> Collection:
    found = collection_get("wells")
    assert found is not None
    return found


def test_after_a_change_the_keeper_builds_the_tiles_maps_asked_for(wells: Wells, data_dir: Path) -> None:
    client = Client()
    for zoom in (14, 15):
        assert _names(client.get(_url(zoom)).content) == {"Old well"}
    assert wells.asked == 2
    wells.features = [*wells.features, Feature("w2", Point(-63.1230, 14.2340), {"name": "New well"})]
    collection_changed("wells")
    assert tiles_rebuild(_wells()) == 2 and wells.asked == 4
    # The map's next requests find both tiles kept, with the change in them.
    for zoom in (14, 15):
        assert _names(client.get(_url(zoom)).content) == {"Old well", "New well"}
    assert wells.asked == 4
    assert len(list((data_dir / "tiles" / "wells").iterdir())) == 1  # the earlier version's folder is gone
    assert tiles_rebuild(_wells()) == 0  # nothing changed since


def test_a_tile_not_yet_rebuilt_is_built_by_the_request_from_the_new_version(wells: Wells) -> None:
    client = Client()
    client.get(_url(14))
    wells.features = []
    collection_changed("wells")
    assert _names(client.get(_url(14)).content) == set()  # never the earlier version's tile
    assert wells.asked == 2
    assert tiles_rebuild(_wells()) == 0 and wells.asked == 2  # the request's tile is kept: not built twice


def test_a_change_during_the_rebuild_leaves_the_earlier_tiles_for_the_next_round(wells: Wells, data_dir: Path) -> None:
    client = Client()
    for zoom in (14, 15):
        client.get(_url(zoom))
    collection_changed("wells")
    wells.during_read = [object()]  # the first tile the keeper reads sees a new change commit
    assert tiles_rebuild(_wells()) == 1
    assert len(list((data_dir / "tiles" / "wells").rglob("*.mvt"))) == 2  # the earlier tiles, still known
    wells.features = []
    assert tiles_rebuild(_wells()) == 2
    for zoom in (14, 15):
        assert _names(client.get(_url(zoom)).content) == set()
    assert wells.asked == 5


def test_the_follower_rebuilds_after_a_change(wells: Wells) -> None:
    client = Client()
    client.get(_url(14))
    collection_changed("wells")
    assert tiles_follow(every=0.01, stop_after=0.05) == 1
    asked = wells.asked
    client.get(_url(14))
    assert wells.asked == asked


def test_a_collection_that_needs_a_right_is_never_rebuilt(data_dir: Path) -> None:
    register = Wells()
    collection = _register(register, permission="person.read")
    collection_changed("wells")
    try:
        assert tiles_rebuild(collection) == 0 and register.asked == 0
        with pytest.raises(CommandError, match="not kept"):
            call_command("tiles", "seed", "--collection", "wells")
    finally:
        contracts._COLLECTIONS.pop("wells")


def test_seed_builds_every_tile_over_the_extent_once(wells: Wells) -> None:
    expected = seed_count(_wells(), 15)
    assert expected >= 3  # zooms 12 to 15 over the extent
    call_command("tiles", "seed", "--collection", "wells", "--max-zoom", "15")
    assert wells.asked == expected
    call_command("tiles", "seed", "--collection", "wells", "--max-zoom", "15")
    assert wells.asked == expected  # all kept already
    Client().get(_url(15))
    assert wells.asked == expected


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--collection", "no-such-thing"], "no collection"),
        (["--collection", "wells", "--max-zoom", "23"], "from 0 to 22"),
        (["--collection", "wells", "--max-zoom", "-1"], "from 0 to 22"),
        (["--collection", "wells", "--max-zoom", "18"], "more than 50 "),
        (["--max-zoom", "many"], "invalid int value"),
    ],
)
def test_seed_refuses_bad_input(
    wells: Wells, arguments: list[str], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(seeding, "SEED_MAX", 50)
    with pytest.raises(CommandError, match=message):
        call_command("tiles", "seed", *arguments)
    assert wells.asked == 0


def test_follow_refuses_a_period_of_zero(wells: Wells) -> None:
    with pytest.raises(CommandError, match="above 0"):
        call_command("tiles", "follow", "--every", "0")


def test_a_failing_round_does_not_stop_the_follower(wells: Wells, monkeypatch: pytest.MonkeyPatch) -> None:
    failures = [OSError("disk full")]

    def rebuild(collection: Collection) -> int:
        if failures:
            raise failures.pop()
        return 1

    monkeypatch.setattr(seeding, "tiles_rebuild", rebuild)
    assert tiles_follow(every=0.01, stop_after=0.05) >= 1  # the rounds after the failure still ran
