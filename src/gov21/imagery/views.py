"""The STAC API (1.0: core, collections, OGC API Features, item search) at ``/stac/``, the files of
its items with HTTP range requests (what GDAL and QGIS need to read a Cloud-Optimized GeoTIFF where it
lies), and web map tiles cut from them.

Public imagery needs no sign-in. Every refusal is JSON in the STAC API's error shape (``code`` and
``description``), which is also an RFC 9457 problem (``type``, ``title``, ``status``, ``detail``),
so both kinds of client read it; a request is never answered with a 500 for what it asked."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import replace
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseBase, StreamingHttpResponse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from gov21.core.errors import DomainError, NotFound
from gov21.core.geo import QueryValueError, geometry_check, parse_bbox, parse_datetime
from gov21.core.http import problem
from gov21.imagery import raster, selectors
from gov21.imagery.openapi import OPENAPI_TYPE, openapi_document
from gov21.imagery.stac import CONFORMANCE, GEOJSON, JSON, STAC_VERSION, Addresses, collection_json, item_json
from gov21.imagery.storage import StorageError, raster_open, storage

LIMIT_DEFAULT = 10
LIMIT_MAX = 1000
SEARCH_PARAMETERS = frozenset({"bbox", "datetime", "collections", "ids", "limit", "intersects", "token"})
ITEMS_PARAMETERS = frozenset({"bbox", "datetime", "limit", "token"})
# Tiles and files do not change under their address (a new file is a new item): caches may keep them.
IMMUTABLE = "public, max-age=86400"

View = Callable[..., HttpResponseBase]


def _refusal(request: HttpRequest, error: DomainError) -> HttpResponse:
    return problem(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        field=error.field,
        instance=request.path,
        extra={"description": error.detail},
    )


def edge(*methods: str) -> Callable[[View], View]:
    """A STAC API view answering ``methods`` (and HEAD with GET), whose refusals are JSON."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorate(view: View) -> View:
        @csrf_exempt  # a public read API: no cookie gives a request any authority here
        @wraps(view)
        def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
            if request.method not in allowed:
                response: HttpResponseBase = _refusal(
                    request,
                    DomainError(
                        "method_not_allowed",
                        _("This resource answers %(methods)s.") % {"methods": ", ".join(sorted(allowed))},
                        status=405,
                        title="Method not allowed",
                    ),
                )
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                return view(request, *args, **kwargs)
            except DomainError as error:
                return _refusal(request, error)
            except StorageError:
                return _refusal(
                    request,
                    DomainError(
                        "storage_unavailable",
                        _("The imagery storage cannot be reached just now; try again later."),
                        status=503,
                        title="Service unavailable",
                    ),
                )

        return wrapped

    return decorate


def _json(body: dict[str, Any], content_type: str = JSON) -> HttpResponse:
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=content_type)


# --- the catalogue ---------------------------------------------------------------------------------


@edge("GET")
def landing(request: HttpRequest) -> HttpResponseBase:
    _no_parameters(request)
    at = Addresses(request)
    links = [
        {"rel": "self", "type": JSON, "href": at.of()},
        {"rel": "root", "type": JSON, "href": at.of()},
        {"rel": "conformance", "type": JSON, "href": at.of("conformance")},
        {"rel": "data", "type": JSON, "href": at.of("collections")},
        {"rel": "search", "type": GEOJSON, "method": "GET", "href": at.of("search")},
        {"rel": "search", "type": GEOJSON, "method": "POST", "href": at.of("search")},
        {"rel": "service-desc", "type": OPENAPI_TYPE, "href": at.of("api")},
    ]
    links += [
        {"rel": "child", "type": JSON, "title": collection.title, "href": at.collection(collection.collection_id)}
        for collection in selectors.collections_all()
    ]
    return _json(
        {
            "type": "Catalog",
            "stac_version": STAC_VERSION,
            "id": "gov21-imagery",
            "title": _("Imagery"),
            "description": _("The government's open imagery: scenes as Cloud-Optimized GeoTIFFs, in a STAC catalogue."),
            "conformsTo": list(CONFORMANCE),
            "links": links,
        }
    )


