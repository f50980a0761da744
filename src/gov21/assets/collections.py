"""The asset register's collections on the OGC API Features server (``/geo/``): assets, roads,
disasters and damage assessments. Public infrastructure is public reference data: no permission.
Each page reads only the rows whose box meets the asked box (``bbox_filter``), filters declared
properties in the database, and tests the exact geometries of what is left."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

from django.db.models import Max, Min, QuerySet
from django.utils.translation import gettext_lazy as _

from gov21.assets.models import Asset, DamageAssessment, DisasterEvent
from gov21.assets.selectors import ROW_COLUMNS, AssetRow, asset_row, rows_within
from gov21.core.geo import BBox
from gov21.core.spatial import bbox_filter, geometries_intersecting, geometry_from_wkb
from gov21.geo.contracts import Collection, Feature, Property, Query, Result, Value, cql_q

_ASSET_PROPERTIES = (
    Property("code", "string", _("Code"), filter=True),
    Property("name", "string", _("Name")),
    Property("kind", "string", _("Kind"), filter=True),
    Property("agency", "string", _("Owning agency"), filter=True),
    Property("parish", "string", _("Parish"), filter=True),
    Property("condition", "string", _("Condition"), filter=True),
    Property("criticality", "string", _("Criticality"), filter=True),
    Property("capacity", "integer", _("Capacity")),
    Property("replacement_value_cents", "integer", _("Replacement value (cents)")),
    Property("currency", "string", _("Currency")),
)
_ROAD_PROPERTIES = (
    *(p for p in _ASSET_PROPERTIES if p.name not in ("kind", "capacity")),
    Property("road_class", "string", _("Road class"), filter=True),
    Property("road_surface", "string", _("Surface"), filter=True),
)


def asset_feature(asset: AssetRow) -> Feature:
    properties: dict[str, Value] = {
        "code": asset.code,
        "name": asset.name,
        "kind": asset.kind,
        "agency": asset.agency,
        "parish": asset.parish,
        "condition": asset.condition,
        "criticality": asset.criticality,
        "capacity": asset.capacity,
        "replacement_value_cents": asset.replacement_value_cents,
        "currency": asset.currency,
    }
    return Feature(id=asset.code, geometry=asset.geometry, properties=properties)


def _road_feature(asset: AssetRow) -> Feature:
    feature = asset_feature(asset)
    properties = {k: v for k, v in feature.properties.items() if k not in ("kind", "capacity")}
    properties |= {"road_class": asset.road_class, "road_surface": asset.road_surface}
    return Feature(id=asset.code, geometry=feature.geometry, properties=properties)


def _page(rows: QuerySet[Any], query: Query, feature: Callable[[Any], Feature]) -> Result:
    """The page of ``rows`` (already filtered by property) that ``query`` asks for. With a box, the
    database returns the rows whose box meets it and shapely keeps those whose geometry does; without
    one, the database pages and counts."""
    if query.bbox is None:
        features = [feature(row) for row in rows[query.offset : query.offset + query.limit]]
        return Result(features=features, number_matched=rows.count())
    window = query.bbox.geometry()
    if window.is_empty:
        return Result(features=[], number_matched=0)
    matched = list(geometries_intersecting(bbox_filter(rows, window), window))
    return Result(
        features=[feature(row) for row in matched[query.offset : query.offset + query.limit]],
        number_matched=len(matched),
    )


def _asset_page(rows: QuerySet[Asset], query: Query, feature: Callable[[AssetRow], Feature]) -> Result:
    """A page of assets: paged by the database without a box; with one, narrowed by the box columns
    and tested exactly in one vectorised pass (a box over the whole nation matches every row)."""
    if query.bbox is None:
        page = rows[query.offset : query.offset + query.limit].values_list(*ROW_COLUMNS)
        features = [feature(AssetRow._make((*row[:-1], geometry_from_wkb(row[-1])))) for row in page]
        return Result(features=features, number_matched=rows.count())
    window = query.bbox.geometry()
    if window.is_empty:
        return Result(features=[], number_matched=0)
    matched = rows_within(rows, window)
    return Result(
        features=[feature(row) for row in matched[query.offset : query.offset + query.limit]],
        number_matched=len(matched),
    )


def _extent(rows: QuerySet[Any]) -> BBox | None:
    box = rows.aggregate(Min("min_lon"), Min("min_lat"), Max("max_lon"), Max("max_lat"))
    if box["min_lon__min"] is None:
        return None
    return BBox(box["min_lon__min"], box["min_lat__min"], box["max_lon__max"], box["max_lat__max"])


# Every property of an asset's feature is the model field of the same name.
_ASSET_FIELDS = {p.name: p.name for p in (*_ASSET_PROPERTIES, *_ROAD_PROPERTIES)}


def _assets(query: Query, *, roads: bool) -> QuerySet[Asset]:
    rows = Asset.objects.filter(kind="road") if roads else Asset.objects.all()
    rows = rows.filter(**dict(query.filters))
    if query.cql is not None:
        rows = rows.filter(cql_q(query.cql, _ASSET_FIELDS))
    return rows.order_by("code")


def assets_collection() -> Collection:
    return Collection(
        id="assets",
        title=_("Public assets"),
        description=_(
            "The government's buildings, roads, utilities, ports and airstrips: kind, owning agency, parish,"
            " condition, criticality, capacity and replacement value."
        ),
        properties=_ASSET_PROPERTIES,
        items=lambda query: _asset_page(_assets(query, roads=False), query, asset_feature),
        item=lambda code, reader: _one_asset(Asset.objects.filter(code=code), asset_feature),
        extent=lambda: _extent(Asset.objects.all()),
        filtering=True,
        # Every change of an asset says so (services._assets_changed): its tiles are kept until then.
        versioned=True,
    )


def roads_collection() -> Collection:
    return Collection(
        id="roads",
        title=_("Roads"),
        description=_("The public roads: class, surface, condition and owning agency."),
        properties=_ROAD_PROPERTIES,
        items=lambda query: _asset_page(_assets(query, roads=True), query, _road_feature),
        item=lambda code, reader: _one_asset(Asset.objects.filter(kind="road", code=code), _road_feature),
        extent=lambda: _extent(Asset.objects.filter(kind="road")),
        filtering=True,
        versioned=True,
    )


def _one_asset(rows: QuerySet[Asset], feature: Callable[[AssetRow], Feature]) -> Feature | None:
    row = rows.first()
    return feature(asset_row(row)) if row is not None else None


def _one(rows: QuerySet[Any], feature: Callable[[Any], Feature]) -> Feature | None:
    row = rows.first()
    return feature(row) if row is not None else None


# --- disasters ------------------------------------------------------------------------------------


def event_feature(event: DisasterEvent) -> Feature:
    start = datetime.combine(event.occurred_on, time.min, tzinfo=UTC)
    return Feature(
        id=str(event.pk),
        geometry=event.geometry,
        properties={
            "name": event.name,
            "kind": event.kind,
            "occurred_on": event.occurred_on.isoformat(),
            "area_km2": event.area_km2,
            "buffer_km": event.buffer_km,
        },
        valid_from=start,
    )


def _events(query: Query) -> Result:
    rows = DisasterEvent.objects.filter(**dict(query.filters)).order_by("-occurred_on", "-pk")
    if query.interval is not None:
        # An event is an instant (its day): the interval's ends bound that day.
        if query.interval.start is not None:
            rows = rows.filter(occurred_on__gte=query.interval.start.date())
        if query.interval.end is not None:
            rows = rows.filter(occurred_on__lte=query.interval.end.date())
    return _page(rows, query, event_feature)


def _event_id(text: str) -> int | None:
    return int(text) if text.isascii() and text.isdigit() and len(text) <= 18 else None


def events_collection() -> Collection:
    return Collection(
        id="disaster-events",
        title=_("Disasters"),
        description=_("The disasters declared: their kind, day and the area they struck."),
        properties=(
            Property("name", "string", _("Name"), filter=True),
            Property("kind", "string", _("Kind"), filter=True),
            Property("occurred_on", "string", _("Day")),
            Property("area_km2", "number", _("Area (km²)")),
            Property("buffer_km", "number", _("Track buffer (km)")),
        ),
        items=_events,
        item=lambda ident, reader: _one(DisasterEvent.objects.filter(pk=_event_id(ident) or 0), event_feature),
        extent=lambda: _extent(DisasterEvent.objects.all()),
    )


# --- damage assessments ----------------------------------------------------------------------------


def _assessment_feature(assessment: DamageAssessment) -> Feature:
    asset = assessment.asset
    assert asset is not None  # only assets' assessments have a place here
    return Feature(
        id=str(assessment.pk),
        geometry=geometry_from_wkb(asset.geometry_wkb),
        properties={
            "event": assessment.event_id,
            "asset": asset.code,
            "asset_kind": asset.kind,
            "agency": asset.agency,
            "parish": assessment.parish,
            "level": assessment.level,
            "assessed_at": assessment.assessed_at.isoformat(),
        },
        valid_from=assessment.assessed_at,
    )


_ASSESSMENT_FILTERS = {"event": "event_id", "asset": "asset__code", "agency": "asset__agency", "parish": "parish",
                       "level": "level", "asset_kind": "asset__kind"}  # fmt: skip


def _assessments_rows(query: Query) -> QuerySet[DamageAssessment]:
    rows = DamageAssessment.objects.filter(asset__isnull=False).select_related("asset")
    rows = rows.filter(**{_ASSESSMENT_FILTERS[name]: value for name, value in query.filters.items()})
    if query.interval is not None:
        if query.interval.start is not None:
            rows = rows.filter(assessed_at__gte=query.interval.start)
        if query.interval.end is not None:
            rows = rows.filter(assessed_at__lte=query.interval.end)
    return rows.order_by("pk")


_BOX = ("id", "geometry_wkb", "min_lon", "min_lat", "max_lon", "max_lat")


def _assessments(query: Query) -> Result:
    rows = _assessments_rows(query)
    if query.bbox is None:
        return _page(rows, query, _assessment_feature)
    window = query.bbox.geometry()
    if window.is_empty:
        return Result(features=[], number_matched=0)
    # The assets whose box meets the window, read by the box columns; then their exact geometries.
    boxes = Asset.objects.filter(assessments__isnull=False).distinct().only(*_BOX)
    hit = {asset.pk for asset in geometries_intersecting(bbox_filter(boxes, window), window)}
    matched = list(rows.filter(asset_id__in=hit)) if hit else []
    return Result(
        features=[_assessment_feature(row) for row in matched[query.offset : query.offset + query.limit]],
        number_matched=len(matched),
    )


def _assessments_extent() -> BBox | None:
    return _extent(Asset.objects.filter(assessments__isnull=False))


def assessments_collection() -> Collection:
    return Collection(
        id="damage-assessments",
        title=_("Damage assessments"),
        description=_(
            "The damage found to public assets after each disaster: the event, the asset, its agency and parish,"
            " and the level (none, minor, major, destroyed). Assessments of land parcels are not mapped here."
        ),
        properties=(
            Property("event", "integer", _("Disaster"), filter=True),
            Property("asset", "string", _("Asset"), filter=True),
            Property("asset_kind", "string", _("Asset kind"), filter=True),
            Property("agency", "string", _("Owning agency"), filter=True),
            Property("parish", "string", _("Parish"), filter=True),
            Property("level", "string", _("Damage"), filter=True),
            Property("assessed_at", "string", _("Assessed")),
        ),
        items=_assessments,
        item=lambda ident, reader: _one(
            DamageAssessment.objects.filter(pk=_event_id(ident) or 0, asset__isnull=False).select_related("asset"),
            _assessment_feature,
        ),
        extent=_assessments_extent,
    )


def collections() -> list[Collection]:
    return [assets_collection(), roads_collection(), events_collection(), assessments_collection()]
