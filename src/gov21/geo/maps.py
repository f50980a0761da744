"""The map every page shares: the server-drawn SVG and a table of the features always, and, where
script runs, a MapLibre GL map of the platform's own vector tiles with the page's features on top.

gov21 serves everything that map needs itself, under ``/geo/map/``: the script that starts every
map on a page (``map.js``, a module, no inline script), MapLibre GL JS installed from the npm
registry by ``gov21.geo.vendor`` (not in git), and the style (``style.json``), which draws the
public collections from ``/geo/tiles`` and asks for no glyphs, sprites or tiles from elsewhere
(there are no text labels: the names are in the table and the SVG)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.http import Http404, HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import parse_etags
from django.utils.safestring import SafeString
from django.views.decorators.http import require_safe

from gov21.core.geo import bounds_of, geometry_json
from gov21.geo import vendor
from gov21.geo.contracts import Feature
from gov21.geo.svg import map_svg
from gov21.geo.tiles import MAX_ZOOM, TMS_ID, public_collections

OWN_DIR = Path(__file__).resolve().parent / "static" / "geo"
# What /geo/map/ serves, by name: our own starter, and the files the MapLibre lock installs.
_TYPES = {".js": "text/javascript; charset=utf-8", ".mjs": "text/javascript; charset=utf-8", ".css": "text/css"}
_TYPES[".txt"] = "text/plain; charset=utf-8"
ASSET_MAX_AGE = 24 * 3600
# Tiles deeper than this are drawn by MapLibre from this zoom's tiles ("overzoom"): a register's shapes
# are simplified to 2.4 m at zoom 16, finer than any screen shows them at the zooms above.
SOURCE_MAX_ZOOM = min(16, MAX_ZOOM)
# Colours of the public collections' layers, in the order they are registered (GOV.UK palette tints).
_FILLS = ("#d2e2f1", "#cce2d8", "#fff2d3", "#f6d7d2", "#e8dcf0", "#dbe9c9")
_LINES = ("#1d70b8", "#00703c", "#b58840", "#d4351c", "#4c2c92", "#5a8f27")


def _asset_path(name: str) -> Path | None:
    if name == "map.js":
        return OWN_DIR / "map.js"
    if name in vendor.Lock.read().files.values():
        return vendor.VENDOR_DIR / name
    return None


@lru_cache(maxsize=16)
def _read(path: Path, mtime_ns: int) -> tuple[bytes, str]:
    data = path.read_bytes()
    return data, '"' + hashlib.sha256(data).hexdigest()[:32] + '"'


@require_safe
def asset(request: HttpRequest, name: str) -> HttpResponse:
    """One file of the map (404 for any other name, or while MapLibre is not installed)."""
    path = _asset_path(name)
    if path is None or not path.is_file():
        raise Http404(name)
    data, etag = _read(path, path.stat().st_mtime_ns)
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type=_TYPES[path.suffix])
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={ASSET_MAX_AGE}"
    return response


def maplibre_installed() -> bool:
    return vendor.installed(vendor.Lock.read(), vendor.VENDOR_DIR)


def map_style(request: HttpRequest) -> dict[str, Any]:
    """A MapLibre style (version 8) drawing each public collection, one layer set each, from the
    dataset tileset; no glyphs or sprites (so no request leaves the platform)."""
    collections = public_collections()
    boxes = [box for box in (collection.extent() for collection in collections) if box is not None]
    source: dict[str, Any] = {
        "type": "vector",
        "tiles": [request.build_absolute_uri(f"/geo/tiles/{TMS_ID}/") + "{z}/{y}/{x}"],
        "minzoom": 0,
        "maxzoom": SOURCE_MAX_ZOOM,
        "attribution": "gov21",
    }
    if boxes:
        source["bounds"] = [
            min(box.minx for box in boxes),
            min(box.miny for box in boxes),
            max(box.maxx for box in boxes),
            max(box.maxy for box in boxes),
        ]
    layers: list[dict[str, Any]] = [
        {"id": "background", "type": "background", "paint": {"background-color": "#f3f2f1"}}
    ]
    for index, collection in enumerate(collections):
        fill, line = _FILLS[index % len(_FILLS)], _LINES[index % len(_LINES)]
        common = {
            "source": "gov21",
            "source-layer": collection.id,
            "minzoom": collection.tile_min_zoom,
            "metadata": {"gov21:collection": collection.id},
        }
        polygons = ["==", ["geometry-type"], "Polygon"]
        layers += [
            {
                "id": f"{collection.id}-fill",
                "type": "fill",
                **common,
                "filter": polygons,
                "paint": {"fill-color": fill, "fill-opacity": 0.8},
            },
            {
                "id": f"{collection.id}-line",
                "type": "line",
                **common,
                "filter": ["in", ["geometry-type"], ["literal", ["Polygon", "LineString"]]],
                "paint": {"line-color": line, "line-width": 1},
            },
            {
                "id": f"{collection.id}-point",
                "type": "circle",
                **common,
                "filter": ["==", ["geometry-type"], "Point"],
                "paint": {"circle-color": line, "circle-radius": 4, "circle-stroke-color": "#0b0c0c"},
            },
        ]
    return {"version": 8, "name": "gov21", "sources": {"gov21": source}, "layers": layers}


@require_safe
def style(request: HttpRequest) -> HttpResponse:
    response = HttpResponse(json.dumps(map_style(request)), content_type="application/json")
    response["Cache-Control"] = "public, max-age=300"
    return response


# --- the figure ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Row:
    id: str
    name: str
    href: str | None


def _geojson(entries: Sequence[tuple[Feature, str | None]]) -> dict[str, Any]:
    features = []
    for feature, href in entries:
        if feature.geometry is None:
            continue
        properties: dict[str, Any] = {"id": feature.id, "name": _name(feature)}
        if href:
            properties["href"] = href
        features.append(
            {
                "type": "Feature",
                "id": feature.id,
                "geometry": geometry_json(feature.geometry, digits=6),
                "properties": properties,
            }
        )
    body: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    box = bounds_of([feature.geometry for feature, _ in entries if feature.geometry is not None])
    if box is not None:
        body["bbox"] = box.as_list()
    return body


def _name(feature: Feature) -> str:
    for key in ("name", "kind"):
        value = feature.properties.get(key)
        if value not in (None, ""):
            return str(value)
    return ""


def figure_render(
    entries: Sequence[tuple[Feature, str | None]],
    *,
    label: str,
    collections: Sequence[str] | None = None,
    raster: str | None = None,
    table: bool = True,
    pick: tuple[str, str] | None = None,
) -> SafeString:
    """The shared map (see ``gov21.geo.contracts.map_figure``)."""
    if raster is not None and not (raster.startswith("/") and not raster.startswith("//")):
        raise ValueError(f"An imagery tile template is a path on this platform (/...), not {raster!r}.")
    svg = map_svg(entries, label=label)
    drawn = [feature for feature, _ in entries if feature.geometry is not None]
    context = {
        "svg": svg,
        "label": label,
        "interactive": bool(drawn) and maplibre_installed(),
        "geojson": _geojson(entries),
        "style_url": reverse("geo:map-style"),
        "script_url": reverse("geo:map-asset", args=["map.js"]),
        "collections": ",".join(collections) if collections is not None else None,
        "raster": raster,
        "table": table,
        "pick": " ".join(pick) if pick else "",
        "rows": [_Row(feature.id, _name(feature), href) for feature, href in entries],
    }
    return SafeString(render_to_string("geo/map_figure.html", context))