@edge("GET")
def conformance(request: HttpRequest) -> HttpResponseBase:
    _no_parameters(request)
    return _json({"conformsTo": list(CONFORMANCE)})


@edge("GET")
def api(request: HttpRequest) -> HttpResponseBase:
    _no_parameters(request)
    return _json(openapi_document(Addresses(request).of()), OPENAPI_TYPE)


@edge("GET")
def collections(request: HttpRequest) -> HttpResponseBase:
    _no_parameters(request)
    at = Addresses(request)
    return _json(
        {
            "collections": [collection_json(at, found) for found in selectors.collections_all()],
            "links": [
                {"rel": "self", "type": JSON, "href": at.of("collections")},
                {"rel": "root", "type": JSON, "href": at.of()},
            ],
        }
    )


def _collection(collection_id: str) -> Any:
    found = selectors.collection_get(collection_id)
    if found is None:
        raise NotFound(
            "unknown_collection",
            _("There is no collection %(given)s.") % {"given": repr(collection_id)},
            field="collectionId",
        )
    return found


@edge("GET")
def collection(request: HttpRequest, collection_id: str) -> HttpResponseBase:
    _no_parameters(request)
    return _json(collection_json(Addresses(request), _collection(collection_id)))


def _item(collection_id: str, item_id: str) -> Any:
    _collection(collection_id)
    found = selectors.item_get(collection_id, item_id)
    if found is None:
        raise NotFound(
            "unknown_item",
            _("Collection %(collection)s has no item %(item)s.") % {"collection": collection_id, "item": repr(item_id)},
            field="itemId",
        )
    return found


@edge("GET")
def item(request: HttpRequest, collection_id: str, item_id: str) -> HttpResponseBase:
    _no_parameters(request)
    return _json(item_json(Addresses(request), _item(collection_id, item_id)), GEOJSON)


# --- search ----------------------------------------------------------------------------------------


def _no_parameters(request: HttpRequest) -> None:
    for name in request.GET:
        raise QueryValueError(name, _("%(name)s is not a parameter of this resource.") % {"name": name})


def _token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _offset(token: object) -> int:
    if not isinstance(token, str) or len(token) > 64:
        raise QueryValueError("token", _("token must be the value of a next link."))
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        text = ""
    match = re.fullmatch(r"offset:(\d{1,9})", text)
    if match is None:
        raise QueryValueError("token", _("token must be the value of a next link."))
    return int(match.group(1))


def _names(value: object, parameter: str) -> tuple[str, ...]:
    if isinstance(value, str):
        names = [part.strip() for part in value.split(",")]
    elif isinstance(value, list) and all(isinstance(part, str) for part in value):
        names = [str(part) for part in value]
    else:
        raise QueryValueError(parameter, _("%(parameter)s must be a list of names.") % {"parameter": parameter})
    if not names or any(not name or len(name) > 128 for name in names) or len(names) > 1000:
        raise QueryValueError(
            parameter, _("%(parameter)s must name between 1 and 1000 non-empty names.") % {"parameter": parameter}
        )
    return tuple(names)


def _limit(value: object) -> int:
    if isinstance(value, str) and value.isascii() and value.isdigit():
        value = int(value)
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise QueryValueError("limit", _("limit must be a whole number of at least 1."))
    # Above the maximum the maximum is used, as OGC API Features asks.
    return min(value, LIMIT_MAX)


