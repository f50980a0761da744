"""The land register's geographic collections on the OGC API Features server (``/geo/``):
``parcels`` (number, parish, area and land use; never who owns them) and ``buildings``, both public.

A request reads only the rows whose box meets its window (``core.spatial.bbox_filter``, on an
index); of those, a row whose box lies inside a rectangular window matches without its geometry
being read, and only the rows on the window's edge are tested exactly. Without ``datetime`` the
features are the current versions; with it, every version valid during the interval.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

import numpy as np
import shapely
from django.db import connections
from django.db.models import BinaryField, Case, F, Max, Min, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

from gov21.core.geo import BBox
from gov21.core.principal import Principal
from gov21.core.spatial import bbox_filter, rows_intersecting, spatial_index_present
from gov21.geo.contracts import (
    Collection,
    Feature,
    FeatureColumns,
    Property,
    Query,
    Result,
    Rows,
    cql_q,
    version_column,
)
from gov21.geo.contracts import Value as PropertyValue
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
    """The ids of ``rows`` whose geometry meets the query's box, in id order. One statement reads the
    candidates' ids, and the WKB of those on the window's edge only."""
    if query.bbox is None:
        return list(rows.order_by("id").values_list("id", flat=True))
    window = query.bbox.geometry()
    if window.is_empty:
        return []
    candidates = bbox_filter(rows, window)
    west, south, east, north = (float(v) for v in window.bounds)
    if window.equals(box(west, south, east, north)):
        found = list(candidates.values_list("id", _edge_wkb(west, south, east, north)))
    else:
        found = list(candidates.values_list("id", "geometry_wkb"))
    return _meeting(found, window)


def _edge_wkb(west: float, south: float, east: float, north: float) -> Case:
    """A row's WKB when its box is not inside the window; NULL when it is (it meets the window)."""
    inside = Q(min_lon__gte=west, max_lon__lte=east, min_lat__gte=south, max_lat__lte=north)
    return Case(When(inside, then=Value(None)), default=F("geometry_wkb"), output_field=BinaryField())


def _meeting(found: Sequence[tuple[Any, ...]], window: BaseGeometry) -> list[int]:
    """The ids, in order, of the rows ``found`` (an id, its WKB when its box is not inside ``window``,
    and any other columns) whose geometry meets the window."""
    ids = [row[0] for row in found if row[1] is None]
    edge = [row for row in found if row[1] is not None]
    if edge:
        ids.extend(row[0] for row, _geometry in rows_intersecting(edge, window, wkb_at=1))
    return sorted(ids)


# Numbers no window has, for a window's west, south, east and north in the statement compiled once
# by ``_current_keys_statement``; each execution puts the window's own in their places.
_MARKS = (-1111.125, -2222.25, 3333.375, 4444.5)


@lru_cache(maxsize=16)
def _current_keys_statement(
    model: type[M], alias: str, indexed: bool, collection_id: str
) -> tuple[str, tuple[Any, ...]]:
    """The statement ``_matching_ids`` runs for the current rows in a rectangular window, with the
    collection's version in a third column, and its parameters (the marks where the window's bounds
    go), compiled once a process: building it with the ORM cost more than running it (1 ms against
    0.2 on SQLite)."""
    west, south, east, north = _MARKS
    rows = model.objects.using(alias).filter(valid_to__isnull=True)
    candidates = bbox_filter(rows, (west, south, east, north)).values_list(
        "id", _edge_wkb(west, south, east, north), version_column(collection_id)
    )
    sql, params = candidates.query.get_compiler(alias).as_sql()
    return sql, tuple(params)


def _current_keys(model: type[M], window: BaseGeometry, collection_id: str) -> tuple[list[int], str | None]:
    """What ``_matching_ids`` gives for the current rows of ``model`` and a rectangular ``window``,
    through the statement compiled once; and the collection's version read with them (None when no
    row is in the window)."""
    alias = model.objects.db
    sql, params = _current_keys_statement(model, alias, spatial_index_present(model, alias), collection_id)
    bounds = dict(zip(_MARKS, (float(v) for v in window.bounds), strict=True))
    values = [bounds.get(value, value) if isinstance(value, float) else value for value in params]
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, values)
        found = cursor.fetchall()
    version = found[0][2] if found else None
    return _meeting(found, window), None if version is None else str(version)


