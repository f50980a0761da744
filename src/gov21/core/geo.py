"""Geometry for every app that holds places: GeoJSON geometries checked before they are stored, the
OGC API query values (``bbox``, ``datetime``, ``crs``) parsed into typed values, and areas and
lengths measured in metres in a projected CRS rather than in degrees.

Coordinates arrive and leave in CRS84 (longitude, latitude, WGS 84), as GeoJSON and the OGC APIs
require. Areas and lengths are computed after projecting into ``GOV21_GEO_PROJECTED_EPSG`` (UTM zone
20N by default, whose central meridian, 63° W, runs through the eastern Caribbean, so its scale error
there is under one part in two thousand).
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

import numpy as np
import shapely
from django.utils.translation import gettext as _
from numpy.typing import NDArray
from pyproj import CRS as ProjCRS
from pyproj import Transformer
from pyproj.exceptions import CRSError
from shapely.geometry import Polygon, box, mapping, shape
from shapely.geometry.base import BaseGeometry
from shapely.validation import explain_validity

from gov21.core import config
from gov21.core.errors import DomainError

CRS84_URI = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
_EPSG_URI = "http://www.opengis.net/def/crs/EPSG/0/"
GEOMETRY_TYPES = ("Point", "LineString", "Polygon", "MultiPolygon")
# A geometry sent to gov21 is a parcel, a road, a building: far fewer positions than this.
MAX_POSITIONS = 100_000


class GeometryError(DomainError):
    """A GeoJSON geometry that cannot be stored: malformed, out of range or invalid (422)."""

    def __init__(self, detail: str, *, field: str = "geometry") -> None:
        super().__init__("invalid_geometry", detail, status=422, title="Invalid geometry", field=field)


class QueryValueError(DomainError):
    """A query parameter whose value cannot be used (400, naming the parameter)."""

    def __init__(self, parameter: str, detail: str) -> None:
        super().__init__("invalid_parameter", detail, status=400, title="Invalid parameter", field=parameter)


# --- coordinate reference systems ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Crs:
    """A coordinate reference system by its OGC URI; ``epsg`` is None for CRS84 (lon, lat)."""

    uri: str
    epsg: int | None

    @property
    def geographic(self) -> bool:
        return self.epsg is None


CRS84 = Crs(CRS84_URI, None)


def projected_epsg() -> int:
    """The EPSG code of the projected CRS this deployment measures in (``GOV21_GEO_PROJECTED_EPSG``)."""
    return config.GEO_PROJECTED_EPSG.read()


def projected_crs_problem() -> str | None:
    """What is wrong with ``GOV21_GEO_PROJECTED_EPSG``, or None: it must name a projected CRS in metres."""
    try:
        epsg = projected_epsg()
        crs = ProjCRS.from_epsg(epsg)
    except (ValueError, CRSError) as error:
        return f"GOV21_GEO_PROJECTED_EPSG does not name a coordinate reference system pyproj knows: {error}"
    if not crs.is_projected:
        return f"GOV21_GEO_PROJECTED_EPSG={epsg} ({crs.name}) is not a projected CRS; areas need one in metres."
    units = {axis.unit_name for axis in crs.axis_info}
    if units != {"metre"}:
        return f"GOV21_GEO_PROJECTED_EPSG={epsg} ({crs.name}) measures in {', '.join(sorted(units))}, not metres."
    return None


def projected_crs() -> Crs:
    epsg = projected_epsg()
    return Crs(f"{_EPSG_URI}{epsg}", epsg)


def supported_crs() -> tuple[Crs, ...]:
    """The CRS features can be asked in: CRS84 first (the default), then the projected one."""
    return (CRS84, projected_crs())


def crs_from_uri(uri: str, *, parameter: str = "crs") -> Crs:
    """The supported CRS ``uri`` names (the OGC URI, or ``EPSG:n`` as a shorthand); a
    ``QueryValueError`` naming ``parameter`` otherwise."""
    text = uri.strip().strip("[]")
    known = {crs.uri: crs for crs in supported_crs()}
    if text in known:
        return known[text]
    match = re.fullmatch(r"(?:EPSG:|" + re.escape(_EPSG_URI) + r")(\d{4,6})", text)
    if match and int(match.group(1)) in {crs.epsg for crs in known.values()}:
        return known[f"{_EPSG_URI}{match.group(1)}"]
    raise QueryValueError(
        parameter,
        _("%(parameter)s must be one of %(known)s; %(given)s is not supported.")
        % {"parameter": parameter, "known": ", ".join(known), "given": repr(uri)},
    )


@lru_cache(maxsize=8)
def _transformer(source: int | None, target: int | None) -> Transformer:
    def name(epsg: int | None) -> ProjCRS:
        try:
            return ProjCRS.from_user_input("OGC:CRS84" if epsg is None else f"EPSG:{epsg}")
        except CRSError as error:
            raise ValueError(f"EPSG:{epsg} is not a coordinate reference system pyproj knows.") from error

    # always_xy: easting before northing and longitude before latitude, whatever the CRS's own order.
    return Transformer.from_crs(name(source), name(target), always_xy=True)


def transform(geometry: BaseGeometry, source: Crs, target: Crs) -> BaseGeometry:
    """``geometry`` with its coordinates carried from ``source`` into ``target``."""
    if source.epsg == target.epsg:
        return geometry
    transformer = _transformer(source.epsg, target.epsg)

    def carry(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    return shapely.transform(geometry, carry)


def to_projected(geometry: BaseGeometry) -> BaseGeometry:
    """A CRS84 geometry in the deployment's projected CRS (metres)."""
    return transform(geometry, CRS84, projected_crs())


