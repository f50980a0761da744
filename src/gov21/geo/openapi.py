"""The OpenAPI 3.0 definition of the OGC API Features server (``/geo/api``), built from the registered
collections so that each collection's items operation declares exactly the parameters it accepts:
a parameter it does not declare is refused (``/req/core/query-param-unknown``)."""

from __future__ import annotations

from typing import Any

from gov21.core.geo import supported_crs
from gov21.geo.contracts import Collection

OPENAPI_TYPE = "application/vnd.oai.openapi+json;version=3.0"
LIMIT_DEFAULT = 10
LIMIT_MAX = 1000
CONFORMANCE = (
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-2/1.0/conf/crs",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/queryables-query-parameters",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/filter",
    "http://www.opengis.net/spec/ogcapi-features-3/1.0/conf/features-filter",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-text",
    "http://www.opengis.net/spec/cql2/1.0/conf/cql2-json",
    "http://www.opengis.net/spec/cql2/1.0/conf/basic-cql2",
    # Vector tiles (gov21.geo.tiles): OGC API - Tiles Part 1 and the tile matrix set it uses.
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tileset",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/tilesets-list",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/geodata-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/dataset-tilesets",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/oas30",
    "http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/mvt",
    "http://www.opengis.net/spec/tms/2.0/conf/tilematrixset",
    "http://www.opengis.net/spec/tms/2.0/conf/json-tilematrixset",
)
_SCHEMA_TYPES = {"string": "string", "integer": "integer", "number": "number", "boolean": "boolean"}


def _parameters() -> dict[str, Any]:
    crs_values = [crs.uri for crs in supported_crs()]
    return {
        "f": {
            "name": "f",
            "in": "query",
            "required": False,
            "description": "The format of the answer; without it, the Accept header decides (JSON by default).",
            "schema": {"type": "string", "enum": ["json", "html"]},
        },
        "limit": {
            "name": "limit",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": f"How many features at most; a larger value is served as {LIMIT_MAX}.",
            "schema": {"type": "integer", "minimum": 1, "maximum": LIMIT_MAX, "default": LIMIT_DEFAULT},
        },
        "offset": {
            "name": "offset",
            "in": "query",
            "required": False,
            "description": "How many matching features to skip (the next link carries it).",
            "schema": {"type": "integer", "minimum": 0, "default": 0},
        },
        "bbox": {
            "name": "bbox",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "Only features whose geometry meets the box: minx,miny,maxx,maxy (or six numbers with "
            "heights), in bbox-crs (CRS84 by default: longitude, latitude). A box across the antimeridian is refused.",
            "schema": {
                "oneOf": [
                    {"type": "array", "minItems": 4, "maxItems": 4, "items": {"type": "number"}},
                    {"type": "array", "minItems": 6, "maxItems": 6, "items": {"type": "number"}},
                ]
            },
        },
        "bbox-crs": {
            "name": "bbox-crs",
            "in": "query",
            "required": False,
            "description": "The CRS of bbox.",
            "schema": {"type": "string", "format": "uri", "enum": crs_values},
        },
        "crs": {
            "name": "crs",
            "in": "query",
            "required": False,
            "description": "The CRS of the geometries in the answer (CRS84 by default).",
            "schema": {"type": "string", "format": "uri", "enum": crs_values},
        },
        "datetime": {
            "name": "datetime",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "Only features valid at an instant or during an interval: 2026-05-01T12:00:00Z, "
            "2026-01-01/2026-12-31, ../2026-12-31 or 2026-01-01/.. (RFC 3339).",
            "schema": {"type": "string"},
        },
        "filter": {
            "name": "filter",
            "in": "query",
            "required": False,
            "description": "Only features meeting a CQL2 expression (Basic CQL2: =, <>, <, <=, >, >=, IS NULL, "
            "AND, OR, NOT) over the collection's queryables, e.g. name = 'Cassia' AND area_km2 > 5.",
            "schema": {"type": "string", "maxLength": 8000},
        },
        "filter-lang": {
            "name": "filter-lang",
            "in": "query",
            "required": False,
            "description": "The language of filter: cql2-text (the default) or cql2-json.",
            "schema": {"type": "string", "enum": ["cql2-text", "cql2-json"], "default": "cql2-text"},
        },
    }


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/parameters/{name}"}


