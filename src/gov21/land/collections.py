"""The land register's geographic collections on the OGC API Features server (``/geo/``):
``parcels`` (number, parish, area and land use; never who owns them) and ``buildings``, both public.

A request reads only the rows whose box meets its window (``core.spatial.bbox_filter``, on an
index); of those, a row whose box lies inside a rectangular window matches without its geometry
being read, and only the rows on the window's edge are tested exactly. Without ``datetime`` the
features are the current versions; with it, every version valid during the interval.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db.models import Max, Min, Q, QuerySet
from django.utils.translation import gettext_lazy as _
from shapely.geometry import box

from gov21.core.geo import BBox
from gov21.core.principal import Principal
from gov21.core.spatial import bbox_filter, geometry_from_wkb
from gov21.geo.contracts import Collection, Feature, Property, Query, Result, cql_q
from gov21.land.models import Building, Parcel

M = TypeVar("M", Parcel, Building)


def _in_time(rows: QuerySet[M], query: Query) -> QuerySet[M]:
    interval = query.interval
    if interval is None:
        return rows.filter(valid_to__isnull=True)
    if interval.end is not None:
        rows = rows.filter(valid_from__lte=interval.end)
    if interval.start is not None:
        rows = rows.filter(Q(valid_to__isnull=True) | Q(valid_to__gt=interval.start))
    return rows


def _matching_ids(rows: QuerySet[M], query: Query) -> list[int]:
    """The ids of ``rows`` whose geometry meets the query's box, in id order."""
    if query.bbox is None:
        return list(rows.order_by("id").values_list("id", flat=True))
    window = query.bbox.geometry()
    if window.is_empty:
        return []
    candidates = bbox_filter(rows, window)
    west, south, east, north = (float(v) for v in window.bounds)
    if window.equals(box(west, south, east, north)):
        inside = Q(min_lon__gte=west, max_lon__lte=east, min_lat__gte=south, max_lat__lte=north)
        ids = set(candidates.filter(inside).values_list("id", flat=True))
        edge = candidates.exclude(inside)
    else:
        ids, edge = set(), candidates
    for pk, wkb in edge.values_list("id", "geometry_wkb").iterator(chunk_size=2000):
        if window.intersects(geometry_from_wkb(wkb)):
            ids.add(pk)
    return sorted(ids)


# A feature's properties are its row's fields of the same names.
_PARCEL_FIELDS = {"number": "number", "parish": "parish", "area_m2": "area_m2", "land_use": "land_use"}
_BUILDING_FIELDS = {"parcel_number": "parcel_number", "use": "use", "storeys": "storeys"}


def _page(model: type[M], query: Query, fields: dict[str, str], feature: Callable[[M], Feature]) -> Result:
    rows = _in_time(model.objects.filter(**dict(query.filters)), query)
    if query.cql is not None:
        rows = rows.filter(cql_q(query.cql, fields))
    if query.bbox is None:
        # No geometry to test: the database pages and counts.
        ordered = rows.order_by("id")
        page = list(ordered[query.offset : query.offset + query.limit])
        return Result(features=[feature(row) for row in page], number_matched=ordered.count())
    ids = _matching_ids(rows, query)
    wanted = ids[query.offset : query.offset + query.limit]
    page = list(model.objects.filter(pk__in=wanted).order_by("id"))
    return Result(features=[feature(row) for row in page], number_matched=len(ids))


def parcel_feature(parcel: Parcel) -> Feature:
    return Feature(
        id=parcel.number if parcel.valid_to is None else f"{parcel.number}~{parcel.pk}",
        geometry=parcel.geometry,
        properties={
            "number": parcel.number,
            "parish": parcel.parish,
            "area_m2": parcel.area_m2,
            "land_use": parcel.land_use,
        },
        valid_from=parcel.valid_from,
        valid_to=parcel.valid_to,
    )


def _building_feature(building: Building) -> Feature:
    return Feature(
        id=str(building.pk),
        geometry=building.geometry,
        properties={"parcel_number": building.parcel_number, "use": building.use, "storeys": building.storeys},
        valid_from=building.valid_from,
        valid_to=building.valid_to,
    )


def _parcel_items(query: Query) -> Result:
    return _page(Parcel, query, _PARCEL_FIELDS, parcel_feature)


def _parcel_item(feature_id: str, reader: Principal | None) -> Feature | None:
    number, _sep, version = feature_id.partition("~")
    rows = Parcel.objects.filter(number=number)
    if version:
        found = rows.filter(pk=int(version)).first() if version.isdigit() and len(version) < 18 else None
    else:
        found = rows.filter(valid_to__isnull=True).first()
    return parcel_feature(found) if found is not None else None


def _building_items(query: Query) -> Result:
    return _page(Building, query, _BUILDING_FIELDS, _building_feature)


def _building_item(feature_id: str, reader: Principal | None) -> Feature | None:
    if not feature_id.isdigit() or len(feature_id) > 18:
        return None
    found = Building.objects.filter(pk=int(feature_id)).first()
    return _building_feature(found) if found is not None else None


def _extent(model: type[Parcel] | type[Building]) -> Callable[[], BBox | None]:
    def extent() -> BBox | None:
        box_ = model.objects.filter(valid_to__isnull=True).aggregate(
            w=Min("min_lon"), s=Min("min_lat"), e=Max("max_lon"), n=Max("max_lat")
        )
        if box_["w"] is None:
            return None
        return BBox(box_["w"], box_["s"], box_["e"], box_["n"])

    return extent


def parcels_collection() -> Collection:
    return Collection(
        id="parcels",
        title=_("Land parcels"),
        description=_(
            "The parcels of the land register: number, parish, area and land use, current or as of a time. "
            "Who owns a parcel is not published here."
        ),
        properties=(
            Property("number", "string", _("Parcel number"), filter=True),
            Property("parish", "string", _("Parish"), filter=True),
            Property("area_m2", "number", _("Area (m²)")),
            Property("land_use", "string", _("Land use"), filter=True),
        ),
        items=_parcel_items,
        item=_parcel_item,
        extent=_extent(Parcel),
        filtering=True,
        # Parcels are drawn from zoom 14 (a few streets): below it a tile of a town would hold
        # thousands of shapes too small to see.
        tile_min_zoom=14,
        # Every registration says when it changes parcels (services.transaction_register).
        versioned=True,
    )


def buildings_collection() -> Collection:
    return Collection(
        id="buildings",
        title=_("Buildings"),
        description=_("The footprints of the buildings recorded in the land register, with the parcel they stand on."),
        properties=(
            Property("parcel_number", "string", _("Parcel number"), filter=True),
            Property("use", "string", _("Use"), filter=True),
            Property("storeys", "integer", _("Storeys")),
        ),
        items=_building_items,
        item=_building_item,
        extent=_extent(Building),
        filtering=True,
        tile_min_zoom=14,
        versioned=True,
    )