def area_m2(geometry: BaseGeometry) -> float:
    """The area of a CRS84 geometry in square metres, measured in the projected CRS."""
    return float(to_projected(geometry).area)


def length_m(geometry: BaseGeometry) -> float:
    """The length of a CRS84 line (or a polygon's perimeter) in metres, measured in the projected CRS."""
    return float(to_projected(geometry).length)


# --- GeoJSON geometries ----------------------------------------------------------------------------


def _number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


class _Counter:
    def __init__(self) -> None:
        self.positions = 0


def _position(value: object, where: str, counter: _Counter) -> None:
    if not isinstance(value, list) or len(value) not in (2, 3) or not all(_number(v) for v in value):
        raise GeometryError(f"{where} must be a position: [longitude, latitude] (and an optional height) as numbers.")
    counter.positions += 1
    if counter.positions > MAX_POSITIONS:
        raise GeometryError(f"The geometry has more than {MAX_POSITIONS} positions.")
    lon, lat = float(value[0]), float(value[1])
    if not -180 <= lon <= 180:
        raise GeometryError(f"{where} has longitude {lon}, outside -180 to 180 (positions are [longitude, latitude]).")
    if not -90 <= lat <= 90:
        raise GeometryError(f"{where} has latitude {lat}, outside -90 to 90 (positions are [longitude, latitude]).")


def _positions(value: object, where: str, counter: _Counter, *, minimum: int) -> list[Any]:
    if not isinstance(value, list):
        raise GeometryError(f"{where} must be a list of positions.")
    if len(value) < minimum:
        raise GeometryError(f"{where} has {len(value)} positions; it needs at least {minimum}.")
    for index, item in enumerate(value):
        _position(item, f"{where}, position {index + 1}", counter)
    return value


def _polygon(value: object, where: str, counter: _Counter) -> None:
    if not isinstance(value, list) or not value:
        raise GeometryError(f"{where} must be a list of linear rings: the outer boundary, then any holes.")
    for index, ring in enumerate(value):
        ring_name = f"{where}, {'outer ring' if index == 0 else f'hole {index}'}"
        positions = _positions(ring, ring_name, counter, minimum=4)
        if positions[0][:2] != positions[-1][:2]:
            raise GeometryError(f"{ring_name} is not closed: its last position must repeat its first.")


