"""Reads of the imagery catalogue: collections, their extents, items found by place, time and id."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Max, Min, QuerySet
from shapely.geometry.base import BaseGeometry

from gov21.core.geo import Interval
from gov21.core.spatial import bbox_filter, geometries_intersecting
from gov21.imagery.models import ImageryAsset, ImageryCollection, ImageryItem


def collections_all() -> list[ImageryCollection]:
    return list(ImageryCollection.objects.all())


def collection_get(collection_id: str) -> ImageryCollection | None:
    return ImageryCollection.objects.filter(collection_id=collection_id).first()


@dataclass(frozen=True, slots=True)
class Extent:
    """The box (CRS84) and time span of a collection's items; None where it has none."""

    bbox: tuple[float, float, float, float] | None
    start: datetime | None
    end: datetime | None


def collection_extent(collection: ImageryCollection) -> Extent:
    found = ImageryItem.objects.filter(collection=collection).aggregate(
        Min("min_lon"), Min("min_lat"), Max("max_lon"), Max("max_lat"), Min("start_at"), Max("end_at")
    )
    if found["min_lon__min"] is None:
        return Extent(None, None, None)
    box = (found["min_lon__min"], found["min_lat__min"], found["max_lon__max"], found["max_lat__max"])
    return Extent(box, found["start_at__min"], found["end_at__max"])


def _items() -> QuerySet[ImageryItem]:
    return ImageryItem.objects.select_related("collection").prefetch_related("assets")


def item_get(collection_id: str, item_id: str) -> ImageryItem | None:
    return _items().filter(collection__collection_id=collection_id, item_id=item_id).first()


def asset_get(collection_id: str, item_id: str, key: str) -> ImageryAsset | None:
    return (
        ImageryAsset.objects.select_related("item")
        .filter(item__collection__collection_id=collection_id, item__item_id=item_id, key=key)
        .first()
    )


@dataclass(frozen=True, slots=True)
class Search:
    """What an item search asks for (every value already checked)."""

    limit: int
    offset: int = 0
    collections: tuple[str, ...] | None = None
    ids: tuple[str, ...] | None = None
    window: BaseGeometry | None = None
    interval: Interval | None = None


@dataclass(frozen=True, slots=True)
class Found:
    items: list[ImageryItem]
    matched: int


def items_search(search: Search) -> Found:
    """The items that meet every condition of ``search``, ordered by collection and id, one page of
    them. The box and time conditions run in the database (indexed columns); the exact footprint is
    then tested with shapely, as every register's geometry is (decision 0047)."""
    queryset = _items()
    if search.collections is not None:
        queryset = queryset.filter(collection__collection_id__in=search.collections)
    if search.ids is not None:
        queryset = queryset.filter(item_id__in=search.ids)
    if search.interval is not None:
        if search.interval.start is not None:
            queryset = queryset.filter(end_at__gte=search.interval.start)
        if search.interval.end is not None:
            queryset = queryset.filter(start_at__lte=search.interval.end)
    queryset = queryset.order_by("collection__collection_id", "item_id")
    if search.window is None:
        matched = queryset.count()
        page = list(queryset[search.offset : search.offset + search.limit])
        return Found(page, matched)
    meeting = list(geometries_intersecting(bbox_filter(queryset, search.window), search.window))
    return Found(meeting[search.offset : search.offset + search.limit], len(meeting))
