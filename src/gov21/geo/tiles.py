"""Vector tiles in the shape of OGC API - Tiles (Part 1: Core), encoded as Mapbox Vector Tiles, in the
one tile matrix set every web map speaks, WebMercatorQuad.

A tile of a collection holds that collection's features that meet the tile (plus a buffer, so lines
and fills do not stop short at tile edges), asked from the collection's own ``items`` with a bbox
query in CRS84, exactly as ``/items?bbox=`` asks; so a register that serves features serves tiles
too, with the same permission: a collection that needs a right gives its tiles only to a caller whose
roles give it, and the collection logs the read with its reader. The dataset tileset (``/geo/tiles``)
holds one layer per *public* collection only, so a tile any cache may keep never carries personal data.

A public collection whose register says when it changes (``Collection.versioned``) has each layer of
a tile built once and kept as a file under the data directory (``tiles/<collection>/<version>/``),
until its register's next change gives the collection a new version; the next request then builds
the tile from the changed register. The version is read before the features and again after them,
and a layer is kept only when both agree, so a file never holds features of another version. A
collection that needs a right is never kept: each of its tiles is a read of the register by its
reader, logged as such.

Geometries are clipped to the tile and its buffer and simplified to a tile unit (1/4096 of the tile's
width), so a tile at zoom 8 does not carry the centimetres a parcel has at zoom 18. A tile with no
feature is a valid MVT whose layers are empty (200, not 204: every client reads it, and it caches
as any tile does). A tile address outside the tile matrix set is a 404, one that is not a number a
400, both as problem details (the exception shape of OGC API - Common)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
import time
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import morecantile
import numpy as np
import shapely
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils.http import parse_etags
from django.utils.translation import gettext as _
from numpy.typing import NDArray

from gov21.core.errors import NotFound
from gov21.core.geo import CRS84, BBox, Crs, QueryValueError
from gov21.core.principal import Principal
from gov21.geo.contracts import (
    Collection,
    Feature,
    FeatureColumns,
    Query,
    collection_version,
    collections_all,
)
from gov21.geo.mvt import layer_encode_columns
from gov21.geo.views import JSON, _collection, edge

TMS_ID = "WebMercatorQuad"
MVT = "application/vnd.mapbox-vector-tile"
TILESET_TYPE = "application/json"
MERCATOR = Crs("http://www.opengis.net/def/crs/EPSG/0/3857", 3857)
# Tile units across a tile (MVT's usual extent) and the margin kept around it, in the same units.
EXTENT = 4096
BUFFER = 64
# The deepest tile served: about 2.4 cm a tile unit at the equator; deeper adds nothing a register holds.
MAX_ZOOM = 22
# Features are asked from a collection a page at a time; a tile stops at TILE_FEATURES_MAX per layer.
PAGE = 5000
TILE_FEATURES_MAX = 20_000
# A public tile may be kept for five minutes by browsers and caches: a register's edit shows soon.
PUBLIC_MAX_AGE = 300
REL_TILING_SCHEME = "http://www.opengis.net/def/rel/ogc/1.0/tiling-scheme"


@cache
def tile_matrix_set() -> morecantile.TileMatrixSet:
    return morecantile.tms.get(TMS_ID)


@dataclass(frozen=True, slots=True)
class TileAddress:
    """A tile of WebMercatorQuad: its zoom (``tileMatrix``), row (from the top) and column."""

    zoom: int
    row: int
    col: int

    def bounds(self) -> tuple[float, float, float, float]:
        """West, south, east, north of the tile in CRS84."""
        box = tile_matrix_set().bounds(morecantile.Tile(x=self.col, y=self.row, z=self.zoom))
        return box.left, box.bottom, box.right, box.top

    def xy_bounds(self) -> tuple[float, float, float, float]:
        """The tile in Web Mercator metres (EPSG:3857)."""
        box = tile_matrix_set().xy_bounds(morecantile.Tile(x=self.col, y=self.row, z=self.zoom))
        return box.left, box.bottom, box.right, box.top

    def buffered(self) -> BBox:
        """The tile and its buffer, in CRS84, as a bbox query asks for it."""
        west, south, east, north = self.bounds()
        dx, dy = (east - west) * BUFFER / EXTENT, (north - south) * BUFFER / EXTENT
        return BBox(max(west - dx, -180.0), max(south - dy, -90.0), min(east + dx, 180.0), min(north + dy, 90.0))


def tile_address(tile_matrix: str, tile_row: str, tile_col: str) -> TileAddress:
    """The tile a request names; 400 when a part is not a whole number, 404 when it is outside the set."""
    numbers: dict[str, int] = {}
    for name, text in (("tileMatrix", tile_matrix), ("tileRow", tile_row), ("tileCol", tile_col)):
        if not text.isascii() or not text.isdigit() or len(text) > 9:
            raise QueryValueError(
                name, _("%(name)s must be a whole number of 0 or more, not %(given)s.") % {"name": name, "given": text}
            )
        numbers[name] = int(text)
    zoom = numbers["tileMatrix"]
    if zoom > MAX_ZOOM:
        raise NotFound(
            "tile_out_of_range",
            _("Tile matrix %(given)s is not served; the tile matrices go from 0 to %(max)s.")
            % {"given": zoom, "max": MAX_ZOOM},
            field="tileMatrix",
        )
    size = 2**zoom
    for name in ("tileRow", "tileCol"):
        if numbers[name] >= size:
            raise NotFound(
                "tile_out_of_range",
                _("At tile matrix %(zoom)s, %(name)s goes from 0 to %(max)s; %(given)s is outside it.")
                % {"zoom": zoom, "name": name, "max": size - 1, "given": numbers[name]},
                field=name,
            )
    return TileAddress(zoom, numbers["tileRow"], numbers["tileCol"])


# --- the features of a tile -----------------------------------------------------------------------


def tile_features(collection: Collection, tile: TileAddress, reader: Principal | None) -> list[Feature]:
    """The features of ``collection`` that meet ``tile`` and its buffer, asked a page at a time (none
    below the collection's ``tile_min_zoom``: the collection is not asked)."""
    if tile.zoom < collection.tile_min_zoom:
        return []
    window = tile.buffered()
    found: list[Feature] = []
    while len(found) < TILE_FEATURES_MAX:
        result = collection.items(Query(limit=PAGE, offset=len(found), bbox=window, reader=reader))
        page = list(result.features)[:PAGE]
        found.extend(page)
        if len(page) < PAGE or (result.number_matched is not None and len(found) >= result.number_matched):
            break
    return found[:TILE_FEATURES_MAX]


def tile_columns(collection: Collection, tile: TileAddress, reader: Principal | None) -> FeatureColumns:
    """The features of ``collection`` that meet ``tile`` and its buffer, as columns of its declared
    properties (and ids): what ``/items`` shows, nothing more. A public collection that reads its
    features as columns (``Collection.tile_columns``) gives them so; any other is asked a page at a
    time, with the reader, so a collection that needs a right logs the read."""
    names = [prop.name for prop in collection.properties]
    if tile.zoom < collection.tile_min_zoom:
        return FeatureColumns(ids=[], geometries=[], properties={name: [] for name in names})
    if collection.tile_columns is not None and collection.permission is None:
        return collection.tile_columns(tile.buffered(), TILE_FEATURES_MAX)
    features = tile_features(collection, tile, reader)
    return FeatureColumns(
        ids=[feature.id for feature in features],
        geometries=[feature.geometry for feature in features],
        properties={name: [feature.properties.get(name) for feature in features] for name in names},
    )


# The radius of the sphere Web Mercator (EPSG:3857) projects, in metres.
_EARTH_RADIUS = 6378137.0


def tile_layer(collection: Collection, features: FeatureColumns, tile: TileAddress) -> bytes:
    """One MVT layer (named by the collection's id), encoded: the geometries clipped to the buffered
    tile in CRS84 (a rectangle there is a rectangle in Web Mercator too; a geometry inside it, most of
    them, is not clipped), carried into Web Mercator and scaled to the tile's units in one pass over
    all their coordinates, simplified to one unit (those of more than five points), and oriented as
    MVT wants: exterior rings clockwise here, with y up, so that once the encoder turns y down they
    have the positive surveyor's area the MVT specification requires (holes the other way).
    ``geo.mvt`` encodes them all in one pass too, with the properties a column each (``id`` first,
    then the declared ones)."""
    names = [prop.name for prop in collection.properties]
    geometries = np.empty(len(features.geometries), dtype=object)
    geometries[:] = list(features.geometries)
    placed = np.flatnonzero(shapely.is_geometry(geometries))
    if placed.size == 0:
        return layer_encode_columns(collection.id, [], [], extent=EXTENT)
    window = tile.buffered()
    minx, miny, maxx, _maxy = tile.xy_bounds()
    scale = EXTENT / (maxx - minx)

    def to_units(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        # EPSG:3857 is the sphere's Mercator: x = R λ, y = R ln tan(π/4 + φ/2), in numpy at once.
        x = np.radians(xy[:, 0]) * _EARTH_RADIUS
        y = np.log(np.tan(np.pi / 4 + np.radians(xy[:, 1]) / 2)) * _EARTH_RADIUS
        return np.column_stack([(x - minx) * scale, (y - miny) * scale])

    shapes = geometries[placed]
    bounds = shapely.bounds(shapes)
    inside = (
        (bounds[:, 0] >= window.minx)
        & (bounds[:, 1] >= window.miny)
        & (bounds[:, 2] <= window.maxx)
        & (bounds[:, 3] <= window.maxy)
    )
    clipped = shapes.copy()
    edge = np.flatnonzero(~inside)
    if edge.size:
        clipped[edge] = shapely.clip_by_rect(shapes[edge], window.minx, window.miny, window.maxx, window.maxy)
    kept = np.flatnonzero(~shapely.is_empty(clipped))
    if kept.size == 0:
        return layer_encode_columns(collection.id, [], [], extent=EXTENT)
    projected = shapely.transform(clipped[kept], to_units)
    # A shape of five points or fewer (a point, a segment, a four-sided ring: a parcel, most
    # buildings) has nothing to simplify that the grid does not take away; the others are simplified.
    detailed = np.flatnonzero(shapely.get_num_coordinates(projected) > 5)
    if detailed.size:
        projected[detailed] = shapely.simplify(projected[detailed], 1.0, preserve_topology=True)
    oriented = shapely.orient_polygons(projected, exterior_cw=True)
    rows = placed[kept].tolist()
    columns = [("id", [features.ids[i] for i in rows])]
    columns += [(name, [features.properties[name][i] for i in rows]) for name in names]
    return layer_encode_columns(collection.id, oriented, columns, extent=EXTENT)


# --- tiles kept until their collection changes --------------------------------------------------------

# Changes when the way a layer is built changes, so files built by earlier code are not served.
_LAYOUT = "mvt-3"


def _cache_folder(collection: Collection, version: str) -> Path:
    key = hashlib.sha256(f"{_LAYOUT}:{version}".encode()).hexdigest()[:24]
    return Path(settings.DATA_DIR) / "tiles" / collection.id / key


def _cache_path(folder: Path, tile: TileAddress) -> Path:
    return folder / str(tile.zoom) / str(tile.col) / f"{tile.row}.mvt"


# A folder of an earlier version is left for the tile keeper (``geo.seeding``), which builds its tiles
# for the new version and then removes it; one older than this is removed by the next new version's
# first tile, so a node that runs no keeper does not keep them for ever.
EARLIER_KEPT_SECONDS = 600


def _left_alone(folder: Path) -> bool:
    try:
        return time.time() - folder.stat().st_mtime > EARLIER_KEPT_SECONDS
    except OSError:
        return False  # removed meanwhile


def _cache_store(folder: Path, tile: TileAddress, data: bytes) -> None:
    """Keep ``data`` (written whole, then renamed into place: a reader never sees half a file); the
    first tile of a new version removes the folders of the collection's earlier versions that have
    been left alone for ``EARLIER_KEPT_SECONDS``."""
    path = _cache_path(folder, tile)
    try:
        if not folder.exists():
            folder.mkdir(parents=True, exist_ok=True)
            for earlier in folder.parent.iterdir():
                if earlier != folder and _left_alone(earlier):
                    shutil.rmtree(earlier, ignore_errors=True)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".part")
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except OSError:
        pass  # another worker removed the folder of a version that is now old: the tile is served unkept


def tiles_kept_folders(collection: Collection) -> tuple[Path | None, list[Path]]:
    """The folder of the collection's current version (None: its tiles are not kept) and those of
    its earlier versions still on disk."""
    keep = collection.versioned and collection.permission is None
    version = collection_version(collection.id) if keep else None
    if version is None:
        return None, []
    folder = _cache_folder(collection, version)
    try:
        earlier = [path for path in folder.parent.iterdir() if path != folder and path.is_dir()]
    except OSError:
        earlier = []
    return folder, earlier


def tiles_in_folder(folder: Path) -> list[TileAddress]:
    """The addresses of the tiles kept in ``folder`` (``<zoom>/<col>/<row>.mvt``)."""
    found = []
    for path in folder.glob("*/*/*.mvt"):
        zoom, col, row = path.parent.parent.name, path.parent.name, path.stem
        if zoom.isdigit() and col.isdigit() and row.isdigit():
            found.append(TileAddress(int(zoom), int(row), int(col)))
    return found


def tile_kept(folder: Path, tile: TileAddress) -> bool:
    return _cache_path(folder, tile).exists()


def tile_built_at(folder: Path, tile: TileAddress) -> float:
    """When the tile kept in ``folder`` was built (0: it is not there)."""
    try:
        return _cache_path(folder, tile).stat().st_mtime
    except OSError:
        return 0.0


def layer_tile(collection: Collection, tile: TileAddress, reader: Principal | None) -> bytes:
    """The tile's layer of ``collection``, encoded (a tile of several layers is their encodings one
    after another, as protocol buffers join repeated fields). Kept until the collection changes when
    it is public and its register says when it changes."""
    keep = collection.versioned and collection.permission is None and tile.zoom >= collection.tile_min_zoom
    version = collection_version(collection.id) if keep else None
    if version is None:
        return tile_layer(collection, tile_columns(collection, tile, reader), tile)
    folder = _cache_folder(collection, version)
    try:
        return _cache_path(folder, tile).read_bytes()
    except OSError:
        pass
    data = tile_layer(collection, tile_columns(collection, tile, reader), tile)
    if collection_version(collection.id) == version:
        _cache_store(folder, tile, data)
    return data


def public_collections() -> list[Collection]:
    """The collections anyone may read: the layers of the dataset tileset."""
    return [collection for collection in collections_all() if collection.permission is None]


# --- HTTP -----------------------------------------------------------------------------------------


def _json_only(request: HttpRequest) -> None:
    """Tile metadata is JSON; the only parameter is ``f=json``."""
    for name in request.GET:
        if name != "f":
            raise QueryValueError(name, _("%(name)s is not a parameter of this resource; it takes f.") % {"name": name})
    fmt = request.GET.get("f")
    if fmt is not None and fmt != "json":
        raise QueryValueError(
            "f", _("This resource is given as JSON only (f=json), not %(given)s.") % {"given": repr(fmt)}
        )


def _no_parameters(request: HttpRequest) -> None:
    for name in request.GET:
        raise QueryValueError(name, _("A tile takes no parameters; %(name)s is not one.") % {"name": name})


def _tile_matrix_set_known(tile_matrix_set_id: str) -> None:
    if tile_matrix_set_id != TMS_ID:
        raise NotFound(
            "unknown_tile_matrix_set",
            _("There is no tile matrix set %(given)s; the only one is %(known)s.")
            % {"given": repr(tile_matrix_set_id), "known": TMS_ID},
            field="tileMatrixSetId",
        )


def _json(body: dict[str, Any]) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=JSON)