def geometry_check(data: object, *, field: str = "geometry") -> BaseGeometry:
    """The geometry a GeoJSON geometry object describes, in CRS84, after checking its type, its
    structure, its coordinate ranges and its validity (no self-intersection); a ``GeometryError``
    saying what is wrong otherwise."""
    if not isinstance(data, dict):
        raise GeometryError("The geometry must be a GeoJSON geometry object with a type and coordinates.", field=field)
    kind = data.get("type")
    if kind not in GEOMETRY_TYPES:
        raise GeometryError(f"The geometry type must be one of {', '.join(GEOMETRY_TYPES)}, not {kind!r}.", field=field)
    coordinates = data.get("coordinates")
    counter = _Counter()
    try:
        if kind == "Point":
            _position(coordinates, "The point", counter)
        elif kind == "LineString":
            _positions(coordinates, "The line", counter, minimum=2)
        elif kind == "Polygon":
            _polygon(coordinates, "The polygon", counter)
        else:
            if not isinstance(coordinates, list) or not coordinates:
                raise GeometryError("The multipolygon must be a list of one or more polygons.")
            for index, polygon in enumerate(coordinates):
                _polygon(polygon, f"Polygon {index + 1}", counter)
    except GeometryError as error:
        raise GeometryError(error.detail, field=field) from None
    geometry = shape({"type": kind, "coordinates": coordinates})
    if not geometry.is_valid:
        raise GeometryError(f"The geometry is not valid: {explain_validity(geometry)}.", field=field)
    return geometry


def geometry_json(geometry: BaseGeometry, *, digits: int | None = None) -> dict[str, Any]:
    """``geometry`` as a GeoJSON geometry object (lists, not tuples), rounded to ``digits``."""
    if digits is not None:
        geometry = shapely.transform(geometry, lambda xy: np.round(xy, digits))
    return _lists(mapping(geometry))  # type: ignore[no-any-return]


def geometries_json(
    geometries: Sequence[BaseGeometry | None], *, source: Crs | None = None, target: Crs | None = None, digits: int
) -> list[dict[str, Any] | None]:
    """What ``geometry_json(transform(g, source, target), digits=digits)`` gives for each of
    ``geometries`` (None stays None), for a page of features at once: the coordinates of all of them
    are carried and rounded in one call, and a page of polygons (or of multipolygons) is cut from one
    array of coordinates instead of walking each ring's points."""
    present = [geometry for geometry in geometries if geometry is not None]
    if not present:
        return [None] * len(geometries)
    shapes = np.empty(len(present), dtype=object)
    shapes[:] = present
    if source is not None and target is not None and source.epsg != target.epsg:
        shapes = np.asarray([transform(geometry, source, target) for geometry in shapes.tolist()], dtype=object)
    shapes = shapely.transform(shapes, lambda xy: np.round(xy, digits))
    out = iter(_polygons_json(shapes) or [_lists(mapping(geometry)) for geometry in shapes.tolist()])
    return [None if geometry is None else next(out) for geometry in geometries]


def _polygons_json(shapes: NDArray[np.object_]) -> list[dict[str, Any]] | None:
    """GeoJSON of ``shapes`` when they are all non-empty 2D polygons, or all multipolygons (None otherwise)."""
    kinds = set(shapely.get_type_id(shapes).tolist())
    if kinds not in ({3}, {6}) or shapely.has_z(shapes).any() or shapely.is_empty(shapes).any():
        return None
    _kind, coords, offsets = shapely.to_ragged_array(shapes)
    xy = coords.tolist()
    rings = offsets[0].tolist()
    ring_list = [xy[rings[i] : rings[i + 1]] for i in range(len(rings) - 1)]
    polygons = offsets[1].tolist()
    polygon_list = [ring_list[polygons[i] : polygons[i + 1]] for i in range(len(polygons) - 1)]
    if kinds == {3}:
        return [{"type": "Polygon", "coordinates": polygon} for polygon in polygon_list]
    parts = offsets[2].tolist()
    return [
        {"type": "MultiPolygon", "coordinates": polygon_list[parts[i] : parts[i + 1]]} for i in range(len(parts) - 1)
    ]