def _responses(media: str, description: str, schema: str) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/problem"}}}
    return {
        "200": {
            "description": description,
            "content": {
                media: {"schema": {"$ref": f"#/components/schemas/{schema}"}},
                "text/html": {"schema": {"type": "string"}},
            },
        },
        "400": {"description": "A parameter is unknown or its value cannot be used.", "content": problem},
        "404": {"description": "No such collection or feature.", "content": problem},
    }


def _items_operation(collection: Collection) -> dict[str, Any]:
    filters = [
        {
            "name": prop.name,
            "in": "query",
            "required": False,
            "description": f"Only features whose {prop.name} equals this value.",
            "schema": {"type": _SCHEMA_TYPES[prop.type]},
        }
        for prop in collection.properties
        if prop.filter
    ]
    return {
        "get": {
            "summary": f"The features of {collection.id}",
            "operationId": f"get_{collection.id.replace('-', '_')}_features",
            "tags": [collection.id],
            "parameters": [
                _ref(name)
                for name in ("f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs")
                + (("filter", "filter-lang") if collection.filtering else ())
            ]
            + filters,
            "responses": _responses(
                "application/geo+json", "A page of features (GeoJSON FeatureCollection).", "featureCollection"
            ),
        }
    }


def _item_operation(collection: Collection) -> dict[str, Any]:
    return {
        "get": {
            "summary": f"One feature of {collection.id}",
            "operationId": f"get_{collection.id.replace('-', '_')}_feature",
            "tags": [collection.id],
            "parameters": [
                {"name": "featureId", "in": "path", "required": True, "schema": {"type": "string"}},
                _ref("f"),
                _ref("crs"),
            ],
            "responses": _responses("application/geo+json", "The feature (GeoJSON Feature).", "feature"),
        }
    }


def _simple(summary: str, operation_id: str, description: str, schema: str) -> dict[str, Any]:
    media = {"openapi": "application/vnd.oai.openapi+json;version=3.0", "queryables": "application/schema+json"}.get(
        schema, "application/json"
    )
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["server"],
            "parameters": [_ref("f")],
            "responses": _responses(media, description, schema),
        }
    }