def _url(request: HttpRequest, path: str) -> str:
    return request.build_absolute_uri("/geo/" + path)


def _tile_response(request: HttpRequest, data: bytes, *, public: bool) -> HttpResponse:
    """The tile, with a strong ETag of its bytes; a 304 when the client already holds them. A tile of
    a collection that needs a right is kept by the reader's browser only, and checked each time."""
    etag = '"' + hashlib.sha256(data).hexdigest()[:32] + '"'
    if etag in parse_etags(request.headers.get("If-None-Match", "")):
        response = HttpResponse(status=304)
    else:
        response = HttpResponse(data, content_type=MVT)
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}" if public else "private, no-cache"
    return response


@edge
def tile_matrix_sets(request: HttpRequest) -> HttpResponse:
    _json_only(request)
    tms = tile_matrix_set()
    return _json(
        {
            "tileMatrixSets": [
                {
                    "id": TMS_ID,
                    "title": tms.title,
                    "uri": str(tms.uri),
                    "links": [
                        {
                            "rel": "self",
                            "type": JSON,
                            "title": TMS_ID,
                            "href": _url(request, f"tileMatrixSets/{TMS_ID}"),
                        }
                    ],
                }
            ],
            "links": [{"rel": "self", "type": JSON, "href": _url(request, "tileMatrixSets")}],
        }
    )


