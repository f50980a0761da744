"""The public reports as a collection of the geographic server (``/geo/collections/reported-problems``):
where, what, its status and when; never who reported it, nor what they wrote."""

from __future__ import annotations

from django.db.models import Max, Min, QuerySet
from django.utils.translation import gettext_lazy as _
from shapely.geometry import Point

from gov21.concerns.models import Report
from gov21.core.geo import BBox
from gov21.core.principal import Principal
from gov21.geo.contracts import Collection, Feature, Property, Query, Result, cql_q

_FIELDS = {"service_code": "category__code", "status": "status", "parish": "parish"}


def _feature(row: dict[str, object]) -> Feature:
    return Feature(
        id=str(row["id"]),
        geometry=Point(float(row["lon"]), float(row["lat"])),  # type: ignore[arg-type]
        properties={
            "service_code": str(row["category__code"]),
            "service_name": str(row["category__name"]),
            "status": str(row["status"]),
            "parish": str(row["parish"]),
            "requested": str(row["requested_at"])[:10],
        },
        valid_from=row["requested_at"],  # type: ignore[arg-type]
    )


_VALUES = ("id", "lat", "lon", "category__code", "category__name", "status", "parish", "requested_at")


def _public() -> QuerySet[Report]:
    return Report.objects.filter(lat__isnull=False, lon__isnull=False, merged_into__isnull=True)


def _items(query: Query) -> Result:
    rows = _public().filter(**{_FIELDS[k]: v for k, v in query.filters.items()})
    if query.cql is not None:
        rows = rows.filter(cql_q(query.cql, _FIELDS))
    if query.bbox is not None:
        west, south, east, north = (float(v) for v in query.bbox.geometry().bounds)
        rows = rows.filter(lon__gte=west, lon__lte=east, lat__gte=south, lat__lte=north)
    if query.interval is not None:
        if query.interval.start is not None:
            rows = rows.filter(requested_at__gte=query.interval.start)
        if query.interval.end is not None:
            rows = rows.filter(requested_at__lte=query.interval.end)
    ordered = rows.order_by("id")
    page = list(ordered.values(*_VALUES)[query.offset : query.offset + query.limit])
    return Result(features=[_feature(r) for r in page], number_matched=ordered.count())


def _item(feature_id: str, reader: Principal | None) -> Feature | None:
    if not feature_id.isdigit():
        return None
    row = _public().filter(pk=int(feature_id)).values(*_VALUES).first()
    return _feature(row) if row else None


def _extent() -> BBox | None:
    box = _public().aggregate(w=Min("lon"), s=Min("lat"), e=Max("lon"), n=Max("lat"))
    if box["w"] is None:
        return None
    return BBox(box["w"], box["s"], box["e"], box["n"])


def reports_collection() -> Collection:
    return Collection(
        id="reported-problems",
        title=_("Reported problems"),
        description=_("Problems reported by the public: what, where, when and their status; nobody is named."),
        properties=(
            Property("service_code", "string", _("Service code"), filter=True),
            Property("service_name", "string", _("Service"), queryable=False),
            Property("status", "string", _("Status"), filter=True),
            Property("parish", "string", _("Parish"), filter=True),
            Property("requested", "string", _("Reported on"), queryable=False),
        ),
        items=_items,
        item=_item,
        extent=_extent,
        filtering=True,
    )
