"""The STAC API over HTTP (Django's client): shapes, queries, refusals, files with byte ranges, tiles."""

from __future__ import annotations

import io
import json
from typing import Any

import numpy as np
import pytest
import rasterio
from django.test import Client

from .conftest import Catalogue, MakeRaster, tile_of

pytestmark = pytest.mark.django_db


def _get(client: Client, url: str, **headers: str) -> Any:
    return client.get(url, headers=headers)


def _ids(body: dict[str, Any]) -> list[str]:
    return [feature["id"] for feature in body["features"]]


def _refused(response: Any, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    # The STAC API's error shape and an RFC 9457 problem in one body.
    assert body["code"] == code and body["description"] == body["detail"] and body["status"] == status
    if field is not None:
        assert body["field"] == field
    return body


def test_the_landing_page_names_the_conformance_classes_and_the_links(client: Client, catalogue: Catalogue) -> None:
    body = client.get("/stac/").json()
    assert body["type"] == "Catalog" and body["stac_version"] == "1.1.0"
    for name in ("core", "collections", "ogcapi-features", "item-search"):
        assert f"https://api.stacspec.org/v1.0.0/{name}" in body["conformsTo"]
    rels = {(link["rel"], link.get("method")) for link in body["links"]}
    assert {("self", None), ("root", None), ("conformance", None), ("data", None), ("service-desc", None)} <= rels
    assert {("search", "GET"), ("search", "POST")} <= rels
    assert {link["href"] for link in body["links"] if link["rel"] == "child"} == {
        "http://testserver/stac/collections/flood",
        "http://testserver/stac/collections/survey",
    }
    assert client.get("/stac/conformance").json()["conformsTo"] == body["conformsTo"]
    api = client.get("/stac/api")
    assert api["Content-Type"].startswith("application/vnd.oai.openapi+json")
    assert "/search" in api.json()["paths"]


def test_a_collection_says_its_extent(client: Client, catalogue: Catalogue) -> None:
    body = client.get("/stac/collections").json()
    assert [c["id"] for c in body["collections"]] == ["flood", "survey"]
    survey = client.get("/stac/collections/survey").json()
    assert survey["extent"]["temporal"]["interval"] == [["2026-01-10T10:00:00Z", "2026-09-02T14:30:00Z"]]
    west, south, east, north = survey["extent"]["spatial"]["bbox"][0]
    assert -63.0 < west < east < -62.9 and 13.9 < south < north < 14.3


def test_an_item_has_its_assets_with_size_and_checksum(client: Client, catalogue: Catalogue) -> None:
    response = client.get("/stac/collections/survey/items/north-a")
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["properties"]["datetime"] == "2026-01-10T10:00:00Z"
    data = body["assets"]["data"]
    assert data["type"] == "image/tiff; application=geotiff; profile=cloud-optimized" and data["roles"] == ["data"]
    stored = catalogue["north-a"].assets.get(key="data")
    assert data["file:size"] == stored.size and data["file:checksum"] == "1220" + stored.sha256
    assert body["assets"]["thumbnail"]["roles"] == ["thumbnail"]
    interval = client.get("/stac/collections/flood/items/flood-2").json()["properties"]
    assert interval["datetime"] is None
    assert (interval["start_datetime"], interval["end_datetime"]) == ("2026-09-04T00:00:00Z", "2026-09-05T00:00:00Z")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["flood-1", "flood-2", "north-a", "north-b", "south"]),
        ("collections=survey", ["north-a", "north-b", "south"]),
        ("ids=south,flood-2", ["flood-2", "south"]),
        ("collections=flood&ids=south", []),
        ("datetime=2026-09-01/..", ["flood-1", "flood-2", "south"]),
        ("datetime=2026-03-05T12:00:00Z", ["north-b"]),
        ("datetime=../2026-02-01", ["north-a"]),
        ("datetime=2026-09-04T12:00:00Z", ["flood-2"]),
        ("bbox=-63.0,14.2,-62.9,14.3", ["flood-1", "north-a", "north-b"]),
        ("bbox=-62.98,13.9,-62.94,14.05", ["south"]),
        ("bbox=-62.0,14.0,-61.9,14.1", []),
        ("bbox=-63.0,14.2,-62.9,14.3&datetime=2026-09-01/..", ["flood-1"]),
        ('intersects={"type":"Point","coordinates":[-62.9512,14.27]}', ["north-a", "north-b"]),
    ],
)
def test_search_finds_by_place_time_collection_and_id(
    client: Client, catalogue: Catalogue, query: str, expected: list[str]
) -> None:
    body = client.get(f"/stac/search?{query}").json()
    assert sorted(_ids(body)) == expected
    assert body["numberMatched"] == len(expected) == body["numberReturned"]