@edge
def tile_matrix_set_view(request: HttpRequest, tile_matrix_set_id: str) -> HttpResponse:
    _json_only(request)
    _tile_matrix_set_known(tile_matrix_set_id)
    return _json(tile_matrix_set().model_dump(exclude_none=True, mode="json"))


def _limits(box: BBox | None) -> list[dict[str, Any]]:
    """For each tile matrix, the rows and columns that hold data (all of them when the extent is unknown)."""
    tms = tile_matrix_set()
    limits = []
    for zoom in range(MAX_ZOOM + 1):
        if box is None:
            first, last = morecantile.Tile(0, 0, zoom), morecantile.Tile(2**zoom - 1, 2**zoom - 1, zoom)
        else:
            first, last = tms.tile(box.minx, box.maxy, zoom), tms.tile(box.maxx, box.miny, zoom)
        limits.append(
            {
                "tileMatrix": str(zoom),
                "minTileRow": first.y,
                "maxTileRow": last.y,
                "minTileCol": first.x,
                "maxTileCol": last.x,
            }
        )
    return limits


def _layer_json(collection: Collection) -> dict[str, Any]:
    return {
        "id": collection.id,
        "title": str(collection.title),
        "description": str(collection.description),
        "dataType": "vector",
        "minTileMatrix": str(collection.tile_min_zoom),
        "maxTileMatrix": str(MAX_ZOOM),
        "propertiesSchema": {
            "type": "object",
            "properties": {
                "id": {"type": "string"},
                **{prop.name: {"type": prop.type, "title": str(prop.title)} for prop in collection.properties},
            },
        },
    }