# A feature's properties are its row's fields of the same names.
_PARCEL_FIELDS = {"number": "number", "parish": "parish", "area_m2": "area_m2", "land_use": "land_use"}
_BUILDING_FIELDS = {"parcel_number": "parcel_number", "use": "use", "storeys": "storeys"}
# A page of up to this many features is read by its ids; a larger one by the range of its ids.
_BY_ID = 500
# Read before the properties' fields in every row.
_COLUMNS = ("id", "valid_from", "valid_to", "geometry_wkb")


def _features(
    rows: QuerySet[M],
    fields: dict[str, str],
    ident: Callable[[int, dict[str, PropertyValue], bool], str],
    *,
    keep: set[int] | None = None,
) -> list[Feature]:
    """The features of ``rows``, read as plain rows (no model instance) and their WKB parsed in one call."""
    return [feature for _key, feature in _keyed_features(rows, fields, ident, keep=keep)]


def _keyed_features(
    rows: QuerySet[M],
    fields: dict[str, str],
    ident: Callable[[int, dict[str, PropertyValue], bool], str],
    *,
    keep: set[int] | None = None,
) -> list[tuple[int, Feature]]:
    """The features of ``rows``, each with its row's key."""
    names = list(fields)
    found = list(rows.values_list(*_COLUMNS, *(fields[name] for name in names)))
    if keep is not None:
        found = [row for row in found if row[0] in keep]
    if not found:
        return []
    geometries = shapely.from_wkb([bytes(row[3]) for row in found])
    features = []
    for row, geometry in zip(found, geometries.tolist(), strict=True):
        properties: dict[str, PropertyValue] = dict(zip(names, row[4:], strict=True))
        features.append(
            (
                row[0],
                Feature(
                    id=ident(row[0], properties, row[2] is None),
                    geometry=geometry,
                    properties=properties,
                    valid_from=row[1],
                    valid_to=row[2],
                ),
            )
        )
    return features


def _page(
    model: type[M], query: Query, fields: dict[str, str], ident: Callable[[int, dict[str, PropertyValue], bool], str]
) -> Result:
    rows = _in_time(model.objects.filter(**dict(query.filters)), query)
    if query.cql is not None:
        rows = rows.filter(cql_q(query.cql, fields))
    if query.bbox is None:
        # No geometry to test: the database pages and counts.
        ordered = rows.order_by("id")
        page = _features(ordered[query.offset : query.offset + query.limit], fields, ident)
        return Result(features=page, number_matched=ordered.count())
    ids = _matching_ids(rows, query)
    wanted = ids[query.offset : query.offset + query.limit]
    if len(wanted) <= _BY_ID:
        page = _features(model.objects.filter(pk__in=wanted).order_by("id"), fields, ident) if wanted else []
    else:
        # A large page (a tile's): the window's rows between the page's first and last id, rather
        # than a statement naming thousands of ids; the few of them not on the page are left out.
        span = bbox_filter(rows, query.bbox.geometry()).filter(id__gte=wanted[0], id__lte=wanted[-1])
        page = _features(span.order_by("id"), fields, ident, keep=set(wanted))
    return Result(features=page, number_matched=len(ids))


def _rows(model: type[M], query: Query, fields: dict[str, str], collection_id: str) -> Rows:
    """The keys of the rows of the page ``query`` asks for (what ``_page`` reads, without the features)."""
    if query.bbox is not None and not query.filters and query.cql is None and query.interval is None:
        window = query.bbox.geometry()
        # A box in CRS84 is its own rectangle; one carried over from a projected CRS may not be.
        if not window.is_empty and (query.bbox.crs.geographic or window.equals(box(*window.bounds))):
            # The most frequent page: a box, nothing else; the version comes with its keys.
            ids, version = _current_keys(model, window, collection_id)
            return Rows(keys=ids[query.offset : query.offset + query.limit], number_matched=len(ids), version=version)
    rows = _in_time(model.objects.filter(**dict(query.filters)), query)
    if query.cql is not None:
        rows = rows.filter(cql_q(query.cql, fields))
    if query.bbox is None:
        ordered = rows.order_by("id")
        keys = list(ordered.values_list("id", flat=True)[query.offset : query.offset + query.limit])
        return Rows(keys=keys, number_matched=ordered.count())
    ids = _matching_ids(rows, query)
    return Rows(keys=ids[query.offset : query.offset + query.limit], number_matched=len(ids))


def _features_of(
    model: type[M], fields: dict[str, str], ident: Callable[[int, dict[str, PropertyValue], bool], str]
) -> Callable[[Sequence[int]], dict[int, Feature]]:
    def features_of(keys: Sequence[int]) -> dict[int, Feature]:
        found: dict[int, Feature] = {}
        for start in range(0, len(keys), _BY_ID):  # a statement names at most _BY_ID keys
            chunk = keys[start : start + _BY_ID]
            found.update(_keyed_features(model.objects.filter(pk__in=chunk), fields, ident))
        return found

    return features_of


