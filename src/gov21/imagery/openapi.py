"""The STAC API's definition (OpenAPI 3.0), linked from the landing page as ``service-desc``: the
paths, their parameters and what they answer."""

from __future__ import annotations

from typing import Any

OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"


def _parameter(
    name: str, where: str, description: str, schema: dict[str, Any], *, required: bool = False
) -> dict[str, Any]:
    return {"name": name, "in": where, "required": required, "description": description, "schema": schema}


def _json(description: str, media: str = "application/json") -> dict[str, Any]:
    return {"description": description, "content": {media: {"schema": {"type": "object"}}}}


_ERROR = _json("A refusal: code and description (also an RFC 9457 problem).", "application/problem+json")
_QUERY = [
    _parameter("bbox", "query", "minx,miny,maxx,maxy in CRS84", {"type": "string"}),
    _parameter("datetime", "query", "an instant, or an interval start/end (.. for open)", {"type": "string"}),
    _parameter("limit", "query", "items a page (1 to 1000)", {"type": "integer", "minimum": 1, "default": 10}),
    _parameter("token", "query", "the next page, as given by a next link", {"type": "string"}),
]
_PATH_COLLECTION = _parameter("collectionId", "path", "a collection's id", {"type": "string"}, required=True)
_PATH_ITEM = _parameter("itemId", "path", "an item's id", {"type": "string"}, required=True)


def _get(summary: str, ok: dict[str, Any], parameters: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "get": {
            "summary": summary,
            "parameters": parameters or [],
            "responses": {"200": ok, "400": _ERROR, "404": _ERROR},
        }
    }


def openapi_document(server: str) -> dict[str, Any]:
    search_parameters = [
        *_QUERY,
        _parameter("collections", "query", "collection ids, comma-separated", {"type": "string"}),
        _parameter("ids", "query", "item ids, comma-separated", {"type": "string"}),
        _parameter("intersects", "query", "a GeoJSON geometry", {"type": "string"}),
    ]
    search = _get("Search items", _json("Items", "application/geo+json"), search_parameters)
    search["post"] = {
        "summary": "Search items (the search as a JSON body; next pages by the body of the next link)",
        "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
        "responses": {"200": _json("Items", "application/geo+json"), "400": _ERROR},
    }
    item_path = [_PATH_COLLECTION, _PATH_ITEM]
    return {
        "openapi": "3.0.3",
        "info": {"title": "gov21 imagery (STAC API)", "version": "1.0.0"},
        "servers": [{"url": server.rstrip("/")}],
        "paths": {
            "/": _get("Landing page", _json("The catalogue")),
            "/conformance": _get("Conformance classes", _json("Conformance")),
            "/collections": _get("Collections", _json("Collections")),
            "/collections/{collectionId}": _get("A collection", _json("A collection"), [_PATH_COLLECTION]),
            "/collections/{collectionId}/items": _get(
                "A collection's items", _json("Items", "application/geo+json"), [_PATH_COLLECTION, *_QUERY]
            ),
            "/collections/{collectionId}/items/{itemId}": _get(
                "An item", _json("An item", "application/geo+json"), item_path
            ),
            "/collections/{collectionId}/items/{itemId}/assets/{assetKey}": _get(
                "An item's file; answers Range requests (206, 416)",
                {"description": "The file", "content": {"application/octet-stream": {}}},
                [*item_path, _parameter("assetKey", "path", "data or thumbnail", {"type": "string"}, required=True)],
            ),
            "/collections/{collectionId}/items/{itemId}/tiles/WebMercatorQuad/{z}/{y}/{x}.png": _get(
                "A 256×256 PNG map tile of the scene (transparent outside its data)",
                {"description": "The tile", "content": {"image/png": {}}},
                [
                    *item_path,
                    *(
                        _parameter(n, "path", n, {"type": "integer", "minimum": 0}, required=True)
                        for n in ("z", "y", "x")
                    ),
                ],
            ),
            "/search": search,
        },
    }
