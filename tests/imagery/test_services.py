"""Adding a raster file: checked, converted to a COG, its footprint, thumbnail and projection found,
stored and catalogued; refused with a reason (and nothing stored) when it cannot be used."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import rasterio
import shapely
from django.core.management import CommandError, call_command
from pyproj import Transformer
from rio_cogeo.cogeo import cog_validate

from gov21.core.errors import Conflict, DomainError
from gov21.imagery.models import ImageryAsset, ImageryCollection, ImageryItem
from gov21.imagery.raster import RasterRefused
from gov21.imagery.services import imagery_add

from .conftest import EAST, NORTH, MakeRaster

pytestmark = pytest.mark.django_db


def _stored(store: Path) -> list[Path]:
    return sorted(p for p in store.rglob("*") if p.is_file()) if store.exists() else []


def test_a_file_becomes_an_item_with_a_cog_a_thumbnail_and_its_footprint(
    make_raster: MakeRaster, imagery_store: Path
) -> None:
    added = imagery_add(path=make_raster(), collection_id="survey", taken="2026-09-02T14:30:00Z")
    item = added.item
    assert added.created and item.item_id == "scene" and item.collection.collection_id == "survey"
    assert item.taken_at is not None and item.taken_at.isoformat() == "2026-09-02T14:30:00+00:00"
    assert item.properties["proj:code"] == "EPSG:32620"
    assert item.properties["proj:shape"] == [90, 120]
    assert item.properties["proj:transform"] == [30.0, 0.0, EAST, 0.0, -30.0, NORTH]
    assert item.properties["gsd"] == 30.0
    # The footprint is the raster's rectangle carried to CRS84: its corners are where pyproj puts them.
    to84 = Transformer.from_crs("EPSG:32620", "OGC:CRS84", always_xy=True)
    corners = [to84.transform(x, y) for x, y in ((EAST, NORTH), (EAST + 3600, NORTH), (EAST, NORTH - 2700))]
    for lon, lat in corners:
        assert item.geometry.distance(shapely.Point(lon, lat)) < 1e-6
    assert (
        abs(
            item.geometry.area - shapely.Polygon([*corners, to84.transform(EAST + 3600, NORTH - 2700)]).convex_hull.area
        )
        < 1e-9
    )
    assert -63.0 < item.min_lon < item.max_lon < -62.9 and 14.2 < item.min_lat < item.max_lat < 14.3
    assets = {asset.key: asset for asset in item.assets.all()}
    assert set(assets) == {"data", "thumbnail"}
    cog = imagery_store / assets["data"].storage_key
    assert cog_validate(str(cog), quiet=True)[0]
    assert cog.stat().st_size == assets["data"].size
    with rasterio.open(cog) as dataset:
        assert dataset.crs.to_epsg() == 32620 and (dataset.width, dataset.height) == (120, 90)
    thumbnail = imagery_store / assets["thumbnail"].storage_key
    assert thumbnail.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.open(thumbnail) as png:
        assert max(png.width, png.height) == 256 and png.count == 4


def test_the_footprint_follows_the_data_not_the_no_data(make_raster: MakeRaster) -> None:
    whole = imagery_add(path=make_raster("whole.tif"), collection_id="survey", taken="2026-09-02").item
    half = imagery_add(
        path=make_raster("half.tif", seed=2, nodata_left=60), collection_id="survey", taken="2026-09-02"
    ).item
    assert half.geometry.area == pytest.approx(whole.geometry.area / 2, rel=0.02)
    assert half.min_lon > whole.min_lon + 0.01
    # A day stands for the whole day: no instant, a start and an end.
    assert half.taken_at is None and (half.end_at - half.start_at).total_seconds() == pytest.approx(86400, abs=1)


def test_the_same_file_again_is_found_not_added_twice(make_raster: MakeRaster, imagery_store: Path) -> None:
    path = make_raster()
    first = imagery_add(path=path, collection_id="survey", taken="2026-09-02T14:30:00Z")
    files = _stored(imagery_store)
    again = imagery_add(path=path, collection_id="survey", taken="2026-09-02T14:30:00Z")
    assert not again.created and again.item.pk == first.item.pk
    assert ImageryItem.objects.count() == 1 and _stored(imagery_store) == files


def test_another_file_under_a_taken_id_is_refused(make_raster: MakeRaster) -> None:
    imagery_add(path=make_raster("a.tif"), collection_id="survey", taken="2026-09-02", item_id="north")
    with pytest.raises(Conflict, match="already has an item north"):
        imagery_add(path=make_raster("b.tif", seed=9), collection_id="survey", taken="2026-09-02", item_id="north")


@pytest.mark.parametrize(
    ("case", "message"),
    [
        ("text", "is not a raster file gov21 can read"),
        ("no_crs", "has no coordinate reference system"),
        ("truncated", "truncated or damaged"),
        ("missing", "is not a file"),
    ],
)
def test_a_file_that_cannot_be_used_is_refused_and_nothing_is_kept(
    make_raster: MakeRaster, imagery_store: Path, tmp_path: Path, case: str, message: str
) -> None:
    if case == "text":
        path = tmp_path / "notes.tif"
        path.write_text("not an image\n")
    elif case == "no_crs":
        path = make_raster(crs=None)
    elif case == "truncated":
        whole = make_raster("whole.tif", width=600, height=600)
        path = tmp_path / "cut.tif"
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    else:
        path = tmp_path / "absent.tif"
    with pytest.raises(RasterRefused, match=message):
        imagery_add(path=path, collection_id="survey", taken="2026-09-02")
    assert not ImageryItem.objects.exists() and not ImageryCollection.objects.exists()
    assert not ImageryAsset.objects.exists() and _stored(imagery_store) == []


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"taken": "2026-09-02/.."}, "closed at both ends"),
        ({"taken": "yesterday"}, "not an RFC 3339"),
        ({"collection_id": "Not An Id"}, "lower-case letters"),
        ({"item_id": "../up"}, "lower-case letters"),
    ],
)
def test_bad_words_are_refused_before_the_file_is_read(
    make_raster: MakeRaster, arguments: dict[str, str], message: str
) -> None:
    given = {"collection_id": "survey", "taken": "2026-09-02", **arguments}
    with pytest.raises(DomainError, match=message):
        imagery_add(path=make_raster(), **given)  # type: ignore[arg-type]
    assert not ImageryItem.objects.exists()


def test_a_failed_write_to_the_catalogue_takes_the_stored_files_back(
    make_raster: MakeRaster, imagery_store: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("the database went away")

    monkeypatch.setattr(ImageryAsset.objects, "bulk_create", broken)
    with pytest.raises(RuntimeError):
        imagery_add(path=make_raster(), collection_id="survey", taken="2026-09-02")
    assert _stored(imagery_store) == [] and not ImageryItem.objects.exists()


def test_sixteen_bit_imagery_is_stretched_for_the_thumbnail(make_raster: MakeRaster, imagery_store: Path) -> None:
    item = imagery_add(path=make_raster(dtype="uint16", count=1), collection_id="survey", taken="2026-09-02").item
    thumbnail = imagery_store / item.assets.get(key="thumbnail").storage_key
    with rasterio.open(thumbnail) as png:
        grey = png.read(1)
        alpha = png.read(4)
    # The values (30 to 230 in 16 bits) are stretched over 0–255, every pixel opaque.
    assert grey.min() < 20 and grey.max() > 235 and np.all(alpha == 255)


def test_the_command_adds_lists_and_refuses_with_a_message(make_raster: MakeRaster, tmp_path: Path) -> None:
    out = io.StringIO()
    call_command(
        "imagery",
        "add",
        str(make_raster()),
        "--collection",
        "survey",
        "--datetime",
        "2026-09-02T14:30:00Z",
        "--id",
        "north-coast",
        "--collection-title",
        "Survey flights",
        stdout=out,
    )
    assert "Added north-coast to survey: /stac/collections/survey/items/north-coast" in out.getvalue()
    assert ImageryCollection.objects.get().title == "Survey flights"
    call_command("imagery", "add", str(make_raster()), "--collection", "survey", "--datetime", "2026-09-02", stdout=out)
    assert "already catalogued as north-coast" in out.getvalue()
    listing = io.StringIO()
    call_command("imagery", "list", stdout=listing)
    assert "survey: Survey flights (1 items)" in listing.getvalue() and "north-coast" in listing.getvalue()
    bad = tmp_path / "bad.tif"
    bad.write_bytes(b"II*\x00garbage")
    with pytest.raises(CommandError, match="not a raster file"):
        call_command("imagery", "add", str(bad), "--collection", "survey", "--datetime", "2026-09-02", stdout=out)
