"""Vector tiles (OGC API - Tiles, Mapbox Vector Tiles) over HTTP: the tile matrix set, the tilesets'
metadata, tiles decoded with mapbox_vector_tile and their features found in the right tile at the
right place, the same permission as the features, caching, and every bad address refused."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import mapbox_vector_tile
import morecantile
import pytest
from django.test import Client
from shapely.geometry import LineString, Point, shape

from gov21.core.geo import BBox
from gov21.core.geography import boundaries
from gov21.core.principal import Principal
from gov21.geo import contracts, views
from gov21.geo.contracts import Collection, Feature, Property, Query, Result, collection_register, features_select
from gov21.geo.tiles import BUFFER, EXTENT, MAX_ZOOM

# Listing collections reads the registers that plug theirs in (the land register's parcels).
pytestmark = pytest.mark.django_db

MVT = "application/vnd.mapbox-vector-tile"
TMS = morecantile.tms.get("WebMercatorQuad")
PARISH_TILES = "/geo/collections/parishes/tiles/WebMercatorQuad"


@pytest.fixture
def client() -> Client:
    return Client()


def _json(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == "application/json"
    body: dict[str, Any] = response.json()
    return body


def _problem(client: Client, url: str, status: int) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _tile(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == MVT
    decoded: dict[str, Any] = mapbox_vector_tile.decode(response.content)
    return decoded


def _in_tile(lon: float, lat: float, tile: morecantile.Tile) -> Point:
    """Where (lon, lat) falls in the tile's 4096 units, y upwards (as mapbox_vector_tile decodes)."""
    x, y = TMS.xy(lon, lat)
    box = TMS.xy_bounds(tile)
    return Point((x - box.left) / (box.right - box.left) * EXTENT, (y - box.bottom) / (box.top - box.bottom) * EXTENT)