_LINKS = {"type": "array", "items": {"$ref": "#/components/schemas/link"}}
_SCHEMAS: dict[str, Any] = {
    "link": {
        "type": "object",
        "required": ["href", "rel"],
        "properties": {"href": {"type": "string"}, "rel": {"type": "string"}, "type": {"type": "string"}},
    },
    "landingPage": {"type": "object", "required": ["links"], "properties": {"links": _LINKS}},
    "conformance": {
        "type": "object",
        "required": ["conformsTo"],
        "properties": {"conformsTo": {"type": "array", "items": {"type": "string"}}},
    },
    "openapi": {"type": "object", "required": ["openapi", "paths"]},
    "queryables": {
        "type": "object",
        "required": ["type", "properties"],
        "properties": {"$schema": {"type": "string"}, "type": {"type": "string"}, "properties": {"type": "object"}},
    },
    "collections": {
        "type": "object",
        "required": ["links", "collections"],
        "properties": {
            "links": _LINKS,
            "collections": {"type": "array", "items": {"$ref": "#/components/schemas/collection"}},
        },
    },
    "collection": {
        "type": "object",
        "required": ["id", "links"],
        "properties": {"id": {"type": "string"}, "title": {"type": "string"}, "links": _LINKS},
    },
    "tileMatrixSets": {
        "type": "object",
        "required": ["tileMatrixSets"],
        "properties": {"tileMatrixSets": {"type": "array", "items": {"type": "object", "required": ["id", "links"]}}},
    },
    "tileMatrixSet": {"type": "object", "required": ["crs", "tileMatrices"]},
    "tilesets": {
        "type": "object",
        "required": ["tilesets"],
        "properties": {
            "tilesets": {
                "type": "array",
                "items": {"type": "object", "required": ["dataType", "crs", "links"]},
            }
        },
    },
    "tileset": {
        "type": "object",
        "required": ["dataType", "crs", "links"],
        "properties": {"dataType": {"type": "string", "enum": ["vector"]}, "links": _LINKS},
    },
    "feature": {
        "type": "object",
        "required": ["type", "geometry", "properties"],
        "properties": {
            "type": {"type": "string", "enum": ["Feature"]},
            "id": {"type": "string"},
            "geometry": {"type": "object", "nullable": True},
            "properties": {"type": "object", "nullable": True},
        },
    },
    "featureCollection": {
        "type": "object",
        "required": ["type", "features", "links", "numberReturned"],
        "properties": {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            "features": {"type": "array", "items": {"$ref": "#/components/schemas/feature"}},
            "links": _LINKS,
            "timeStamp": {"type": "string", "format": "date-time"},
            "numberMatched": {"type": "integer", "minimum": 0},
            "numberReturned": {"type": "integer", "minimum": 0},
        },
    },
}


_TILE_PARAMETERS = [
    {
        "name": "tileMatrixSetId",
        "in": "path",
        "required": True,
        "description": "The tile matrix set: WebMercatorQuad.",
        "schema": {"type": "string", "enum": ["WebMercatorQuad"]},
    },
    {
        "name": "tileMatrix",
        "in": "path",
        "required": True,
        "description": "The zoom level, 0 to 22.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "tileRow",
        "in": "path",
        "required": True,
        "description": "The row, from 0 at the top to 2^tileMatrix - 1.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
    {
        "name": "tileCol",
        "in": "path",
        "required": True,
        "description": "The column, from 0 at the west to 2^tileMatrix - 1.",
        "schema": {"type": "string", "pattern": "^[0-9]+$"},
    },
]


def _tile_operation(summary: str, operation_id: str, tag: str) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/problem"}}}
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": [tag],
            "parameters": _TILE_PARAMETERS,
            "responses": {
                "200": {
                    "description": "The tile as a Mapbox Vector Tile; a tile without features has empty layers.",
                    "content": {
                        "application/vnd.mapbox-vector-tile": {"schema": {"type": "string", "format": "binary"}}
                    },
                },
                "304": {"description": "The tile has not changed since the ETag given in If-None-Match."},
                "400": {"description": "A part of the tile's address is not a whole number.", "content": problem},
                "404": {
                    "description": "No such collection or tile matrix set, or the tile is outside it.",
                    "content": problem,
                },
            },
        }
    }


def _tiles_metadata(summary: str, operation_id: str, tag: str, schema: str, *, tms: bool) -> dict[str, Any]:
    problem = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/problem"}}}
    parameters: list[dict[str, Any]] = [_TILE_PARAMETERS[0]] if tms else []
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": [tag],
            "parameters": [*parameters, {**_ref("f")}],
            "responses": {
                "200": {
                    "description": summary,
                    "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{schema}"}}},
                },
                "400": {"description": "A parameter is unknown or its value cannot be used.", "content": problem},
                "404": {"description": "No such collection or tile matrix set.", "content": problem},
            },
        }
    }