def _tile_columns(
    model: type[M], fields: dict[str, str], id_field: str | None
) -> Callable[[BBox, int], FeatureColumns]:
    """The current features meeting a box, as columns, for the collection's tiles: one statement
    reads the rows whose box meets the window (on the spatial index) in id order, through the
    database cursor (no model instance, no per-row conversion), and their geometries are parsed and
    tested against the window all at once; a geometry whose box lies inside the window meets it.
    ``id_field``: the field whose value is the feature's id (None: the row's id)."""
    names = list(fields)

    def columns(window: BBox, limit: int) -> FeatureColumns:
        area = window.geometry()
        rows = bbox_filter(model.objects.filter(valid_to__isnull=True), area).order_by("id")
        sql, params = rows.values_list("id", "geometry_wkb", *(fields[name] for name in names)).query.sql_with_params()
        with connections[rows.db].cursor() as cursor:
            cursor.execute(sql, params)
            found = cursor.fetchall()
        if not found:
            return FeatureColumns(ids=[], geometries=[], properties={name: [] for name in names})
        read = list(zip(*found, strict=True))
        wkbs = read[1] if isinstance(read[1][0], bytes) else [bytes(wkb) for wkb in read[1]]  # PostgreSQL: views
        geometries = shapely.from_wkb(np.asarray(wkbs, dtype=object))
        west, south, east, north = (float(v) for v in area.bounds)
        bounds = shapely.bounds(geometries)
        meets = (bounds[:, 0] >= west) & (bounds[:, 1] >= south) & (bounds[:, 2] <= east) & (bounds[:, 3] <= north)
        edge = np.flatnonzero(~meets)
        if edge.size:
            meets[edge] = shapely.intersects(geometries[edge], area)
        chosen = np.flatnonzero(meets)[:limit]
        if len(chosen) == len(found):  # every row read meets the window: its columns as read
            values = {name: list(read[2 + n]) for n, name in enumerate(names)}
            idents = list(read[0])
        else:
            picked = chosen.tolist()
            values = {name: [read[2 + n][i] for i in picked] for n, name in enumerate(names)}
            idents = [read[0][i] for i in picked]
        ids = [str(value) for value in (values[id_field] if id_field else idents)]
        return FeatureColumns(ids=ids, geometries=geometries[chosen].tolist(), properties=values)

    return columns


def _parcel_id(pk: int, properties: dict[str, PropertyValue], current: bool) -> str:
    """A current parcel by its number; an earlier version by its number and the version's row."""
    return str(properties["number"]) if current else f"{properties['number']}~{pk}"


def _building_id(pk: int, properties: dict[str, PropertyValue], current: bool) -> str:
    return str(pk)


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
    return _page(Parcel, query, _PARCEL_FIELDS, _parcel_id)


def _parcel_item(feature_id: str, reader: Principal | None) -> Feature | None:
    number, _sep, version = feature_id.partition("~")
    rows = Parcel.objects.filter(number=number)
    if version:
        found = rows.filter(pk=int(version)).first() if version.isdigit() and len(version) < 18 else None
    else:
        found = rows.filter(valid_to__isnull=True).first()
    return parcel_feature(found) if found is not None else None


def _building_items(query: Query) -> Result:
    return _page(Building, query, _BUILDING_FIELDS, _building_id)


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
        rows=lambda query: _rows(Parcel, query, _PARCEL_FIELDS, "parcels"),
        features_of=_features_of(Parcel, _PARCEL_FIELDS, _parcel_id),
        extent=_extent(Parcel),
        filtering=True,
        # Parcels are drawn from zoom 14 (a few streets): below it a tile of a town would hold
        # thousands of shapes too small to see.
        tile_min_zoom=14,
        # Every registration says when it changes parcels (services.transaction_register).
        versioned=True,
        tile_columns=_tile_columns(Parcel, _PARCEL_FIELDS, "number"),
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
        rows=lambda query: _rows(Building, query, _BUILDING_FIELDS, "buildings"),
        features_of=_features_of(Building, _BUILDING_FIELDS, _building_id),
        extent=_extent(Building),
        filtering=True,
        tile_min_zoom=14,
        versioned=True,
        tile_columns=_tile_columns(Building, _BUILDING_FIELDS, None),
    )