def _tileset(request: HttpRequest, base: str, title: str, layers: list[Collection], box: BBox | None) -> dict[str, Any]:
    tms = tile_matrix_set()
    body: dict[str, Any] = {
        "title": title,
        "dataType": "vector",
        "crs": MERCATOR.uri,
        "tileMatrixSetURI": str(tms.uri),
        "links": [
            {"rel": "self", "type": TILESET_TYPE, "title": title, "href": _url(request, f"{base}/{TMS_ID}")},
            {
                "rel": REL_TILING_SCHEME,
                "type": JSON,
                "title": TMS_ID,
                "href": _url(request, f"tileMatrixSets/{TMS_ID}"),
            },
            {
                "rel": "item",
                "type": MVT,
                "title": _("A tile (Mapbox Vector Tile)"),
                "href": _url(request, f"{base}/{TMS_ID}") + "/{tileMatrix}/{tileRow}/{tileCol}",
                "templated": True,
            },
        ],
        "tileMatrixSetLimits": _limits(box),
        "layers": [_layer_json(collection) for collection in layers],
    }
    if box is not None:
        body["boundingBox"] = {
            "lowerLeft": [box.minx, box.miny],
            "upperRight": [box.maxx, box.maxy],
            "crs": CRS84.uri,
        }
    return body


