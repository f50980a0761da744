"""The imagery catalogue: collections of items, each item a scene with its footprint (CRS84, kept as
every register keeps geometry: ``core.spatial.SpatialRecord``), its time, its properties and its
files (assets). The files themselves are in the imagery storage (``gov21.imagery.storage``)."""

from __future__ import annotations

from typing import Any

from django.db import models

from gov21.core.spatial import SpatialRecord


class ImageryCollection(models.Model):
    """A STAC collection: scenes of one kind (one campaign, one sensor, one event)."""

    collection_id = models.CharField(max_length=64, unique=True)
    title = models.CharField(max_length=200)
    description = models.TextField()
    license = models.CharField(max_length=64, default="other")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("collection_id",)

    def __str__(self) -> str:
        return self.collection_id


class ImageryItem(SpatialRecord):
    """A STAC item: one scene. ``start_at``/``end_at`` are always set (equal for a scene taken at one
    instant, ``taken_at``), so a time query reads two indexed columns."""

    collection = models.ForeignKey(ImageryCollection, on_delete=models.PROTECT, related_name="items")
    item_id = models.CharField(max_length=128)
    taken_at = models.DateTimeField(null=True)
    start_at = models.DateTimeField()
    end_at = models.DateTimeField()
    properties: models.JSONField[dict[str, Any]] = models.JSONField(default=dict)
    # The SHA-256 of the file as it was given, before conversion: adding it again finds this item.
    source_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ("collection__collection_id", "item_id")
        constraints = [
            models.UniqueConstraint(fields=("collection", "item_id"), name="imagery_item_unique_id"),
            models.UniqueConstraint(fields=("collection", "source_sha256"), name="imagery_item_unique_source"),
        ]
        indexes = [
            models.Index(fields=("min_lon", "max_lon", "min_lat", "max_lat"), name="imagery_item_box"),
            models.Index(fields=("start_at", "end_at"), name="imagery_item_time"),
        ]

    def __str__(self) -> str:
        return f"{self.collection_id}/{self.item_id}"


class ImageryAsset(models.Model):
    """A file of an item: the Cloud-Optimized GeoTIFF, its thumbnail."""

    item = models.ForeignKey(ImageryItem, on_delete=models.CASCADE, related_name="assets")
    key = models.CharField(max_length=64)
    title = models.CharField(max_length=200, blank=True)
    media_type = models.CharField(max_length=128)
    roles: models.JSONField[list[str]] = models.JSONField(default=list)
    # Where the file is in the imagery storage (relative to its root).
    storage_key = models.CharField(max_length=400, unique=True)
    size = models.BigIntegerField()
    sha256 = models.CharField(max_length=64)

    class Meta:
        ordering = ("item_id", "key")
        constraints = [models.UniqueConstraint(fields=("item", "key"), name="imagery_asset_unique_key")]

    def __str__(self) -> str:
        return f"{self.item_id}:{self.key}"