def _search(values: dict[str, Any], allowed: frozenset[str]) -> selectors.Search:
    """The checked search of ``values`` (from a query string: strings; from a JSON body: JSON values)."""
    for name in values:
        if name not in allowed:
            raise QueryValueError(
                name,
                _("%(name)s is not a parameter of this resource; it takes %(allowed)s.")
                % {"name": name, "allowed": ", ".join(sorted(allowed))},
            )
    window = None
    bbox = values.get("bbox")
    if bbox is not None:
        if isinstance(bbox, list) and all(isinstance(v, int | float) and not isinstance(v, bool) for v in bbox):
            bbox = ",".join(str(v) for v in bbox)
        if not isinstance(bbox, str):
            raise QueryValueError("bbox", _("bbox must be four or six numbers."))
        window = parse_bbox(bbox).geometry()
    intersects = values.get("intersects")
    if intersects is not None:
        if bbox is not None:
            raise QueryValueError("intersects", _("Give bbox or intersects, not both."))
        if isinstance(intersects, str):
            try:
                intersects = json.loads(intersects)
            except ValueError:
                raise QueryValueError("intersects", _("intersects must be a GeoJSON geometry.")) from None
        try:
            window = geometry_check(intersects, field="intersects")
        except DomainError as error:
            raise QueryValueError("intersects", error.detail) from None
    moment = values.get("datetime")
    if moment is not None and not isinstance(moment, str):
        raise QueryValueError("datetime", _("datetime must be an instant or an interval, as text."))
    return selectors.Search(
        limit=_limit(values["limit"]) if values.get("limit") is not None else LIMIT_DEFAULT,
        offset=_offset(values["token"]) if values.get("token") is not None else 0,
        collections=_names(values["collections"], "collections") if values.get("collections") is not None else None,
        ids=_names(values["ids"], "ids") if values.get("ids") is not None else None,
        window=window,
        interval=parse_datetime(moment) if moment is not None else None,
    )


def _query_values(request: HttpRequest) -> dict[str, str]:
    for name in request.GET:
        if len(request.GET.getlist(name)) > 1:
            raise QueryValueError(name, _("%(name)s is given more than once.") % {"name": name})
    return {name: request.GET[name] for name in request.GET}


def _feature_collection(
    request: HttpRequest, search: selectors.Search, next_link: Callable[[str], dict[str, Any]]
) -> HttpResponse:
    found = selectors.items_search(search)
    at = Addresses(request)
    links: list[dict[str, Any]] = [{"rel": "root", "type": JSON, "href": at.of()}]
    if search.offset + len(found.items) < found.matched:
        links.append({"rel": "next", "type": GEOJSON, **next_link(_token(search.offset + search.limit))})
    return _json(
        {
            "type": "FeatureCollection",
            "features": [item_json(at, found_item) for found_item in found.items],
            "links": links,
            "numberMatched": found.matched,
            "numberReturned": len(found.items),
        },
        GEOJSON,
    )


def _get_next(request: HttpRequest, values: dict[str, str]) -> Callable[[str], dict[str, Any]]:
    def link(token: str) -> dict[str, Any]:
        query = urlencode({**values, "token": token})
        return {"method": "GET", "href": request.build_absolute_uri(request.path) + "?" + query}

    return link


@edge("GET", "POST")
def search(request: HttpRequest) -> HttpResponseBase:
    if request.method == "POST":
        if request.GET:
            _no_parameters(request)
        try:
            body = json.loads(request.body or b"{}")
        except ValueError:
            raise DomainError(
                "invalid_body", _("The body must be a JSON object."), status=400, title="Bad request"
            ) from None
        if not isinstance(body, dict):
            raise DomainError("invalid_body", _("The body must be a JSON object."), status=400, title="Bad request")
        query = _search(body, SEARCH_PARAMETERS)

        def post_next(token: str) -> dict[str, Any]:
            return {"method": "POST", "href": Addresses(request).of("search"), "body": {**body, "token": token}}

        return _feature_collection(request, query, post_next)
    values = _query_values(request)
    return _feature_collection(request, _search(values, SEARCH_PARAMETERS), _get_next(request, values))


@edge("GET")
def items(request: HttpRequest, collection_id: str) -> HttpResponseBase:
    _collection(collection_id)
    values = _query_values(request)
    query = replace(_search(values, ITEMS_PARAMETERS), collections=(collection_id,))
    return _feature_collection(request, query, _get_next(request, values))


# --- files -----------------------------------------------------------------------------------------

_RANGE = re.compile(r"bytes=(\d*)-(\d*)")


