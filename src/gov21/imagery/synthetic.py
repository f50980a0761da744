"""Synthetic imagery of the demo country, drawn offline from its boundaries and settlements and
deterministic for a seed: a scene before a hurricane and one after it, as an operator would receive
from a satellite provider, so the catalogue, the tiles and the map have something true to the
country's shape to show.

What is drawn: sea (shallower near the coast), land from the parishes' boundaries, vegetation with a
texture, settlements as built-up patches sized by their population, roads between neighbouring
settlements. After the hurricane: low land near the windward (east) coast flooded with muddy water,
vegetation browned by the wind, debris strewn over settlements and roads, turbid water offshore."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, Point
from shapely.geometry.base import BaseGeometry

from gov21.core.geo import CRS84, projected_crs, transform
from gov21.core.geography import boundaries, geography

PIXEL_METRES = 30.0
MARGIN_METRES = 3000.0
PRE_DATETIME = "2026-08-20T14:30:00Z"
POST_DATETIME = "2026-09-03T14:30:00Z"
Array = NDArray[np.float32]


@dataclass(frozen=True, slots=True)
class Scene:
    """One drawn scene: its pixels (3 × height × width, 8-bit RGB), where they lie, and its name."""

    name: str
    rgb: NDArray[np.uint8]
    transform: tuple[float, float, float, float, float, float]
    epsg: int

    def write(self, path: Path) -> None:
        """The scene as a (plain, tiled) GeoTIFF at ``path``, ready to be catalogued."""
        import rasterio
        from affine import Affine

        _bands, height, width = self.rgb.shape
        with rasterio.open(
            path,
            "w",
            driver="GTiff",
            width=width,
            height=height,
            count=3,
            dtype="uint8",
            crs=f"EPSG:{self.epsg}",
            transform=Affine(*self.transform),
            photometric="RGB",
            tiled=True,
            compress="deflate",
        ) as dataset:
            dataset.write(self.rgb)


def _blur(field: Array, radius: int) -> Array:
    """A box blur of ``radius`` pixels each way (twice, which is close to a Gaussian)."""
    for _pass in range(2):
        for axis in (0, 1):
            padded = np.pad(field, [(radius + 1, radius) if a == axis else (0, 0) for a in (0, 1)], mode="edge")
            summed = np.cumsum(padded, axis=axis, dtype=np.float64)
            upper = summed.take(range(2 * radius + 1, summed.shape[axis]), axis=axis)
            lower = summed.take(range(0, summed.shape[axis] - 2 * radius - 1), axis=axis)
            field = ((upper - lower) / (2 * radius + 1)).astype(np.float32)
    return field


def _noise(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> Array:
    """Smooth value noise in 0–1 with features about ``cell`` pixels across (bilinear between random
    values on a coarse grid)."""
    height, width = shape
    rows, cols = height // cell + 2, width // cell + 2
    grid = rng.random((rows, cols), dtype=np.float32)
    y = np.arange(height, dtype=np.float32) / cell
    x = np.arange(width, dtype=np.float32) / cell
    y0, x0 = y.astype(int), x.astype(int)
    fy, fx = (y - y0)[:, None], (x - x0)[None, :]
    top = grid[y0][:, x0] * (1 - fx) + grid[y0][:, x0 + 1] * fx
    bottom = grid[y0 + 1][:, x0] * (1 - fx) + grid[y0 + 1][:, x0 + 1] * fx
    smooth: Array = (top * (1 - fy) + bottom * fy).astype(np.float32)
    return smooth


def _octaves(rng: np.random.Generator, shape: tuple[int, int], cell: int) -> Array:
    total = np.zeros(shape, dtype=np.float32)
    weight = 0.0
    for octave in range(3):
        amplitude = 0.5**octave
        total += amplitude * _noise(rng, shape, max(2, cell >> octave))
        weight += amplitude
    return total / weight


def _mix(base: Array, colour: tuple[float, float, float], where: Array) -> Array:
    """``base`` (3 × h × w) moved towards ``colour`` by ``where`` (0–1)."""
    target = np.array(colour, dtype=np.float32)[:, None, None]
    return base + (target - base) * np.clip(where, 0, 1)[None]


class _Canvas:
    """The ground the scenes are drawn on: its grid in the projected CRS and its fixed features."""

    def __init__(self, *, seed: int, pixel: float) -> None:
        from rasterio.features import rasterize
        from rasterio.transform import from_origin

        crs = projected_crs()
        if crs.epsg is None:
            raise ValueError("The projected CRS has no EPSG code.")
        self.epsg = crs.epsg
        land = shapely.union_all([transform(parish.geometry, CRS84, crs) for parish in boundaries()])
        minx, miny, maxx, maxy = land.bounds
        minx, miny = (
            math.floor((minx - MARGIN_METRES) / pixel) * pixel,
            math.floor((miny - MARGIN_METRES) / pixel) * pixel,
        )
        maxx, maxy = (
            math.ceil((maxx + MARGIN_METRES) / pixel) * pixel,
            math.ceil((maxy + MARGIN_METRES) / pixel) * pixel,
        )
        self.width, self.height = round((maxx - minx) / pixel), round((maxy - miny) / pixel)
        self.pixel = pixel
        grid = from_origin(minx, maxy, pixel, pixel)
        self.transform = (grid.a, grid.b, grid.c, grid.d, grid.e, grid.f)
        shape = (self.height, self.width)

        def burn(geometries: Sequence[BaseGeometry]) -> Array:
            if not geometries:
                return np.zeros(shape, dtype=np.float32)
            burnt: Array = rasterize(
                geometries, out_shape=shape, transform=grid, fill=0, default_value=1, dtype="uint8"
            ).astype(np.float32)
            return burnt

        self.land = burn([land])
        radius = max(1, round(1500 / pixel))
        # Distance inland, roughly: the land's share of the neighbourhood (0.5 on the coast, 1 inland).
        self.inland = _blur(self.land, radius)
        self.near_coast = _blur(self.land, max(1, round(900 / pixel)))
        rng = np.random.default_rng(seed)
        self.texture = _octaves(rng, shape, max(4, round(2400 / pixel)))
        self.fine = rng.random(shape, dtype=np.float32)
        self.relief = _octaves(rng, shape, max(4, round(6000 / pixel)))
        places = [
            (Point(shapely.get_coordinates(transform(Point(place.lon, place.lat), CRS84, crs))[0]), place.weight)
            for parish in geography()
            for place in parish.settlements
        ]
        heaviest = max(weight for _point, weight in places)
        towns = [point.buffer(120 + 650 * math.sqrt(weight / heaviest)) for point, weight in places]
        self.built = burn(towns) * self.land
        roads = []
        for index, (point, _weight) in enumerate(places):
            others = sorted(
                ((point.distance(other), other) for j, (other, _w) in enumerate(places) if j != index),
                key=lambda pair: pair[0],
            )
            # Each settlement is joined to its two nearest neighbours on the same island.
            for distance, other in others[:2]:
                if distance < 12000:
                    roads.append(LineString([point, other]).buffer(max(pixel * 0.6, 12)))
        self.roads = burn(roads) * self.land
        self.rng_seed = seed


def _scene_pre(canvas: _Canvas) -> Array:
    shape = (canvas.height, canvas.width)
    rgb = np.empty((3, *shape), dtype=np.float32)
    rgb[:] = np.array((18, 48, 88), dtype=np.float32)[:, None, None]
    sea = 1 - canvas.land
    shallow = np.clip(canvas.near_coast * 3, 0, 1) * sea
    rgb = _mix(rgb, (38, 128, 140), shallow)
    vegetation = _mix(rgb, (46, 96, 38), canvas.land)
    vegetation = _mix(vegetation, (92, 128, 58), canvas.land * canvas.texture * 0.9)
    vegetation = _mix(vegetation, (28, 70, 30), canvas.land * canvas.relief * 0.6)
    rgb = np.where(canvas.land[None] > 0, vegetation, rgb)
    beach = canvas.land * (canvas.inland < 0.56)
    rgb = _mix(rgb, (206, 194, 152), beach * 0.8)
    rgb = _mix(rgb, (150, 144, 138), canvas.built * (0.75 + 0.25 * canvas.fine))
    roofs = canvas.built * (canvas.fine > 0.82)
    rgb = _mix(rgb, (190, 92, 70), roofs * 0.8)
    rgb = _mix(rgb, (112, 106, 100), canvas.roads)
    return rgb


def _lowland(canvas: _Canvas) -> Array:
    """Land that a storm surge reaches: near the coast, lower in the relief, more on the windward (east) side."""
    columns = np.linspace(0, 1, canvas.width, dtype=np.float32)[None, :]
    windward = 0.35 + 0.65 * columns
    return canvas.land * (canvas.inland < 0.6 + 0.38 * windward) * (canvas.relief < 0.42 + 0.14 * windward)


def _scene_post(canvas: _Canvas, pre: Array) -> Array:
    rng = np.random.default_rng(canvas.rng_seed + 1)
    shape = (canvas.height, canvas.width)
    damage = np.clip(_octaves(rng, shape, max(4, round(3000 / canvas.pixel))) * 1.4 - 0.2, 0, 1)
    columns = np.linspace(0, 1, canvas.width, dtype=np.float32)[None, :]
    rgb = _mix(pre, (124, 100, 58), canvas.land * (1 - canvas.built) * damage * (0.5 + 0.5 * columns))
    flooded = _lowland(canvas)
    rgb = _mix(rgb, (96, 84, 62), flooded * (0.85 + 0.15 * canvas.fine))
    sea = 1 - canvas.land
    rgb = _mix(rgb, (92, 110, 96), sea * np.clip(canvas.near_coast * 4, 0, 1) * 0.7)
    debris = (canvas.built + canvas.roads * 0.6) * (rng.random(shape, dtype=np.float32) < 0.35)
    speckle = rng.random(shape, dtype=np.float32)
    rgb = _mix(rgb, (214, 204, 188), debris * (speckle > 0.5))
    rgb = _mix(rgb, (70, 58, 46), debris * (speckle <= 0.5))
    return rgb


def demo_scenes(*, seed: int = 21, pixel: float = PIXEL_METRES) -> tuple[Scene, Scene]:
    """The scenes before and after the hurricane, at ``pixel`` metres, the same for the same seed."""
    canvas = _Canvas(seed=seed, pixel=pixel)
    pre = _scene_pre(canvas)
    post = _scene_post(canvas, pre)

    def as_bytes(rgb: Array) -> NDArray[np.uint8]:
        return np.clip(np.rint(rgb), 0, 255).astype(np.uint8)

    return (
        Scene("pre-hurricane", as_bytes(pre), canvas.transform, canvas.epsg),
        Scene("post-hurricane", as_bytes(post), canvas.transform, canvas.epsg),
    )
