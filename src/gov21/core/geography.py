"""The country's geography: its parishes and the settlements in each, the reference list in which
every address and place of birth or death is given.

The parishes' boundaries are in ``core/data/boundaries.geojson`` (GeoJSON, CRS84), one feature per
parish with its code as id.

The lists are data (``core/data/geography.json``), not code, so a country replaces it without touching
a module; every app reads it from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # shapely and pyproj are loaded by the first read of a boundary, not by every app
    from shapely.geometry.base import BaseGeometry

    from gov21.core.geo import BBox


@dataclass(frozen=True, slots=True)
class Settlement:
    """A town or village: its name, where it lies, and its relative population."""

    name: str
    lat: float
    lon: float  # east-positive, so the islands have negative longitudes
    weight: float


@dataclass(frozen=True, slots=True)
class Parish:
    """A parish: its code (as addresses give it), its name, and its settlements."""

    code: str
    name: str
    settlements: tuple[Settlement, ...]


@lru_cache(maxsize=1)
def geography() -> tuple[Parish, ...]:
    """Every parish of the country, in the order of their codes."""
    text = resources.files("gov21.core").joinpath("data/geography.json").read_text(encoding="utf-8")
    return tuple(
        Parish(
            code=str(parish["code"]),
            name=str(parish["name"]),
            settlements=tuple(
                Settlement(name=str(s["name"]), lat=float(s["lat"]), lon=float(s["lon"]), weight=float(s["weight"]))
                for s in parish["settlements"]
            ),
        )
        for parish in json.loads(text)["parishes"]
    )


def parishes() -> tuple[tuple[str, str], ...]:
    """The parishes as (code, name) pairs, for choices and for showing a code's name."""
    return tuple((parish.code, parish.name) for parish in geography())


def parish_name(code: str) -> str:
    """The name of the parish with ``code``, or the code itself when it names no parish."""
    return dict(parishes()).get(code, code)


def settlement_names() -> list[str]:
    """The names of every settlement in the country, sorted, each once."""
    return sorted({place.name for parish in geography() for place in parish.settlements})


@dataclass(frozen=True, slots=True)
class ParishBoundary:
    """A parish's outline (CRS84) and its area, measured in the deployment's projected CRS."""

    code: str
    name: str
    geometry: BaseGeometry
    area_km2: float


@lru_cache(maxsize=1)
def boundaries() -> tuple[ParishBoundary, ...]:
    """The boundary of every parish, in the order of their codes; each geometry is checked as any
    geometry sent to gov21 is, so a broken file fails loudly at the first read."""
    from gov21.core.geo import area_m2, geometry_check

    text = resources.files("gov21.core").joinpath("data/boundaries.geojson").read_text(encoding="utf-8")
    names = dict(parishes())
    found = []
    for feature in json.loads(text)["features"]:
        code = str(feature["properties"]["code"])
        if code not in names:
            raise ValueError(f"boundaries.geojson has parish {code}, which geography.json does not list.")
        geometry = geometry_check(feature["geometry"], field=code)
        found.append(ParishBoundary(code, names[code], geometry, round(area_m2(geometry) / 1e6, 2)))
    return tuple(sorted(found, key=lambda boundary: boundary.code))


def country_bounds() -> BBox:
    """The box (CRS84) around every parish of the country."""
    from gov21.core.geo import bounds_of

    bounds = bounds_of([boundary.geometry for boundary in boundaries()])
    if bounds is None:
        raise ValueError("boundaries.geojson holds no parish.")
    return bounds