def test_search_pages_with_next_links_by_get_and_by_post(client: Client, catalogue: Catalogue) -> None:
    seen: list[str] = []
    url: str | None = "/stac/search?limit=2&collections=survey,flood"
    while url is not None:
        body = client.get(url).json()
        seen += _ids(body)
        following = [link for link in body["links"] if link["rel"] == "next"]
        assert len(body["features"]) <= 2
        url = following[0]["href"] if following else None
        if following:
            assert following[0]["method"] == "GET" and "collections=survey%2Cflood" in url
    assert seen == ["flood-1", "flood-2", "north-a", "north-b", "south"]
    request: dict[str, Any] | None = {"limit": 3, "bbox": [-63.0, 13.9, -62.9, 14.3]}
    posted: list[str] = []
    while request is not None:
        body = client.post("/stac/search", json.dumps(request), content_type="application/json").json()
        posted += _ids(body)
        following = [link for link in body["links"] if link["rel"] == "next"]
        request = following[0]["body"] if following else None
        if following:
            assert following[0]["method"] == "POST" and following[0]["href"] == "http://testserver/stac/search"
            assert request is not None and request["bbox"] == [-63.0, 13.9, -62.9, 14.3]
    assert posted == seen


def test_a_collection_s_items_page_and_filter(client: Client, catalogue: Catalogue) -> None:
    body = client.get("/stac/collections/survey/items?limit=1&datetime=2026-01-01/2026-06-30").json()
    assert _ids(body) == ["north-a"] and body["numberMatched"] == 2
    next_url = next(link["href"] for link in body["links"] if link["rel"] == "next")
    assert _ids(client.get(next_url).json()) == ["north-b"]
    assert _ids(client.get("/stac/collections/survey/items?limit=5000").json()) == ["north-a", "north-b", "south"]


@pytest.mark.parametrize(
    ("url", "field", "words"),
    [
        ("/stac/search?bbox=1,2,3", "bbox", "four or six numbers"),
        ("/stac/search?bbox=10,0,-10,5", "bbox", "antimeridian"),
        ("/stac/search?datetime=soon", "datetime", "RFC 3339"),
        ("/stac/search?limit=0", "limit", "at least 1"),
        ("/stac/search?limit=ten", "limit", "at least 1"),
        ("/stac/search?token=nonsense", "token", "next link"),
        ("/stac/search?ids=", "ids", "non-empty"),
        ("/stac/search?colections=survey", "colections", "not a parameter"),
        ("/stac/search?intersects={bad", "intersects", "GeoJSON geometry"),
        ('/stac/search?intersects={"type":"Point","coordinates":[500,0]}', "intersects", "longitude"),
        ("/stac/search?bbox=-63,14,-62,15&intersects={}", "intersects", "not both"),
        ("/stac/search?limit=1&limit=2", "limit", "more than once"),
        ("/stac/collections/survey/items?collections=flood", "collections", "not a parameter"),
        ("/stac/collections?x=1", "x", "not a parameter"),
    ],
)
def test_a_bad_query_is_refused_with_400_naming_the_parameter(
    client: Client, catalogue: Catalogue, url: str, field: str, words: str
) -> None:
    body = _refused(client.get(url), 400, "invalid_parameter", field)
    assert words in body["description"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"bbox": "1,2,3,4,5"}, "bbox"),
        ({"bbox": [1, 2, "x", 4]}, "bbox"),
        ({"collections": "survey"}, None),
        ({"collections": [1]}, "collections"),
        ({"limit": "ten"}, "limit"),
        ({"limit": True}, "limit"),
        ({"datetime": 2026}, "datetime"),
        ({"intersects": {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1]]]}}, "intersects"),
        ({"sortby": "id"}, "sortby"),
        ({"token": 5}, "token"),
    ],
)
def test_a_bad_search_body_is_refused(
    client: Client, catalogue: Catalogue, body: dict[str, Any], field: str | None
) -> None:
    response = client.post("/stac/search", json.dumps(body), content_type="application/json")
    if field is None:  # a single name is read as a comma-separated list, as in a query string
        assert response.status_code == 200 and sorted(_ids(response.json())) == ["north-a", "north-b", "south"]
        return
    _refused(response, 400, "invalid_parameter", field)