def _tilesets(request: HttpRequest, base: str, title: str) -> dict[str, Any]:
    tms = tile_matrix_set()
    return {
        "links": [{"rel": "self", "type": JSON, "href": _url(request, base)}],
        "tilesets": [
            {
                "title": title,
                "dataType": "vector",
                "crs": MERCATOR.uri,
                "tileMatrixSetURI": str(tms.uri),
                "links": [
                    {"rel": "self", "type": TILESET_TYPE, "href": _url(request, f"{base}/{TMS_ID}")},
                    {"rel": REL_TILING_SCHEME, "type": JSON, "href": _url(request, f"tileMatrixSets/{TMS_ID}")},
                ],
            }
        ],
    }


@edge
def collection_tilesets(request: HttpRequest, collection_id: str) -> HttpResponse:
    found, _reader = _collection(request, collection_id)
    _json_only(request)
    return _json(_tilesets(request, f"collections/{found.id}/tiles", str(found.title)))


@edge
def collection_tileset(request: HttpRequest, collection_id: str, tile_matrix_set_id: str) -> HttpResponse:
    found, _reader = _collection(request, collection_id)
    _json_only(request)
    _tile_matrix_set_known(tile_matrix_set_id)
    return _json(_tileset(request, f"collections/{found.id}/tiles", str(found.title), [found], found.extent()))


