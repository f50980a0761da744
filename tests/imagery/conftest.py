"""Rasters made for the tests with rasterio, and an imagery storage of each test's own."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import rasterio
from rasterio.transform import from_origin

# A corner on the demo country's main island, in UTM zone 20N (EPSG:32620).
EAST, NORTH = 505000.0, 1578000.0

MakeRaster = Callable[..., Path]


@pytest.fixture(autouse=True)
def imagery_store(tmp_path: Path, settings: Any) -> Path:
    store = tmp_path / "imagery-store"
    settings.GOV21_IMAGERY_STORAGE = str(store)
    return store


@pytest.fixture
def make_raster(tmp_path: Path) -> MakeRaster:
    """A GeoTIFF of ``width`` × ``height`` 30 m pixels whose north-west corner is ``east``, ``north``
    metres in ``crs``; ``nodata_left`` marks that many columns on the west as no data."""

    def make(
        name: str = "scene.tif",
        *,
        width: int = 120,
        height: int = 90,
        east: float = EAST,
        north: float = NORTH,
        pixel: float = 30.0,
        crs: str | None = "EPSG:32620",
        seed: int = 1,
        nodata_left: int = 0,
        count: int = 3,
        dtype: str = "uint8",
    ) -> Path:
        rng = np.random.default_rng(seed)
        data = (rng.random((count, height, width)) * 200 + 30).astype(dtype)
        profile: dict[str, Any] = {
            "driver": "GTiff",
            "width": width,
            "height": height,
            "count": count,
            "dtype": dtype,
            "transform": from_origin(east, north, pixel, pixel),
        }
        if crs is not None:
            profile["crs"] = crs
        if nodata_left:
            profile["nodata"] = 0
            data[:, :, :nodata_left] = 0
        path = tmp_path / name
        with rasterio.open(path, "w", **profile) as dataset:
            dataset.write(data)
        return path

    return make


Catalogue = dict[str, Any]


@pytest.fixture
def catalogue(make_raster: MakeRaster) -> Catalogue:
    """Two collections, five items at three places and five times, added through the service."""
    from gov21.imagery.services import imagery_add

    scenes = [
        ("survey", "north-a", "2026-01-10T10:00:00Z", EAST, NORTH),
        ("survey", "north-b", "2026-03-05", EAST, NORTH),
        ("survey", "south", "2026-09-02T14:30:00Z", EAST, NORTH - 30000),
        ("flood", "flood-1", "2026-09-03T12:00:00Z", EAST + 5000, NORTH),
        ("flood", "flood-2", "2026-09-04T00:00:00Z/2026-09-05T00:00:00Z", EAST + 5000, NORTH - 30000),
    ]
    items = {}
    for index, (collection, item_id, taken, east, north) in enumerate(scenes):
        path = make_raster(f"{item_id}.tif", east=east, north=north, seed=index + 10, width=64, height=48)
        items[item_id] = imagery_add(path=path, collection_id=collection, taken=taken, item_id=item_id).item
    return items


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    """The (x, y) of the WebMercatorQuad tile at zoom ``z`` holding the point."""
    import math

    n = 1 << z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y