def _lists(value: Any) -> Any:
    if isinstance(value, tuple | list):
        return [_lists(item) for item in value]
    if isinstance(value, dict):
        return {key: _lists(item) for key, item in value.items()}
    return value


# --- bbox ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BBox:
    """A bounding box in ``crs``: lower-left (``minx``, ``miny``) and upper-right (``maxx``, ``maxy``)."""

    minx: float
    miny: float
    maxx: float
    maxy: float
    crs: Crs = CRS84

    def as_list(self) -> list[float]:
        return [self.minx, self.miny, self.maxx, self.maxy]

    def geometry(self) -> BaseGeometry:
        """The box as a polygon in CRS84. A projected box is first cut to the area the projection is
        defined for (beyond it PROJ gives no coordinates), then densified before it is carried over,
        so its curved edges in CRS84 are followed."""
        if self.crs.geographic:
            return box(self.minx, self.miny, self.maxx, self.maxy)
        # Cut by numbers, not by GEOS: an intersection with coordinates near 1e308 overflows.
        west, south, east, north = _area_of_use(self.crs.epsg)
        minx, miny = max(self.minx, west), max(self.miny, south)
        maxx, maxy = min(self.maxx, east), min(self.maxy, north)
        if minx > maxx or miny > maxy:
            return Polygon()
        polygon = box(minx, miny, maxx, maxy)
        return transform(shapely.segmentize(polygon, max(maxx - minx + maxy - miny, 1.0) / 64), self.crs, CRS84)


@lru_cache(maxsize=8)
def _area_of_use(epsg: int | None) -> tuple[float, float, float, float]:
    """The box, in the CRS's own coordinates, of the area the CRS ``epsg`` is defined for."""
    area = ProjCRS.from_epsg(epsg or 4326).area_of_use
    if area is None:
        return (-math.inf, -math.inf, math.inf, math.inf)
    bounds = _transformer(None, epsg).transform_bounds(*area.bounds, densify_pts=21)
    return (float(bounds[0]), float(bounds[1]), float(bounds[2]), float(bounds[3]))


def parse_bbox(text: str, *, crs: Crs = CRS84, parameter: str = "bbox") -> BBox:
    """The OGC ``bbox`` value: four numbers (minx, miny, maxx, maxy) or six (with heights after each
    corner's x and y, which 2D features ignore), in ``crs`` (CRS84: longitude, latitude)."""
    parts = text.split(",")
    try:
        numbers = [float(part) for part in parts]
    except ValueError:
        numbers = []
    if len(parts) not in (4, 6) or len(numbers) != len(parts) or not all(math.isfinite(n) for n in numbers):
        raise QueryValueError(
            parameter,
            _("%(parameter)s must be four or six numbers separated by commas: minx,miny,maxx,maxy.")
            % {"parameter": parameter},
        )
    if len(numbers) == 6:
        minx, miny, minz, maxx, maxy, maxz = numbers
        if minz > maxz:
            raise QueryValueError(
                parameter,
                _("%(parameter)s: the lower height (%(low)s) is above the upper one (%(high)s).")
                % {"parameter": parameter, "low": minz, "high": maxz},
            )
    else:
        minx, miny, maxx, maxy = numbers
    if crs.geographic:
        for lon in (minx, maxx):
            if not -180 <= lon <= 180:
                raise QueryValueError(
                    parameter,
                    _("%(parameter)s: longitude %(value)s is outside -180 to 180.")
                    % {"parameter": parameter, "value": lon},
                )
        for lat in (miny, maxy):
            if not -90 <= lat <= 90:
                raise QueryValueError(
                    parameter,
                    _("%(parameter)s: latitude %(value)s is outside -90 to 90.")
                    % {"parameter": parameter, "value": lat},
                )
        if minx > maxx:
            raise QueryValueError(
                parameter,
                _(
                    "%(parameter)s: the west edge (%(west)s) is east of the east edge (%(east)s). A box across the"
                    " antimeridian is not supported; ask for the two halves separately."
                )
                % {"parameter": parameter, "west": minx, "east": maxx},
            )
    elif minx > maxx:
        raise QueryValueError(
            parameter,
            _("%(parameter)s: minx (%(low)s) is greater than maxx (%(high)s).")
            % {"parameter": parameter, "low": minx, "high": maxx},
        )
    if miny > maxy:
        raise QueryValueError(
            parameter,
            _("%(parameter)s: the south edge (%(south)s) is north of the north edge (%(north)s).")
            % {"parameter": parameter, "south": miny, "north": maxy},
        )
    return BBox(minx, miny, maxx, maxy, crs)


