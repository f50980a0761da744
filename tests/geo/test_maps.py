"""The shared map: the figure any app's page gets from ``map_figure`` (SVG and table always; MapLibre's
container, the features as JSON data and the platform's script when MapLibre is installed), the style
that draws only the platform's own public tiles, and the map's files served by the platform."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from shapely.geometry import LineString, Point

from gov21.core.geo import BBox
from gov21.geo import contracts, vendor
from gov21.geo.contracts import Collection, Feature, Property, collection_register, features_select, map_figure

# Listing collections reads the registers that plug theirs in (the land register's parcels).
pytestmark = pytest.mark.django_db


@pytest.fixture
def maplibre(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A MapLibre install (the locked file names, made-up contents) in a directory of the test's own."""
    lock = vendor.Lock.read()
    target = tmp_path / "maplibre-gl"
    target.mkdir()
    for name in lock.files.values():
        (target / name).write_text(f"/* {name} */")
    (target / vendor.MARKER).write_text(lock.integrity)
    monkeypatch.setattr(vendor, "VENDOR_DIR", target)
    return target


@pytest.fixture
def no_maplibre(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(vendor, "VENDOR_DIR", tmp_path / "absent")


WELL = Feature("well-1", Point(-63.12, 14.24), {"name": "Village well"})
ROAD = Feature("road-7", LineString([(-63.2, 14.2), (-63.1, 14.25)]), {"kind": "Track"})
NOWHERE = Feature("unplaced", None, {"name": "Not yet surveyed"})


def _data(html: str) -> dict[str, Any]:
    found = re.search(r'<script type="application/json">(.*?)</script>', html, re.S)
    assert found is not None, html
    body: dict[str, Any] = json.loads(found.group(1))
    return body


def test_the_figure_has_the_svg_the_table_and_the_data_maplibre_needs(maplibre: Path) -> None:
    html = str(map_figure([(WELL, "/wells/1"), (ROAD, None), (NOWHERE, None)], label="Water", collections=["wells"]))
    assert '<svg xmlns="http://www.w3.org/2000/svg" class="geo-map"' in html
    assert 'data-geo-map data-style="/geo/map/style.json" data-collections="wells"' in html
    assert '<script type="module" src="/geo/map/map.js"></script>' in html
    rows = re.findall(r"<tr><td[^>]*>(.*?)</td><td[^>]*>(.*?)</td></tr>", html)
    assert rows == [
        ('<a href="/wells/1">well-1</a>', "Village well"),
        ("road-7", "Track"),
        ("unplaced", "Not yet surveyed"),
    ]
    data = _data(html)
    assert [f["id"] for f in data["features"]] == ["well-1", "road-7"]  # nothing to draw for the unplaced one
    assert data["features"][0]["properties"] == {"id": "well-1", "name": "Village well", "href": "/wells/1"}
    assert data["features"][0]["geometry"] == {"type": "Point", "coordinates": [-63.12, 14.24]}
    assert data["bbox"] == [-63.2, 14.2, -63.1, 14.25]


def test_the_figure_without_maplibre_is_the_svg_and_the_table_and_no_script(no_maplibre: None) -> None:
    html = str(map_figure([(WELL, None)], label="Water"))
    assert 'class="geo-map"' in html and "Village well" in html
    assert "data-geo-map" not in html and "<script" not in html


def test_the_figures_options_imagery_and_no_table(maplibre: Path) -> None:
    html = str(map_figure([(WELL, None)], label="Water", raster="/imagery/tiles/{z}/{x}/{y}.png", table=False))
    assert 'data-raster="/imagery/tiles/{z}/{x}/{y}.png"' in html and "<table" not in html
    assert "data-collections" not in html  # every public collection
    for outside in ("https://tiles.example.org/{z}/{x}/{y}.png", "//cdn.example.org/{z}/{x}/{y}.png"):
        with pytest.raises(ValueError, match="path on this platform"):
            map_figure([(WELL, None)], label="Water", raster=outside)


def test_names_cannot_break_out_of_the_data_or_the_table(maplibre: Path) -> None:
    evil = Feature("x", Point(-63.1, 14.2), {"name": "</script><script>alert(1)</script>"})
    html = str(map_figure([(evil, None)], label="<b>label</b>"))
    assert "<script>alert" not in html and "<b>label</b>" not in html
    assert _data(html)["features"][0]["properties"]["name"] == "</script><script>alert(1)</script>"


# --- the style and the files ------------------------------------------------------------------------


@pytest.fixture
def homes() -> Iterator[None]:
    collection_register(
        Collection(
            id="homes",
            title="Homes",
            description="Who lives where.",
            properties=(Property("owner", "string", "Owner"),),
            items=lambda query: features_select([], query),
            item=lambda feature_id, reader: None,
            extent=lambda: BBox(-63.2, 14.2, -63.1, 14.3),
            permission="person.read",
        )
    )
    yield
    contracts._COLLECTIONS.pop("homes")


def _urls(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [url for item in value.values() for url in _urls(item)]
    if isinstance(value, list):
        return [url for item in value for url in _urls(item)]
    return [value] if isinstance(value, str) and "://" in value else []


def test_the_style_draws_the_public_collections_from_the_platforms_own_tiles(homes: None) -> None:
    response = Client().get("/geo/map/style.json")
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    style = response.json()
    assert style["version"] == 8 and "glyphs" not in style and "sprite" not in style
    assert style["sources"]["gov21"]["tiles"] == ["http://testserver/geo/tiles/WebMercatorQuad/{z}/{y}/{x}"]
    assert all(url.startswith("http://testserver/") for url in _urls(style))
    assert {layer["id"] for layer in style["layers"]} >= {"parishes-fill", "parishes-line", "parishes-point"}
    assert not [layer for layer in style["layers"] if layer.get("source-layer") == "homes"]
    assert all(layer["type"] != "symbol" for layer in style["layers"])  # no text: no glyphs needed


def test_the_maps_files_are_served_with_their_types_and_etags(maplibre: Path) -> None:
    client = Client()
    script = client.get("/geo/map/map.js")
    assert script.status_code == 200 and script["Content-Type"] == "text/javascript; charset=utf-8"
    assert b'import("./maplibre-gl.mjs")' in script.content
    assert script["Cache-Control"] == "public, max-age=86400"
    assert client.get("/geo/map/map.js", HTTP_IF_NONE_MATCH=script["ETag"]).status_code == 304
    module = client.get("/geo/map/maplibre-gl.mjs")
    assert module.status_code == 200 and module.content == b"/* maplibre-gl.mjs */"
    assert client.get("/geo/map/maplibre-gl.css")["Content-Type"] == "text/css"
    assert client.get("/geo/map/LICENSE.txt").status_code == 200
    for name in (".integrity", "package.json", "..%2Fvendor.py", "maplibre-gl.mjs.map"):
        assert client.get(f"/geo/map/{name}").status_code == 404, name
    assert client.post("/geo/map/map.js").status_code == 405


def test_maplibres_files_are_404_until_it_is_installed(no_maplibre: None) -> None:
    assert Client().get("/geo/map/maplibre-gl.mjs").status_code == 404
    assert Client().get("/geo/map/map.js").status_code == 200


def test_the_features_pages_use_the_shared_map(maplibre: Path) -> None:
    client = Client()
    items = client.get("/geo/collections/parishes/items?f=html&limit=3").content.decode()
    assert 'data-collections="parishes"' in items and "geo-features" not in items  # its own table lists them
    item = client.get("/geo/collections/parishes/items/XA-11?f=html").content.decode()
    assert "On the map: XA-11" in item and 'class="geo-map"' in item