def test_a_body_that_is_not_a_json_object_and_a_wrong_method_are_refused(client: Client, catalogue: Catalogue) -> None:
    _refused(client.post("/stac/search", "{", content_type="application/json"), 400, "invalid_body")
    _refused(client.post("/stac/search", "[1]", content_type="application/json"), 400, "invalid_body")
    refused = client.post("/stac/collections", "{}", content_type="application/json")
    _refused(refused, 405, "method_not_allowed")
    assert refused["Allow"] == "GET, HEAD"
    _refused(client.delete("/stac/search"), 405, "method_not_allowed")


def test_unknown_things_are_404_in_the_same_shape(client: Client, catalogue: Catalogue) -> None:
    _refused(client.get("/stac/collections/nowhere"), 404, "unknown_collection", "collectionId")
    _refused(client.get("/stac/collections/nowhere/items"), 404, "unknown_collection")
    _refused(client.get("/stac/collections/survey/items/flood-1"), 404, "unknown_item", "itemId")
    _refused(client.get("/stac/collections/survey/items/north-a/assets/raw"), 404, "unknown_asset")
    assert client.get("/stac/nothing-here").status_code == 404


# --- files and byte ranges -------------------------------------------------------------------------


def _asset(client: Client, catalogue: Catalogue, **headers: str) -> Any:
    return _get(client, "/stac/collections/survey/items/north-a/assets/data", **headers)


def _content(response: Any) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else bytes(response.content)


def test_a_file_is_served_whole_with_its_etag(client: Client, catalogue: Catalogue, imagery_store: Any) -> None:
    stored = catalogue["north-a"].assets.get(key="data")
    whole = (imagery_store / stored.storage_key).read_bytes()
    response = _asset(client, catalogue)
    assert response.status_code == 200 and response["Accept-Ranges"] == "bytes"
    assert response["ETag"] == f'"{stored.sha256}"' and response["Content-Length"] == str(len(whole))
    assert _content(response) == whole
    assert _asset(client, catalogue, **{"If-None-Match": f'"{stored.sha256}"'}).status_code == 304
    head = client.head("/stac/collections/survey/items/north-a/assets/data")
    assert head.status_code == 200 and head["Content-Length"] == str(len(whole)) and _content(head) == b""


@pytest.mark.parametrize(
    ("header", "first", "last"),
    [("bytes=0-99", 0, 99), ("bytes=100-", 100, None), ("bytes=-50", -50, None), ("bytes=10-999999999", 10, None)],
)
def test_a_range_is_answered_206_with_those_bytes(
    client: Client, catalogue: Catalogue, imagery_store: Any, header: str, first: int, last: int | None
) -> None:
    stored = catalogue["north-a"].assets.get(key="data")
    whole = (imagery_store / stored.storage_key).read_bytes()
    expected = whole[first : (last + 1 if last is not None else None)]
    response = _asset(client, catalogue, Range=header)
    assert response.status_code == 206
    start = first if first >= 0 else len(whole) + first
    assert response["Content-Range"] == f"bytes {start}-{start + len(expected) - 1}/{len(whole)}"
    assert response["Content-Length"] == str(len(expected)) and _content(response) == expected


def test_a_range_beyond_the_file_is_416_and_others_are_served_whole(client: Client, catalogue: Catalogue) -> None:
    size = catalogue["north-a"].assets.get(key="data").size
    for header in (f"bytes={size}-", "bytes=-0", "bytes=20-10", "bytes=x-y"):
        response = _asset(client, catalogue, Range=header)
        _refused(response, 416, "range_not_satisfiable", "Range")
        assert response["Content-Range"] == f"bytes */{size}"
    # Several ranges, another unit, or an If-Range for another version: the whole file, as RFC 9110 allows.
    for headers in ({"Range": "bytes=0-1,5-6"}, {"Range": "items=0-1"}, {"Range": "bytes=0-1", "If-Range": '"old"'}):
        assert _asset(client, catalogue, **headers).status_code == 200