def _tiles_paths(collections: list[Collection]) -> dict[str, Any]:
    paths = {
        "/tileMatrixSets": _tiles_metadata(
            "The tile matrix sets", "get_tile_matrix_sets", "tiles", "tileMatrixSets", tms=False
        ),
        "/tileMatrixSets/{tileMatrixSetId}": _tiles_metadata(
            "A tile matrix set", "get_tile_matrix_set", "tiles", "tileMatrixSet", tms=True
        ),
        "/tiles": _tiles_metadata(
            "The vector tilesets of the public collections", "get_dataset_tilesets", "tiles", "tilesets", tms=False
        ),
        "/tiles/{tileMatrixSetId}": _tiles_metadata(
            "The vector tileset of the public collections", "get_dataset_tileset", "tiles", "tileset", tms=True
        ),
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}": _tile_operation(
            "A vector tile of every public collection, one layer each", "get_dataset_tile", "tiles"
        ),
    }
    for collection in collections:
        base = f"/collections/{collection.id}/tiles"
        name = collection.id.replace("-", "_")
        paths[base] = _tiles_metadata(
            f"The vector tilesets of {collection.id}", f"get_{name}_tilesets", collection.id, "tilesets", tms=False
        )
        paths[base + "/{tileMatrixSetId}"] = _tiles_metadata(
            f"The vector tileset of {collection.id}", f"get_{name}_tileset", collection.id, "tileset", tms=True
        )
        paths[base + "/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"] = _tile_operation(
            f"A vector tile of {collection.id}", f"get_{name}_tile", collection.id
        )
    return paths


def openapi_document(*, server: str, collections: list[Collection]) -> dict[str, Any]:
    """The API definition, with ``server`` (the absolute address of /geo) as its server."""
    paths: dict[str, Any] = {
        "/": _simple(
            "The landing page", "get_landing_page", "Links to the API definition, conformance and data.", "landingPage"
        ),
        "/conformance": _simple(
            "The conformance declaration", "get_conformance", "The conformance classes.", "conformance"
        ),
        "/api": _simple("This API definition", "get_api", "The OpenAPI document.", "openapi"),
        "/collections": _simple(
            "The feature collections", "get_collections", "Every collection's description.", "collections"
        ),
    }
    for collection in collections:
        base = f"/collections/{collection.id}"
        paths[base] = _simple(
            f"The description of {collection.id}",
            f"describe_{collection.id.replace('-', '_')}_collection",
            f"The description of {collection.id}.",
            "collection",
        )
        if collection.filtering:
            paths[base + "/queryables"] = _simple(
                f"The queryables of {collection.id}",
                f"get_{collection.id.replace('-', '_')}_queryables",
                f"The properties of {collection.id} a filter may name (JSON Schema).",
                "queryables",
            )
        paths[base + "/items"] = _items_operation(collection)
        paths[base + "/items/{featureId}"] = _item_operation(collection)
    paths.update(_tiles_paths(collections))
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "gov21 geographic data (OGC API - Features)",
            "version": "1.0.0",
            "description": "The country's geographic reference data, per OGC API - Features Part 1 (Core, GeoJSON, "
            "HTML, OpenAPI 3.0), Part 2 (CRS by reference) and Part 3 (Filtering, Basic CQL2 in text and JSON), "
            "and as vector tiles per OGC API - Tiles Part 1 (Mapbox Vector Tiles in WebMercatorQuad).",
            "license": {"name": "CC-BY 4.0", "url": "https://creativecommons.org/licenses/by/4.0/"},
        },
        "servers": [{"url": server}],
        "tags": [{"name": "server"}, {"name": "tiles"}, *({"name": collection.id} for collection in collections)],
        "paths": paths,
        "components": {
            "parameters": _parameters(),
            "schemas": {
                **_SCHEMAS,
                "problem": {
                    "type": "object",
                    "description": "RFC 9457 problem details.",
                    "required": ["type", "title", "status", "detail"],
                    "properties": {
                        "type": {"type": "string"},
                        "title": {"type": "string"},
                        "status": {"type": "integer"},
                        "detail": {"type": "string"},
                        "code": {"type": "string"},
                        "description": {"type": "string"},
                        "field": {"type": "string"},
                        "instance": {"type": "string"},
                    },
                },
            },
        },
    }