def _by_id(layer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {feature["properties"]["id"]: feature for feature in layer["features"]}


# --- tile matrix sets and tilesets ------------------------------------------------------------------


def test_the_server_describes_webmercatorquad_and_declares_tiles_conformance(client: Client) -> None:
    listing = _json(client, "/geo/tileMatrixSets")["tileMatrixSets"]
    assert [tms["id"] for tms in listing] == ["WebMercatorQuad"]
    definition = _json(client, "/geo/tileMatrixSets/WebMercatorQuad")
    assert definition["id"] == "WebMercatorQuad" and definition["crs"].endswith("EPSG/0/3857")
    assert [m["id"] for m in definition["tileMatrices"]][:3] == ["0", "1", "2"]
    conforms = _json(client, "/geo/conformance")["conformsTo"]
    for part in ("core", "tileset", "tilesets-list", "geodata-tilesets", "dataset-tilesets", "mvt", "oas30"):
        assert f"http://www.opengis.net/spec/ogcapi-tiles-1/1.0/conf/{part}" in conforms
    rels = {link["rel"]: link["href"] for link in _json(client, "/geo/")["links"]}
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"].endswith("/geo/tileMatrixSets")
    assert rels["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"].endswith("/geo/tiles")
    links = {link["rel"]: link["href"] for link in _json(client, "/geo/collections/parishes")["links"]}
    assert links["http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"].endswith("/collections/parishes/tiles")


def test_a_collections_tileset_gives_the_tile_template_its_limits_and_its_layer(client: Client) -> None:
    tilesets = _json(client, "/geo/collections/parishes/tiles")["tilesets"]
    assert tilesets[0]["dataType"] == "vector"
    assert tilesets[0]["links"][0]["href"].endswith(PARISH_TILES)
    tileset = _json(client, PARISH_TILES)
    template = next(link for link in tileset["links"] if link["rel"] == "item")
    assert template["type"] == MVT and template["templated"] is True
    assert template["href"].endswith(PARISH_TILES + "/{tileMatrix}/{tileRow}/{tileCol}")
    assert tileset["tileMatrixSetURI"] == "http://www.opengis.net/def/tilematrixset/OGC/1.0/WebMercatorQuad"
    assert [layer["id"] for layer in tileset["layers"]] == ["parishes"]
    assert set(tileset["layers"][0]["propertiesSchema"]["properties"]) == {"id", "code", "name", "area_km2"}
    # The limits at zoom 12 hold the tile of every parish's inside point.
    limits = next(limit for limit in tileset["tileMatrixSetLimits"] if limit["tileMatrix"] == "12")
    for boundary in boundaries():
        inside = boundary.geometry.representative_point()
        tile = TMS.tile(inside.x, inside.y, 12)
        assert limits["minTileRow"] <= tile.y <= limits["maxTileRow"]
        assert limits["minTileCol"] <= tile.x <= limits["maxTileCol"]
    assert len(tileset["tileMatrixSetLimits"]) == MAX_ZOOM + 1


# --- tiles -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("zoom", [6, 10, 14])
def test_each_parish_is_in_the_tile_of_its_inside_point_at_the_right_place(client: Client, zoom: int) -> None:
    for boundary in boundaries():
        inside = boundary.geometry.representative_point()
        tile = TMS.tile(inside.x, inside.y, zoom)
        layer = _tile(client, f"{PARISH_TILES}/{zoom}/{tile.y}/{tile.x}")["parishes"]
        found = _by_id(layer)
        assert boundary.code in found, (boundary.code, zoom)
        feature = found[boundary.code]
        assert feature["properties"] == {
            "id": boundary.code,
            "code": boundary.code,
            "name": boundary.name,
            "area_km2": boundary.area_km2,
        }
        drawn = shape(feature["geometry"])
        assert drawn.geom_type in ("Polygon", "MultiPolygon")
        # Quantised to tile units: the inside point is in the drawn parish, or within two units of it.
        assert drawn.distance(_in_tile(inside.x, inside.y, tile)) <= 2, (boundary.code, zoom)


def test_geometries_are_clipped_to_the_tile_and_its_buffer_and_simplified_by_zoom(client: Client) -> None:
    cassia = next(boundary for boundary in boundaries() if boundary.code == "XA-11")
    inside = cassia.geometry.representative_point()

    def coordinates(zoom: int) -> list[tuple[float, float]]:
        tile = TMS.tile(inside.x, inside.y, zoom)
        drawn = shape(
            _by_id(_tile(client, f"{PARISH_TILES}/{zoom}/{tile.y}/{tile.x}")["parishes"])["XA-11"]["geometry"]
        )
        polygons = getattr(drawn, "geoms", [drawn])
        return [xy for polygon in polygons for xy in polygon.exterior.coords]

    for zoom in (8, 12, 16):
        for x, y in coordinates(zoom):
            assert -BUFFER - 1 <= x <= EXTENT + BUFFER + 1 and -BUFFER - 1 <= y <= EXTENT + BUFFER + 1
    # At zoom 5 the whole parish is a few tile units wide: most of its vertices are gone.
    original = sum(len(p.exterior.coords) for p in getattr(cassia.geometry, "geoms", [cassia.geometry]))
    assert len(coordinates(5)) < original / 2


def test_a_tile_where_there_is_nothing_is_a_valid_empty_tile(client: Client) -> None:
    # The middle of the Atlantic at zoom 8.
    tile = TMS.tile(-40.0, 20.0, 8)
    decoded = _tile(client, f"{PARISH_TILES}/8/{tile.y}/{tile.x}")
    assert decoded["parishes"]["features"] == []


@pytest.fixture
def places() -> Iterator[list[Query]]:
    """A public collection of a point and a long road, to check positions to the tile unit."""
    asked: list[Query] = []
    features = [
        Feature("well", Point(-63.1234, 14.2345), {"name": "Well", "depth": 12}),
        Feature("road", LineString([(-63.5, 14.2), (-62.5, 14.2)]), {"name": "Road", "depth": None}),
    ]

    def items(query: Query) -> Result:
        asked.append(query)
        return features_select(features, query)

    collection_register(
        Collection(
            id="places",
            title="Places",
            description="A well and a road.",
            properties=(Property("name", "string", "Name"), Property("depth", "integer", "Depth")),
            items=items,
            item=lambda feature_id, reader: None,
            extent=lambda: BBox(-63.5, 14.2, -62.5, 14.3),
        )
    )
    yield asked
    contracts._COLLECTIONS.pop("places")


def test_a_point_lands_at_its_tile_unit_and_a_line_is_cut_at_the_buffer(client: Client, places: list[Query]) -> None:
    tile = TMS.tile(-63.1234, 14.2345, 14)
    layer = _tile(client, f"/geo/collections/places/tiles/WebMercatorQuad/14/{tile.y}/{tile.x}")["places"]
    found = _by_id(layer)
    assert set(found) == {"well"}  # the road runs at 14.2, south of this tile
    point = shape(found["well"]["geometry"])
    assert point.distance(_in_tile(-63.1234, 14.2345, tile)) <= 1
    assert found["well"]["properties"] == {"id": "well", "name": "Well", "depth": 12}
    # The collection was asked with a bbox in CRS84 around the tile, a little wider than it.
    west, south, east, north = TMS.bounds(tile)
    window = places[-1].bbox
    assert window is not None and window.minx < west < east < window.maxx and window.miny < south < north < window.maxy
    # A tile the road crosses: the road spans the tile and stops at its buffer; None values are left out.
    tile = TMS.tile(-63.0, 14.2, 12)
    road = _by_id(_tile(client, f"/geo/collections/places/tiles/WebMercatorQuad/12/{tile.y}/{tile.x}")["places"])[
        "road"
    ]
    xs = [x for x, _y in road["geometry"]["coordinates"]]
    assert min(xs) == -BUFFER and max(xs) == EXTENT + BUFFER
    assert road["properties"] == {"id": "road", "name": "Road"}


def test_the_dataset_tile_has_a_layer_per_public_collection(client: Client, places: list[Query]) -> None:
    tile = TMS.tile(-63.1234, 14.2345, 14)
    decoded = _tile(client, f"/geo/tiles/WebMercatorQuad/14/{tile.y}/{tile.x}")
    assert {"parishes", "places"} <= set(decoded)
    assert "well" in _by_id(decoded["places"])
    tileset = _json(client, "/geo/tiles/WebMercatorQuad")
    assert {"parishes", "places"} <= {layer["id"] for layer in tileset["layers"]}
    template = next(link for link in tileset["links"] if link["rel"] == "item")
    assert template["href"].endswith("/geo/tiles/WebMercatorQuad/{tileMatrix}/{tileRow}/{tileCol}")


def test_a_tile_has_an_etag_is_cached_publicly_and_answers_304_when_unchanged(client: Client) -> None:
    one, another = (b.geometry.representative_point() for b in boundaries() if b.code in ("XA-11", "XA-04"))
    tile, other_tile = TMS.tile(one.x, one.y, 10), TMS.tile(another.x, another.y, 10)
    assert tile != other_tile
    url = f"{PARISH_TILES}/10/{tile.y}/{tile.x}"
    first = client.get(url)
    assert first.status_code == 200 and first["Cache-Control"] == "public, max-age=300"
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    other = client.get(f"{PARISH_TILES}/10/{other_tile.y}/{other_tile.x}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert other.status_code == 200 and other["ETag"] != first["ETag"]


# --- permissions -----------------------------------------------------------------------------------


@pytest.fixture
def homes() -> Iterator[list[Query]]:
    """Personal data (who lives where) that needs person.read; it records its readers."""
    asked: list[Query] = []
    features = [Feature("h1", Point(-63.12, 14.24), {"owner": "A. Person"})]

    def items(query: Query) -> Result:
        asked.append(query)
        return features_select(features, query)

    collection_register(
        Collection(
            id="homes",
            title="Homes",
            description="Who lives where.",
            properties=(Property("owner", "string", "Owner"),),
            items=items,
            item=lambda feature_id, reader: None,
            extent=lambda: BBox(-63.2, 14.2, -63.1, 14.3),
            permission="person.read",
        )
    )
    yield asked
    contracts._COLLECTIONS.pop("homes")


HOME_TILE = TMS.tile(-63.12, 14.24, 14)
HOMES_TILE = f"/geo/collections/homes/tiles/WebMercatorQuad/14/{HOME_TILE.y}/{HOME_TILE.x}"


def test_the_tiles_of_a_collection_that_needs_a_right_are_refused_without_it(
    client: Client, homes: list[Query], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "request_principal", lambda request: None)
    for url in ("/geo/collections/homes/tiles", "/geo/collections/homes/tiles/WebMercatorQuad", HOMES_TILE):
        assert _problem(client, url, 401)["code"] == "unauthenticated"
    clerk = Principal(name="someone", kind="staff", roles=frozenset({"nobody-role"}))
    monkeypatch.setattr(views, "request_principal", lambda request: clerk)
    assert _problem(client, HOMES_TILE, 403)["code"] == "forbidden"
    assert homes == []


def test_the_tiles_of_a_collection_that_needs_a_right_go_to_its_reader_and_never_into_public_tiles(
    client: Client, homes: list[Query], registrar: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "request_principal", lambda request: registrar)
    response = client.get(HOMES_TILE)
    assert response.status_code == 200 and response["Cache-Control"] == "private, no-cache"
    layer = mapbox_vector_tile.decode(response.content)["homes"]
    assert _by_id(layer)["h1"]["properties"] == {"id": "h1", "owner": "A. Person"}
    assert homes and all(query.reader == registrar for query in homes)
    # Even for a reader who may see them, the dataset tile (which any cache may keep) leaves them out.
    asked = len(homes)
    dataset = client.get(f"/geo/tiles/WebMercatorQuad/14/{HOME_TILE.y}/{HOME_TILE.x}")
    assert "homes" not in mapbox_vector_tile.decode(dataset.content)
    assert b"A. Person" not in dataset.content and len(homes) == asked
    assert "homes" not in {layer["id"] for layer in _json(client, "/geo/tiles/WebMercatorQuad")["layers"]}


# --- bad addresses ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "status", "field"),
    [
        (f"{PARISH_TILES}/x/0/0", 400, "tileMatrix"),
        (f"{PARISH_TILES}/3/-1/0", 400, "tileRow"),
        (f"{PARISH_TILES}/3/0/1.5", 400, "tileCol"),
        (f"{PARISH_TILES}/3/0/٣", 400, "tileCol"),
        (f"{PARISH_TILES}/23/0/0", 404, "tileMatrix"),
        (f"{PARISH_TILES}/3/8/0", 404, "tileRow"),
        (f"{PARISH_TILES}/3/0/8", 404, "tileCol"),
        (f"{PARISH_TILES}/0/0/0?f=json", 400, "f"),
        ("/geo/collections/parishes/tiles/WorldCRS84Quad/0/0/0", 404, "tileMatrixSetId"),
        ("/geo/collections/parishes/tiles/WorldCRS84Quad", 404, "tileMatrixSetId"),
        ("/geo/tileMatrixSets/WorldCRS84Quad", 404, "tileMatrixSetId"),
        ("/geo/tiles/WebMercatorQuad/99999999999/0/0", 400, "tileMatrix"),
        ("/geo/collections/nowhere/tiles/WebMercatorQuad/0/0/0", 404, "collectionId"),
        ("/geo/collections/parishes/tiles?f=xml", 400, "f"),
        ("/geo/tileMatrixSets?limit=3", 400, "limit"),
    ],
)
def test_a_bad_tile_address_is_a_problem_naming_the_part(client: Client, url: str, status: int, field: str) -> None:
    assert _problem(client, url, status)["field"] == field


def test_tile_metadata_asked_as_a_page_is_refused_with_a_page_saying_so(client: Client) -> None:
    response = client.get("/geo/collections/parishes/tiles?f=html")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "This resource is given as JSON only" in response.content.decode()


def test_the_api_definition_declares_the_tile_resources(client: Client) -> None:
    paths = _json_any(client, "/geo/api")["paths"]
    for path in (
        "/tileMatrixSets",
        "/tileMatrixSets/{tileMatrixSetId}",
        "/tiles",
        "/tiles/{tileMatrixSetId}",
        "/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
        "/collections/parishes/tiles",
        "/collections/parishes/tiles/{tileMatrixSetId}",
        "/collections/parishes/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}",
    ):
        assert "get" in paths[path], path
    tile = paths["/collections/parishes/tiles/{tileMatrixSetId}/{tileMatrix}/{tileRow}/{tileCol}"]["get"]
    assert MVT in tile["responses"]["200"]["content"]


def _json_any(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def test_polygon_rings_wind_as_mvt_requires(client: Client) -> None:
    """MVT: an exterior ring has a positive area by the surveyor's formula in tile coordinates (y down)."""
    from shapely.geometry import LinearRing

    for boundary in boundaries():
        inside = boundary.geometry.representative_point()
        tile = TMS.tile(inside.x, inside.y, 12)
        response = client.get(f"{PARISH_TILES}/12/{tile.y}/{tile.x}")
        raw = mapbox_vector_tile.decode(response.content, default_options={"y_coord_down": True})
        drawn = _by_id(raw["parishes"])[boundary.code]["geometry"]
        polygons = [drawn["coordinates"]] if drawn["type"] == "Polygon" else drawn["coordinates"]
        for rings in polygons:
            assert LinearRing(rings[0]).is_ccw, boundary.code  # positive shoelace area with y down


def test_below_its_lowest_zoom_a_collections_layer_is_empty_and_it_is_not_asked(client: Client) -> None:
    asked: list[Query] = []
    wells = [Feature("w1", Point(-63.1234, 14.2345), {})]

    def items(query: Query) -> Result:
        asked.append(query)
        return features_select(wells, query)

    collection_register(
        Collection(
            id="dense",
            title="Dense",
            description="Many small things.",
            properties=(),
            items=items,
            item=lambda feature_id, reader: None,
            extent=lambda: None,
            tile_min_zoom=13,
        )
    )
    try:
        low, high = TMS.tile(-63.1234, 14.2345, 12), TMS.tile(-63.1234, 14.2345, 13)
        assert _tile(client, f"/geo/tiles/WebMercatorQuad/12/{low.y}/{low.x}")["dense"]["features"] == []
        assert asked == []
        assert _by_id(_tile(client, f"/geo/tiles/WebMercatorQuad/13/{high.y}/{high.x}")["dense"])["w1"]
        assert _json(client, "/geo/collections/dense/tiles/WebMercatorQuad")["layers"][0]["minTileMatrix"] == "13"
    finally:
        contracts._COLLECTIONS.pop("dense")
    with pytest.raises(ValueError, match="tile_min_zoom"):
        Collection(
            id="x",
            title="X",
            description="",
            properties=(),
            items=items,
            item=lambda i, r: None,
            extent=lambda: None,
            tile_min_zoom=23,
        )
