"""The geometric checks of the land register: a parcel is one valid polygon; the parts of a
subdivision are valid, do not overlap, leave no gap inside the parent and add up to its area; a new
parcel overlaps no neighbour. Areas are measured in the projected CRS (``core.geo.area_m2``).

A surveyed boundary and a digitised one never agree to the last millimetre, so overlaps, gaps and
area sums are compared against a tolerance: the larger of ``TOLERANCE_M2`` and ``TOLERANCE_RATIO``
of the parcel's area (1 m² on a 1,000 m² house lot; 50 m² on a 5 ha estate).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

import shapely
from django.utils.translation import gettext as _
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry

from gov21.core.errors import DomainError
from gov21.core.geo import GeometryError, area_m2, geometry_check

TOLERANCE_M2: Final = 1.0
TOLERANCE_RATIO: Final = 0.001


def tolerance_m2(area: float) -> float:
    return max(TOLERANCE_M2, TOLERANCE_RATIO * area)


def parcel_geometry(data: object, *, field: str = "geometry") -> Polygon:
    """A parcel's boundary from GeoJSON: one valid polygon (``GeometryError`` otherwise)."""
    geometry = geometry_check(data, field=field)
    if isinstance(geometry, MultiPolygon) and len(geometry.geoms) == 1:
        geometry = geometry.geoms[0]
    if not isinstance(geometry, Polygon):
        raise GeometryError(_("A parcel is one polygon, not a %(type)s.") % {"type": geometry.geom_type}, field=field)
    if area_m2(geometry) < TOLERANCE_M2:
        raise GeometryError(_("A parcel must have an area of at least 1 m²."), field=field)
    return geometry


def _fault(code: str, detail: str, field: str) -> DomainError:
    return DomainError(code, detail, status=422, title="Geometry does not fit", field=field)


def parts_check(parent: BaseGeometry, parts: Sequence[Polygon]) -> None:
    """The parts of a subdivision of ``parent``: no two overlap, none reaches outside the parent,
    together they leave no gap inside it and their areas add up to its area."""
    parent_area = area_m2(parent)
    tolerance = tolerance_m2(parent_area)
    for i, first in enumerate(parts):
        for j in range(i + 1, len(parts)):
            overlap = area_m2(first.intersection(parts[j]))
            if overlap > tolerance:
                raise _fault(
                    "parts_overlap",
                    _("Parts %(first)d and %(second)d overlap by %(area).1f m².")
                    % {"first": i + 1, "second": j + 1, "area": overlap},
                    f"parts.{j}",
                )
        outside = area_m2(first.difference(parent))
        if outside > tolerance:
            raise _fault(
                "part_outside_parent",
                _("Part %(part)d reaches %(area).1f m² outside the parcel being divided.")
                % {"part": i + 1, "area": outside},
                f"parts.{i}",
            )
    union = shapely.union_all(list(parts))
    gap = area_m2(parent.difference(union))
    if gap > tolerance:
        raise _fault(
            "parts_leave_gap",
            _("The parts leave %(area).1f m² of the parcel uncovered; they must cover all of it.") % {"area": gap},
            "parts",
        )
    total = sum(area_m2(part) for part in parts)
    if abs(total - parent_area) > tolerance:
        raise _fault(
            "areas_do_not_add_up",
            _(
                "The parts measure %(total).1f m² together, the parcel %(parent).1f m²;"
                " the difference is over %(tolerance).1f m²."
            )
            % {"total": total, "parent": parent_area, "tolerance": tolerance},
            "parts",
        )


def neighbours_check(geometry: BaseGeometry, neighbours: Iterable[tuple[str, BaseGeometry]], *, field: str) -> None:
    """A new parcel overlaps none of ``neighbours`` (each a parcel number and its boundary) by more
    than the tolerance."""
    tolerance = tolerance_m2(area_m2(geometry))
    for number, other in neighbours:
        overlap = area_m2(geometry.intersection(other))
        if overlap > tolerance:
            raise _fault(
                "overlaps_neighbour",
                _("The parcel overlaps parcel %(number)s by %(area).1f m².") % {"number": number, "area": overlap},
                field,
            )


def merged_geometry(geometries: Sequence[BaseGeometry]) -> Polygon:
    """The union of parcels to merge: they must make one polygon (touching along an edge)."""
    union = shapely.union_all(list(geometries))
    if isinstance(union, MultiPolygon) and len(union.geoms) == 1:
        union = union.geoms[0]
    if not isinstance(union, Polygon):
        raise _fault(
            "parcels_not_adjoining", _("Parcels can be merged only if together they form one piece of land."), "parcels"
        )
    return union