def bounds_of(geometries: Sequence[BaseGeometry]) -> BBox | None:
    """The box around ``geometries`` (CRS84), or None when there are none."""
    if not geometries:
        return None
    minx, miny, maxx, maxy = shapely.total_bounds(np.array(geometries, dtype=object))
    return BBox(float(minx), float(miny), float(maxx), float(maxy))


# --- datetime --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Interval:
    """A closed time interval; None at either end means open (``..``). An instant has start == end."""

    start: datetime | None
    end: datetime | None

    def overlaps(self, start: datetime | None, end: datetime | None) -> bool:
        """Whether a thing valid from ``start`` to ``end`` (None: unbounded) meets this interval."""
        if self.start is not None and end is not None and end < self.start:
            return False
        return not (self.end is not None and start is not None and start > self.end)


def _moment(text: str, parameter: str, *, end: bool) -> datetime:
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        try:
            day = date.fromisoformat(text)
        except ValueError:
            raise QueryValueError(
                parameter, _("%(parameter)s: %(given)s is not a date.") % {"parameter": parameter, "given": repr(text)}
            ) from None
        moment = datetime.combine(day, time.min, tzinfo=UTC)
        # A date stands for the whole day: as an end it reaches the day's last instant.
        return moment + timedelta(days=1, microseconds=-1) if end else moment
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})", text):
        raise QueryValueError(
            parameter,
            _(
                "%(parameter)s: %(given)s is not an RFC 3339 date-time with its offset (2026-05-01T12:00:00Z) nor a"
                " date (2026-05-01)."
            )
            % {"parameter": parameter, "given": repr(text)},
        )
    try:
        return datetime.fromisoformat(text.upper().replace("Z", "+00:00"))
    except ValueError:
        raise QueryValueError(
            parameter,
            _("%(parameter)s: %(given)s is not a real date and time.") % {"parameter": parameter, "given": repr(text)},
        ) from None


def parse_datetime(text: str, *, parameter: str = "datetime") -> Interval:
    """The OGC ``datetime`` value: an instant, a closed interval ``a/b``, or a half-open one
    (``../b``, ``a/..``; an empty end means open too)."""
    parts = text.split("/")
    if len(parts) == 1:
        if text in ("", ".."):
            raise QueryValueError(
                parameter, _("%(parameter)s must be a date-time or an interval start/end.") % {"parameter": parameter}
            )
        return Interval(_moment(text, parameter, end=False), _moment(text, parameter, end=True))
    if len(parts) != 2:
        raise QueryValueError(
            parameter,
            _("%(parameter)s must be an instant or one interval start/end, not %(given)s.")
            % {"parameter": parameter, "given": repr(text)},
        )
    first, last = parts
    start = None if first in ("", "..") else _moment(first, parameter, end=False)
    end = None if last in ("", "..") else _moment(last, parameter, end=True)
    if start is None and end is None:
        raise QueryValueError(
            parameter, _("%(parameter)s: an interval must be closed at one end at least.") % {"parameter": parameter}
        )
    if start is not None and end is not None and start > end:
        raise QueryValueError(
            parameter, _("%(parameter)s: the interval ends before it starts.") % {"parameter": parameter}
        )
    return Interval(start, end)