@edge
def collection_tile(
    request: HttpRequest, collection_id: str, tile_matrix_set_id: str, tile_matrix: str, tile_row: str, tile_col: str
) -> HttpResponse:
    found, reader = _collection(request, collection_id)
    _no_parameters(request)
    _tile_matrix_set_known(tile_matrix_set_id)
    tile = tile_address(tile_matrix, tile_row, tile_col)
    return _tile_response(request, layer_tile(found, tile, reader), public=found.permission is None)


def _dataset_box() -> BBox | None:
    boxes = [box for box in (collection.extent() for collection in public_collections()) if box is not None]
    if not boxes:
        return None
    return BBox(
        min(box.minx for box in boxes),
        min(box.miny for box in boxes),
        max(box.maxx for box in boxes),
        max(box.maxy for box in boxes),
    )


@edge
def dataset_tilesets(request: HttpRequest) -> HttpResponse:
    _json_only(request)
    return _json(_tilesets(request, "tiles", _("Geographic data")))


@edge
def dataset_tileset(request: HttpRequest, tile_matrix_set_id: str) -> HttpResponse:
    _json_only(request)
    _tile_matrix_set_known(tile_matrix_set_id)
    return _json(_tileset(request, "tiles", _("Geographic data"), public_collections(), _dataset_box()))


@edge
def dataset_tile(
    request: HttpRequest, tile_matrix_set_id: str, tile_matrix: str, tile_row: str, tile_col: str
) -> HttpResponse:
    _no_parameters(request)
    _tile_matrix_set_known(tile_matrix_set_id)
    tile = tile_address(tile_matrix, tile_row, tile_col)
    data = b"".join(layer_tile(found, tile, None) for found in public_collections())
    return _tile_response(request, data, public=True)
