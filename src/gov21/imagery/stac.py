"""The catalogue as STAC JSON (STAC 1.1 objects, served by a STAC API 1.0): items, collections and
their links, all absolute addresses under ``/stac/``."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from django.http import HttpRequest

from gov21.core.geo import geometry_json
from gov21.imagery.models import ImageryCollection, ImageryItem
from gov21.imagery.selectors import collection_extent

STAC_VERSION = "1.1.0"
PROJECTION = "https://stac-extensions.github.io/projection/v2.0.0/schema.json"
FILE = "https://stac-extensions.github.io/file/v2.1.0/schema.json"
JSON = "application/json"
GEOJSON = "application/geo+json"
API_VERSION = "https://api.stacspec.org/v1.0.0"
CONFORMANCE = (
    f"{API_VERSION}/core",
    f"{API_VERSION}/collections",
    f"{API_VERSION}/ogcapi-features",
    f"{API_VERSION}/item-search",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
)


def _utc(moment: datetime) -> str:
    """An RFC 3339 UTC instant, as STAC writes them (``Z``, not an offset)."""
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


class Addresses:
    """The absolute addresses of the catalogue's resources for one request."""

    def __init__(self, request: HttpRequest) -> None:
        self.root = request.build_absolute_uri("/stac/")

    def of(self, path: str = "") -> str:
        return self.root + path

    def collection(self, collection_id: str) -> str:
        return self.of(f"collections/{collection_id}")

    def item(self, collection_id: str, item_id: str) -> str:
        return self.of(f"collections/{collection_id}/items/{item_id}")


def item_json(addresses: Addresses, item: ImageryItem) -> dict[str, Any]:
    collection_id = item.collection.collection_id
    href = addresses.item(collection_id, item.item_id)
    properties: dict[str, Any] = dict(item.properties)
    if item.taken_at is not None:
        properties["datetime"] = _utc(item.taken_at)
    else:
        properties["datetime"] = None
        properties["start_datetime"] = _utc(item.start_at)
        properties["end_datetime"] = _utc(item.end_at)
    properties["created"] = _utc(item.created_at)
    assets = {
        asset.key: {
            "href": f"{href}/assets/{asset.key}",
            "type": asset.media_type,
            "title": asset.title,
            "roles": list(asset.roles),
            "file:size": asset.size,
            # A multihash: 0x12 is SHA2-256, 0x20 its length in bytes.
            "file:checksum": "1220" + asset.sha256,
        }
        for asset in item.assets.all()
    }
    return {
        "type": "Feature",
        "stac_version": STAC_VERSION,
        "stac_extensions": [PROJECTION, FILE],
        "id": item.item_id,
        "collection": collection_id,
        "bbox": [item.min_lon, item.min_lat, item.max_lon, item.max_lat],
        "geometry": geometry_json(item.geometry, digits=7),
        "properties": properties,
        "assets": assets,
        "links": [
            {"rel": "self", "type": GEOJSON, "href": href},
            {"rel": "parent", "type": JSON, "href": addresses.collection(collection_id)},
            {"rel": "collection", "type": JSON, "href": addresses.collection(collection_id)},
            {"rel": "root", "type": JSON, "href": addresses.of()},
        ],
    }


def collection_json(addresses: Addresses, collection: ImageryCollection) -> dict[str, Any]:
    extent = collection_extent(collection)
    href = addresses.collection(collection.collection_id)
    return {
        "type": "Collection",
        "stac_version": STAC_VERSION,
        "stac_extensions": [],
        "id": collection.collection_id,
        "title": collection.title,
        "description": collection.description,
        "license": collection.license,
        "extent": {
            # An empty collection has no box of its own: the whole world, as the spec asks of unknown extents.
            "spatial": {"bbox": [list(extent.bbox) if extent.bbox is not None else [-180.0, -90.0, 180.0, 90.0]]},
            "temporal": {
                "interval": [
                    [
                        _utc(extent.start) if extent.start is not None else None,
                        _utc(extent.end) if extent.end is not None else None,
                    ]
                ]
            },
        },
        "links": [
            {"rel": "self", "type": JSON, "href": href},
            {"rel": "root", "type": JSON, "href": addresses.of()},
            {"rel": "parent", "type": JSON, "href": addresses.of()},
            {"rel": "items", "type": GEOJSON, "href": f"{href}/items"},
        ],
    }