def test_the_cog_reads_back_from_its_bytes(client: Client, catalogue: Catalogue) -> None:
    data = _content(_asset(client, catalogue))
    with rasterio.MemoryFile(data) as memory, memory.open() as dataset:
        assert dataset.crs.to_epsg() == 32620 and dataset.count == 3 and dataset.profile["tiled"]


# --- tiles -----------------------------------------------------------------------------------------


def _png(response: Any) -> np.ndarray[Any, Any]:
    assert response.status_code == 200 and response["Content-Type"] == "image/png"
    assert response.content[:8] == b"\x89PNG\r\n\x1a\n"
    with rasterio.MemoryFile(io.BytesIO(response.content)) as memory, memory.open() as png:
        assert (png.width, png.height, png.count) == (256, 256, 4)
        return png.read()


def _tile_url(item: Any, z: int) -> str:
    centre = item.geometry.centroid
    x, y = tile_of(centre.x, centre.y, z)
    return (
        f"/stac/collections/{item.collection.collection_id}/items/{item.item_id}/tiles/WebMercatorQuad/{z}/{y}/{x}.png"
    )


def test_a_tile_is_a_png_opaque_on_the_data_and_transparent_around_it(client: Client, catalogue: Catalogue) -> None:
    item = catalogue["north-a"]
    inside = _png(client.get(_tile_url(item, 16)))
    assert np.all(inside[3] == 255) and inside[:3].std() > 10
    around = _png(client.get(_tile_url(item, 11)))
    opaque = (around[3] == 255).mean()
    # The scene is 1.9 km × 1.4 km; a zoom-11 tile is about 19 km across.
    assert 0.002 < opaque < 0.05 and np.all(around[:3][:, around[3] == 0] == 0)


def test_no_data_in_a_scene_is_transparent_in_its_tiles(client: Client, make_raster: MakeRaster) -> None:
    from gov21.imagery.services import imagery_add

    whole = imagery_add(path=make_raster("whole.tif", east=497000), collection_id="survey", taken="2026-09-02").item
    half = imagery_add(
        path=make_raster("half.tif", east=497000, nodata_left=60), collection_id="survey", taken="2026-09-02"
    ).item
    url = _tile_url(whole, 11)
    full = _png(client.get(url))[3] == 255
    east = _png(client.get(url.replace("/items/whole/", "/items/half/")))[3] == 255
    # The west half of the second scene is no data: its tile is opaque on the east half of the first's.
    assert full.sum() > 800 and east.sum() == pytest.approx(full.sum() / 2, rel=0.1)
    assert np.all(full[east]) and np.where(east.any(axis=0))[0].min() > np.where(full.any(axis=0))[0].min() + 15
    assert half.min_lon > whole.min_lon


def test_a_tile_outside_the_scene_or_the_grid_is_404(client: Client, catalogue: Catalogue) -> None:
    item = catalogue["north-a"]
    x, y = tile_of(-61.0, 16.0, 12)
    base = "/stac/collections/survey/items/north-a/tiles/WebMercatorQuad"
    _refused(client.get(f"{base}/12/{y}/{x}.png"), 404, "tile_outside")
    _refused(client.get(f"{base}/25/0/0.png"), 404, "unknown_tile")
    _refused(client.get(f"{base}/3/0/8.png"), 404, "unknown_tile")
    _refused(client.get("/stac/collections/survey/items/none/tiles/WebMercatorQuad/3/0/0.png"), 404, "unknown_item")
    url = _tile_url(item, 15)
    etag = client.get(url)["ETag"]
    assert client.get(url, headers={"If-None-Match": etag}).status_code == 304


def test_a_search_costs_the_same_few_queries_however_many_items_it_returns(
    client: Client, catalogue: Catalogue, django_assert_max_num_queries: Any
) -> None:
    # A count, the page of items with their collections, and their assets: never a query per item.
    with django_assert_max_num_queries(3):
        assert len(client.get("/stac/search?limit=100").json()["features"]) == 5
    with django_assert_max_num_queries(3):
        assert len(client.get("/stac/search?bbox=-63.0,13.9,-62.9,14.3").json()["features"]) == 5
