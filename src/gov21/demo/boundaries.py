"""The demo nation's parish boundaries, drawn from its settlements (``core/data/geography.json``).

The nation is invented, so are its borders: settlements closer than ``ISLAND_GAP_M`` to one another lie
on one island, whose coast is the hull of its settlements pushed ``COAST_M`` out to sea; each
settlement owns the land nearer to it than to any other (its Voronoi cell), and a parish is the union
of its settlements' cells on their islands. The result is deterministic, so ``core/data/
boundaries.geojson`` is regenerated (``gov21 demo_boundaries --write``) rather than edited; a real
country replaces that file with its surveyed boundaries.
"""

from __future__ import annotations

import json
from typing import Any

import shapely
from shapely.geometry import MultiPoint, Point
from shapely.geometry.base import BaseGeometry

from gov21.core.geo import CRS84, Crs, geometry_json, transform
from gov21.core.geography import Parish, geography

ISLAND_GAP_M = 10_000.0
COAST_M = 2_500.0
DIGITS = 5  # about a metre at these latitudes
# Drawn in UTM zone 20N whatever the deployment measures in, so the file is the same everywhere.
DRAWN_IN = Crs("http://www.opengis.net/def/crs/EPSG/0/32620", 32620)


def _islands(points: list[Point]) -> list[list[int]]:
    """The indices of ``points`` grouped by island (single linkage within ``ISLAND_GAP_M``)."""
    group = list(range(len(points)))

    def root(i: int) -> int:
        while group[i] != i:
            group[i] = group[group[i]]
            i = group[i]
        return i

    for i, a in enumerate(points):
        for j in range(i + 1, len(points)):
            if a.distance(points[j]) < ISLAND_GAP_M:
                group[root(j)] = root(i)
    islands: dict[int, list[int]] = {}
    for i in range(len(points)):
        islands.setdefault(root(i), []).append(i)
    return sorted(islands.values())


def parish_shapes(parishes: tuple[Parish, ...] | None = None) -> list[tuple[Parish, BaseGeometry]]:
    """Each parish with its boundary in CRS84."""
    parishes = parishes or geography()
    projected = DRAWN_IN
    owners: list[Parish] = []
    points: list[Point] = []
    for parish in parishes:
        for place in parish.settlements:
            owners.append(parish)
            points.append(transform(Point(place.lon, place.lat), CRS84, projected))  # type: ignore[arg-type]
    land = shapely.union_all(
        [MultiPoint([points[i] for i in island]).convex_hull.buffer(COAST_M) for island in _islands(points)]
    )
    cells = shapely.voronoi_polygons(MultiPoint(points), extend_to=land.envelope.buffer(COAST_M))
    by_parish: dict[str, list[BaseGeometry]] = {}
    for cell in cells.geoms:
        # Each cell contains the one settlement it was drawn around.
        owner = next(owners[i] for i, point in enumerate(points) if cell.contains(point))
        by_parish.setdefault(owner.code, []).append(cell)
    shapes = []
    for parish in parishes:
        area = shapely.union_all(by_parish[parish.code]).intersection(land)
        outline = transform(area, projected, CRS84)
        shapes.append((parish, shapely.make_valid(shapely.set_precision(outline, 10.0**-DIGITS))))
    return shapes


def boundaries_geojson() -> str:
    """The text of ``core/data/boundaries.geojson``: one feature per line, so a change reads as a diff."""
    features = []
    for parish, outline in parish_shapes():
        feature: dict[str, Any] = {
            "type": "Feature",
            "id": parish.code,
            "properties": {"code": parish.code, "name": parish.name},
            "geometry": geometry_json(outline, digits=DIGITS),
        }
        features.append(json.dumps(feature, separators=(",", ":")))
    return '{"type":"FeatureCollection","features":[\n' + ",\n".join(features) + "\n]}\n"