def _range(header: str, size: int) -> tuple[int, int] | None:
    """The byte range (first, last) a Range header asks of a file of ``size`` bytes; None to send the
    whole file (no header, another unit, or several ranges, which a server may answer whole: RFC 9110
    §14.2); a ``DomainError`` 416 for a range that cannot be satisfied."""
    header = header.strip()
    if not header.startswith("bytes=") or "," in header:
        return None
    match = _RANGE.fullmatch(header)
    unsatisfiable = DomainError(
        "range_not_satisfiable",
        _("The range %(range)s is not within the file's %(size)s bytes.") % {"range": header, "size": size},
        status=416,
        title="Range not satisfiable",
        field="Range",
    )
    if match is None or match.groups() == ("", ""):
        raise unsatisfiable
    first, last = match.groups()
    if first == "":
        length = int(last)
        if length == 0 or size == 0:
            raise unsatisfiable
        return max(0, size - length), size - 1
    start = int(first)
    end = size - 1 if last == "" else min(int(last), size - 1)
    if start >= size or (last != "" and int(last) < start):
        raise unsatisfiable
    return start, end


@edge("GET")
def asset(request: HttpRequest, collection_id: str, item_id: str, key: str) -> HttpResponseBase:
    _no_parameters(request)
    _item(collection_id, item_id)
    found = selectors.asset_get(collection_id, item_id, key)
    if found is None:
        raise NotFound("unknown_asset", _("This item has no file %(key)s.") % {"key": repr(key)}, field="assetKey")
    etag = f'"{found.sha256}"'
    size = found.size
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        response: HttpResponseBase = HttpResponse(status=304)
        response["ETag"] = etag
        return response
    wanted: tuple[int, int] | None = None
    if_range = request.headers.get("If-Range")
    if "Range" in request.headers and (if_range is None or if_range.strip() == etag):
        try:
            wanted = _range(request.headers["Range"], size)
        except DomainError as error:
            refused = _refusal(request, error)
            refused["Content-Range"] = f"bytes */{size}"
            refused["Accept-Ranges"] = "bytes"
            return refused
    first, last = wanted if wanted is not None else (0, size - 1)
    chunks: Iterator[bytes] = (
        iter(()) if request.method == "HEAD" or size == 0 else storage().read(found.storage_key, first, last)
    )
    response = StreamingHttpResponse(chunks, status=206 if wanted is not None else 200, content_type=found.media_type)
    response["Content-Length"] = str(last - first + 1 if size else 0)
    if wanted is not None:
        response["Content-Range"] = f"bytes {first}-{last}/{size}"
    response["Accept-Ranges"] = "bytes"
    response["ETag"] = etag
    response["Cache-Control"] = IMMUTABLE
    response["Access-Control-Allow-Origin"] = "*"
    response["Content-Disposition"] = (
        f'inline; filename="{item_id}-{key}.{"tif" if "tiff" in found.media_type else "png"}"'
    )
    return response


@edge("GET")
def tile(request: HttpRequest, collection_id: str, item_id: str, z: int, y: int, x: int) -> HttpResponseBase:
    _no_parameters(request)
    found = _item(collection_id, item_id)
    if z > raster.MAX_ZOOM or x >= (1 << z) or y >= (1 << z):
        raise NotFound(
            "unknown_tile", _("There is no tile %(z)s/%(y)s/%(x)s in WebMercatorQuad.") % {"z": z, "y": y, "x": x}
        )
    outline = raster.tile_outline(z, x, y)
    if not outline.intersects(found.geometry):
        raise NotFound("tile_outside", _("Tile %(z)s/%(y)s/%(x)s is outside this scene.") % {"z": z, "y": y, "x": x})
    data = next((one for one in found.assets.all() if one.key == "data"), None)
    if data is None:
        raise NotFound("unknown_asset", _("This item has no image to cut tiles from."))
    etag = f'"{data.sha256[:32]}-{z}-{y}-{x}"'
    if etag in [tag.strip() for tag in request.headers.get("If-None-Match", "").split(",")]:
        not_modified = HttpResponse(status=304)
        not_modified["ETag"] = etag
        return not_modified
    from rasterio.errors import RasterioError

    try:
        with raster_open(data.storage_key) as dataset:
            png = raster.tile(dataset, z, x, y)
    except RasterioError:
        raise DomainError(
            "asset_unreadable",
            _("The scene's file cannot be read just now; try again later."),
            status=503,
            title="Service unavailable",
        ) from None
    response = HttpResponse(png, content_type=raster.PNG_MEDIA_TYPE)
    response["ETag"] = etag
    response["Cache-Control"] = IMMUTABLE
    response["Access-Control-Allow-Origin"] = "*"
    return response
