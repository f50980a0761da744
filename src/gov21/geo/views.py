"""OGC API - Features (Part 1: Core, with Part 2's CRS by reference) at ``/geo/``: the landing page,
the conformance declaration, the API definition, the collections and their features, each as JSON
(GeoJSON for features) and as an HTML page in the portal's shell with a map drawn on the server.

Every query parameter is checked before a collection is asked: a parameter the API definition does
not declare, or a value that cannot be used, is refused with 400 problem+json (Requirements 8 and 9,
``/req/core/query-param-unknown`` and ``-invalid``). A ``limit`` above the maximum is not an error:
the maximum is used (``/req/core/fc-limit-response-1`` C).

Part 3 (Filtering): ``filter`` takes a CQL2 expression (``filter-lang``: ``cql2-text``, the default,
or ``cql2-json``) over the collection's queryables, which ``/collections/{id}/queryables`` describes as
a JSON Schema; the collection receives it checked and typed in ``Query.cql`` (see ``geo.cql``). A
refusal carries the OGC exception's ``code`` and ``description`` beside RFC 9457's fields."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import UTC, datetime
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.encoding import iri_to_uri
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe

from gov21.core.errors import DomainError, NotFound, Unauthenticated
from gov21.core.geo import (
    CRS84,
    Crs,
    QueryValueError,
    crs_from_uri,
    geometries_json,
    parse_bbox,
    parse_datetime,
    supported_crs,
)
from gov21.core.http import problem
from gov21.core.office import request_principal
from gov21.core.principal import Principal
from gov21.geo.contracts import (
    Collection,
    Feature,
    Query,
    Value,
    collection_get,
    collection_version,
    collections_all,
    map_figure,
)
from gov21.geo.cql import Filter, cql_parse
from gov21.geo.kept import kept_add, kept_get
from gov21.geo.openapi import CONFORMANCE, LIMIT_DEFAULT, LIMIT_MAX, OPENAPI_TYPE, openapi_document

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
FORMATS = {"json": JSON, "html": HTML}
COMMON_PARAMETERS = frozenset({"f"})
ITEMS_PARAMETERS = frozenset({"f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang"})
FILTER_PARAMETERS = frozenset({"filter", "filter-lang"})
SCHEMA_JSON = "application/schema+json"
QUERYABLES_REL = "http://www.opengis.net/def/rel/ogc/1.0/queryables"
REL_TILING_SCHEMES = "http://www.opengis.net/def/rel/ogc/1.0/tiling-schemes"
REL_TILESETS_VECTOR = "http://www.opengis.net/def/rel/ogc/1.0/tilesets-vector"
# Coordinates are given to seven decimals in CRS84 (about a centimetre) and to the centimetre in metres.
DIGITS = {True: 7, False: 2}


class Page:
    """What one request asked for: its checked parameters and the format of the answer."""

    def __init__(self, request: HttpRequest, allowed: Iterable[str]) -> None:
        self.request = request
        allowed = frozenset(allowed)
        for name in request.GET:
            if name not in allowed:
                raise QueryValueError(
                    name,
                    _("%(name)s is not a parameter of this resource; it takes %(allowed)s.")
                    % {"name": name, "allowed": ", ".join(sorted(allowed))},
                )
            if len(request.GET.getlist(name)) > 1:
                raise QueryValueError(name, _("%(name)s is given more than once.") % {"name": name})
        fmt = request.GET.get("f")
        if fmt is not None:
            if fmt not in FORMATS:
                raise QueryValueError(
                    "f",
                    _("f must be one of %(formats)s, not %(given)s.")
                    % {"formats": ", ".join(FORMATS), "given": repr(fmt)},
                )
            self.html = fmt == "html"
        else:
            self.html = request.get_preferred_type([JSON, GEOJSON, HTML]) == HTML

    def param(self, name: str) -> str | None:
        return self.request.GET.get(name)

    def url(self, path: str, **params: str | int) -> str:
        """The absolute address of ``path`` under /geo/ with ``params``."""
        query = urlencode(params)
        return self.request.build_absolute_uri("/geo/" + path) + (f"?{query}" if query else "")

    def here(self, **changes: str | int | None) -> str:
        """This request's address with ``changes`` to its parameters (None removes one)."""
        params: dict[str, str | int] = {key: self.request.GET[key] for key in self.request.GET}
        for key, value in changes.items():
            if value is None:
                params.pop(key, None)
            else:
                params[key] = value
        query = urlencode(params)
        return self.request.build_absolute_uri(self.request.path) + (f"?{query}" if query else "")

    def self_links(self, json_type: str = JSON) -> list[dict[str, str]]:
        """``self`` and ``alternate`` links, the former in the format this answer is in."""
        as_json = {"href": self.here(f="json"), "type": json_type, "title": _("This document as JSON")}
        as_html = {"href": self.here(f="html"), "type": HTML, "title": _("This document as HTML")}
        first, second = (as_html, as_json) if self.html else (as_json, as_html)
        return [{"rel": "self", **first}, {"rel": "alternate", **second}]


def _answer(
    page: Page, body: dict[str, Any], template: str, context: dict[str, Any], *, content_type: str = JSON
) -> HttpResponse:
    if page.html:
        return render(page.request, template, {**context, "body": body, "json_url": page.here(f="json")})
    return HttpResponse(json.dumps(body, ensure_ascii=False), content_type=content_type)


def wants_html(request: HttpRequest) -> bool:
    """Whether the answer (or the refusal) to ``request`` is a page for a person."""
    return request.GET.get("f") == "html" or (
        "f" not in request.GET and request.get_preferred_type([JSON, GEOJSON, HTML]) == HTML
    )


def _refuse(request: HttpRequest, error: DomainError) -> HttpResponse:
    """A refused request: problem+json for a program; a page in the shell for a person."""
    if wants_html(request):
        context = {"status": error.status, "title": _("There is a problem with this request"), "detail": error.detail}
        return render(request, "core/error.html", context, status=error.status)
    # RFC 9457 problem details that are also an OGC API exception (code and description).
    return problem(
        status=error.status,
        code=error.code,
        title=error.title,
        detail=error.detail,
        field=error.field,
        instance=request.path,
        extra={**error.extra, "description": error.detail},
    )


View = Callable[..., HttpResponse]


def edge(view: View) -> View:
    """A read-only OGC API view whose domain errors become problem+json (or the error page)."""

    @require_safe
    @wraps(view)
    def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        try:
            response = view(request, *args, **kwargs)
        except DomainError as error:
            response = _refuse(request, error)
        # The same address answers JSON or HTML by the Accept header: a cache must keep them apart.
        patch_vary_headers(response, ["Accept"])
        return response

    return wrapped


def _reader(request: HttpRequest, collection: Collection) -> Principal | None:
    """The caller, once it is clear they may read ``collection`` (anyone may read public data)."""
    if collection.permission is None:
        return None
    principal = request_principal(request)
    if principal is None:
        raise Unauthenticated(detail=_("Sign in to read this collection."))
    if not principal.can(collection.permission):
        raise DomainError(
            "forbidden", _("Your role does not allow reading this collection."), status=403, title="Forbidden"
        )
    return principal


def _readable(request: HttpRequest) -> list[Collection]:
    principal: Principal | None = None
    found = []
    for collection in collections_all():
        if collection.permission is not None:
            principal = principal or request_principal(request)
            if principal is None or not principal.can(collection.permission):
                continue
        found.append(collection)
    return found


def _collection(request: HttpRequest, collection_id: str) -> tuple[Collection, Principal | None]:
    collection = collection_get(collection_id)
    if collection is None:
        raise NotFound(
            "unknown_collection",
            _("There is no collection %(given)s.") % {"given": repr(collection_id)},
            field="collectionId",
        )
    return collection, _reader(request, collection)


# --- the resources ---------------------------------------------------------------------------------


@edge
def landing(request: HttpRequest) -> HttpResponse:
    page = Page(request, COMMON_PARAMETERS)
    body = {
        "title": _("Geographic data"),
        "description": _("The country's geographic reference data, served as OGC API Features."),
        "links": [
            *page.self_links(),
            {"rel": "service-desc", "type": OPENAPI_TYPE, "title": _("The API definition"), "href": page.url("api")},
            {
                "rel": "service-doc",
                "type": HTML,
                "title": _("The API documentation"),
                "href": page.url("api", f="html"),
            },
            {"rel": "conformance", "type": JSON, "title": _("Conformance"), "href": page.url("conformance")},
            {"rel": "data", "type": JSON, "title": _("Collections"), "href": page.url("collections")},
            {
                "rel": REL_TILING_SCHEMES,
                "type": JSON,
                "title": _("Tile matrix sets"),
                "href": page.url("tileMatrixSets"),
            },
            {"rel": REL_TILESETS_VECTOR, "type": JSON, "title": _("Vector tiles"), "href": page.url("tiles")},
        ],
    }
    return _answer(page, body, "geo/landing.html", {"collections": _readable(request)})


@edge
def conformance(request: HttpRequest) -> HttpResponse:
    page = Page(request, COMMON_PARAMETERS)
    body = {"conformsTo": list(CONFORMANCE), "links": page.self_links()}
    return _answer(page, body, "geo/conformance.html", {})


@edge
def api(request: HttpRequest) -> HttpResponse:
    page = Page(request, COMMON_PARAMETERS)
    document = openapi_document(server=request.build_absolute_uri("/geo"), collections=_readable(request))
    if page.html:
        return render(request, "geo/api.html", {"document": document, "json_url": page.here(f="json")})
    return HttpResponse(json.dumps(document, ensure_ascii=False), content_type=OPENAPI_TYPE)


def _extent(collection: Collection) -> dict[str, Any]:
    box = collection.extent()
    extent: dict[str, Any] = {}
    if box is not None:
        extent["spatial"] = {"bbox": [box.as_list()], "crs": CRS84.uri}
    return extent


def _collection_json(page: Page, collection: Collection) -> dict[str, Any]:
    items = f"collections/{collection.id}/items"
    return {
        "id": collection.id,
        "title": str(collection.title),
        "description": str(collection.description),
        "itemType": "feature",
        "extent": _extent(collection),
        "crs": [crs.uri for crs in supported_crs()],
        "storageCrs": CRS84.uri,
        "links": [
            {
                "rel": "self",
                "type": JSON,
                "title": str(collection.title),
                "href": page.url(f"collections/{collection.id}"),
            },
            {"rel": "items", "type": GEOJSON, "title": _("The features as GeoJSON"), "href": page.url(items)},
            {"rel": "items", "type": HTML, "title": _("The features as HTML"), "href": page.url(items, f="html")},
            {
                "rel": REL_TILESETS_VECTOR,
                "type": JSON,
                "title": _("Vector tiles"),
                "href": page.url(f"collections/{collection.id}/tiles"),
            },
        ]
        + (
            [
                {
                    "rel": QUERYABLES_REL,
                    "type": SCHEMA_JSON,
                    "title": _("The properties a filter may name"),
                    "href": page.url(f"collections/{collection.id}/queryables"),
                }
            ]
            if collection.filtering
            else []
        ),
    }


@edge
def collections(request: HttpRequest) -> HttpResponse:
    page = Page(request, COMMON_PARAMETERS)
    readable = _readable(request)
    body = {
        "links": page.self_links(),
        "crs": [crs.uri for crs in supported_crs()],
        "collections": [_collection_json(page, collection) for collection in readable],
    }
    return _answer(page, body, "geo/collections.html", {"collections": readable})


@edge
def collection(request: HttpRequest, collection_id: str) -> HttpResponse:
    page = Page(request, COMMON_PARAMETERS)
    found, _unused = _collection(request, collection_id)
    body = _collection_json(page, found)
    body["links"] = [*page.self_links(), *body["links"][1:]]
    return _answer(page, body, "geo/collection.html", {"collection": found, "properties": found.properties})


# --- features --------------------------------------------------------------------------------------


def _output_crs(page: Page) -> Crs:
    given = page.param("crs")
    return CRS84 if given is None else crs_from_uri(given, parameter="crs")


def _filter_value(collection: Collection, name: str, text: str) -> Value:
    prop = collection.filterable()[name]
    if prop.type == "string":
        return text
    if prop.type == "boolean":
        if text not in ("true", "false"):
            raise QueryValueError(name, _("%(name)s must be true or false.") % {"name": name})
        return text == "true"
    try:
        return int(text) if prop.type == "integer" else float(text)
    except ValueError:
        raise QueryValueError(
            name,
            (_("%(name)s must be a whole number.") if prop.type == "integer" else _("%(name)s must be a number."))
            % {"name": name},
        ) from None


def _whole(page: Page, name: str, default: int, *, minimum: int) -> int:
    text = page.param(name)
    if text is None:
        return default
    if not text.isascii() or not text.isdigit():
        raise QueryValueError(
            name, _("%(name)s must be a whole number of at least %(minimum)s.") % {"name": name, "minimum": minimum}
        )
    value = int(text)
    if value < minimum:
        raise QueryValueError(name, _("%(name)s must be at least %(minimum)s.") % {"name": name, "minimum": minimum})
    return value


def _query(page: Page, collection: Collection, reader: Principal | None) -> Query:
    limit = min(_whole(page, "limit", LIMIT_DEFAULT, minimum=1), LIMIT_MAX)
    offset = _whole(page, "offset", 0, minimum=0)
    bbox_crs_text = page.param("bbox-crs")
    bbox_crs = CRS84 if bbox_crs_text is None else crs_from_uri(bbox_crs_text, parameter="bbox-crs")
    bbox_text = page.param("bbox")
    if bbox_crs_text is not None and bbox_text is None:
        raise QueryValueError("bbox-crs", _("bbox-crs says which CRS the bbox is in; give a bbox with it."))
    bbox = None if bbox_text is None else parse_bbox(bbox_text, crs=bbox_crs)
    datetime_text = page.param("datetime")
    interval = None if datetime_text is None else parse_datetime(datetime_text)
    filters = {
        name: _filter_value(collection, name, page.request.GET[name])
        for name in page.request.GET
        if name in collection.filterable()
    }
    return Query(
        limit=limit,
        offset=offset,
        bbox=bbox,
        interval=interval,
        filters=filters,
        reader=reader,
        cql=_cql(page, collection),
    )


def _cql(page: Page, collection: Collection) -> Filter | None:
    if not collection.filtering:
        return None  # and Page refused filter and filter-lang as parameters this resource does not take
    text, lang = page.param("filter"), page.param("filter-lang")
    if text is None:
        if lang is not None:
            raise QueryValueError("filter-lang", _("filter-lang says which language the filter is in; give a filter."))
        return None
    return cql_parse(text, lang, {name: prop.type for name, prop in collection.queryables().items()})


def _content_crs(response: HttpResponse, crs: Crs) -> HttpResponse:
    response["Content-Crs"] = f"<{crs.uri}>"
    return response


def _features_json(page: Page, collection: Collection, features: list[Feature], crs: Crs) -> list[dict[str, Any]]:
    """The GeoJSON of each of a page's ``features`` with its links, built for the page at once: the
    geometries carried and rounded together, and the features' addresses from one base address."""
    geometries = geometries_json(
        [feature.geometry for feature in features], source=CRS84, target=crs, digits=DIGITS[crs.geographic]
    )
    base = page.url(f"collections/{collection.id}/items/")
    collection_href = page.url(f"collections/{collection.id}")
    out = []
    for feature, geometry in zip(features, geometries, strict=True):
        # An id without a slash cannot make a dot segment: the address is the base and the id as an IRI.
        href = (
            base + iri_to_uri(feature.id)
            if "/" not in feature.id
            else page.url(f"collections/{collection.id}/items/{feature.id}")
        )
        out.append(
            {
                "type": "Feature",
                "id": feature.id,
                "geometry": geometry,
                "properties": dict(feature.properties),
                "links": [
                    {"rel": "self", "type": GEOJSON, "href": href},
                    {"rel": "alternate", "type": HTML, "href": href + "?f=html"},
                    {"rel": "collection", "type": JSON, "href": collection_href},
                ],
            }
        )
    return out


def _kept_features(
    page: Page,
    collection: Collection,
    features_of: Callable[[Sequence[int]], Mapping[int, Feature]],
    keys: Sequence[int],
    version: str,
    crs: Crs,
) -> list[str]:
    """The JSON of the features of rows ``keys``, what ``_features_json`` gives for them: each
    feature's text up to its links kept under the collection's version, and its links added."""
    kept = kept_get(collection.id, crs.uri, version)
    # Taken now: another thread may drop what is kept (past the budget) while this page is made.
    texts = {key: entry for key in keys if (entry := kept.texts.get(key)) is not None}
    missing = [key for key in keys if key not in texts]
    if missing:
        found = features_of(missing)
        ordered = [(key, found[key]) for key in missing if key in found]
        rendered = _features_json(page, collection, [feature for _key, feature in ordered], crs)
        new: dict[int, tuple[str, str | None]] = {}
        for (key, feature), body in zip(ordered, rendered, strict=True):
            del body["links"]
            escaped = None if "/" in feature.id else json.dumps(iri_to_uri(feature.id), ensure_ascii=False)[1:-1]
            new[key] = (json.dumps(body, ensure_ascii=False)[:-1], escaped)
        kept_add(kept, new)
        texts.update(new)
    # The links of every feature, with the place of its address: cut from the same encoder's output.
    base = page.url(f"collections/{collection.id}/items/")
    hole = "\x00"
    links = json.dumps(
        [
            {"rel": "self", "type": GEOJSON, "href": hole},
            {"rel": "alternate", "type": HTML, "href": hole + "?f=html"},
            {"rel": "collection", "type": JSON, "href": page.url(f"collections/{collection.id}")},
        ],
        ensure_ascii=False,
    )
    first, middle, last = links.split("\\u0000")
    base_escaped = json.dumps(base, ensure_ascii=False)[1:-1]
    out = []
    for key in keys:
        if key not in texts:
            continue  # its row is gone since the keys were read
        text, escaped = texts[key]
        if escaped is None:
            feature_id = json.loads(text + "}")["id"]
            href = json.dumps(page.url(f"collections/{collection.id}/items/{feature_id}"), ensure_ascii=False)[1:-1]
        else:
            href = base_escaped + escaped
        out.append(f'{text}, "links": {first}{href}{middle}{href}{last}}}')
    return out


@edge
def items(request: HttpRequest, collection_id: str) -> HttpResponse:
    found, reader = _collection(request, collection_id)
    allowed = ITEMS_PARAMETERS if found.filtering else ITEMS_PARAMETERS - FILTER_PARAMETERS
    page = Page(request, allowed | found.filterable().keys())
    crs = _output_crs(page)
    query = _query(page, found, reader)
    # A page for a program, of a register that keeps its features' GeoJSON: read as the keys of its
    # rows, with the collection's version when the register reads it in the same statement.
    rows = found.rows(query) if found.rows is not None and not page.html else None
    version = None if rows is None else rows.version or collection_version(found.id)
    if rows is not None and version is not None and found.features_of is not None:
        keys, number_matched = list(rows.keys)[: query.limit], rows.number_matched
        texts = _kept_features(page, found, found.features_of, keys, version, crs)
        features: list[Feature] = []
        returned = len(texts)
    else:
        result = found.items(query)
        features, number_matched = list(result.features)[: query.limit], result.number_matched
        returned = len(features)
    more = number_matched is None or query.offset + returned < number_matched
    next_offset = query.offset + query.limit if more and returned == query.limit else None
    prev_offset = max(query.offset - query.limit, 0) if query.offset > 0 else None
    links = page.self_links(GEOJSON)
    if next_offset is not None:
        links.append({"rel": "next", "type": GEOJSON, "title": _("Next page"), "href": page.here(offset=next_offset)})
    if prev_offset is not None:
        links.append(
            {"rel": "prev", "type": GEOJSON, "title": _("Previous page"), "href": page.here(offset=prev_offset or None)}
        )
    links.append(
        {"rel": "collection", "type": JSON, "title": str(found.title), "href": page.url(f"collections/{found.id}")}
    )
    rest: dict[str, Any] = {
        "links": links,
        "timeStamp": datetime.now(tz=UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
        "numberReturned": returned,
    }
    if number_matched is not None:
        rest["numberMatched"] = number_matched
    if version is not None:
        # What json.dumps gives for the body below, with the features' kept texts in their place.
        text = '{"type": "FeatureCollection", "features": [' + ", ".join(texts) + "], "
        text += json.dumps(rest, ensure_ascii=False)[1:]
        return _content_crs(HttpResponse(text, content_type=GEOJSON), crs)
    body: dict[str, Any] = {"type": "FeatureCollection", "features": _features_json(page, found, features, crs), **rest}
    if not page.html:
        # The page's map and table are for a person: a program's answer does not pay for drawing them.
        return _content_crs(HttpResponse(json.dumps(body, ensure_ascii=False), content_type=GEOJSON), crs)
    pages = [(feature, page.url(f"collections/{found.id}/items/{feature.id}", f="html")) for feature in features]
    context = {
        "collection": found,
        "properties": found.properties,
        "rows": [
            (feature.id, href, [(p.title, feature.properties.get(p.name)) for p in found.properties])
            for feature, href in pages
        ],
        # The page's own table lists every feature with its properties.
        "map": map_figure(pages, label=str(found.title), collections=[found.id], table=False),
        "number_matched": number_matched,
        "number_returned": len(features),
        "next": None if next_offset is None else page.here(offset=next_offset, f="html"),
        "prev": None if prev_offset is None else page.here(offset=prev_offset or None, f="html"),
        "offset": query.offset,
        "filter_text": page.param("filter") or "",
        # The form sends a new filter with the request's other parameters, from the first page.
        "filter_keep": [
            (name, value) for name, value in request.GET.items() if name not in {"f", "filter", "filter-lang", "offset"}
        ],
    }
    return _content_crs(_answer(page, body, "geo/items.html", context, content_type=GEOJSON), crs)


@edge
def queryables(request: HttpRequest, collection_id: str) -> HttpResponse:
    found, _unused = _collection(request, collection_id)
    page = Page(request, COMMON_PARAMETERS)
    if not found.filtering:
        raise NotFound(
            "no_queryables",
            _("Collection %(collection)s cannot be filtered, so it has no queryables.")
            % {"collection": repr(found.id)},
            field="collectionId",
        )
    schema = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": page.url(f"collections/{found.id}/queryables"),
        "type": "object",
        "title": str(found.title),
        "description": _("The properties of %(collection)s that a filter may name.") % {"collection": found.id},
        "properties": {
            name: {"title": str(prop.title), "type": prop.type} for name, prop in found.queryables().items()
        },
        "additionalProperties": False,
    }
    context = {"collection": found, "queryables": list(found.queryables().values())}
    return _answer(page, schema, "geo/queryables.html", context, content_type=SCHEMA_JSON)


@edge
def item(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    found, reader = _collection(request, collection_id)
    page = Page(request, {"f", "crs"})
    crs = _output_crs(page)
    feature = found.item(feature_id, reader)
    if feature is None:
        raise NotFound(
            "unknown_feature",
            _("Collection %(collection)s has no feature %(given)s.")
            % {"collection": repr(found.id), "given": repr(feature_id)},
            field="featureId",
        )
    body = _features_json(page, found, [feature], crs)[0]
    body["links"] = [*page.self_links(GEOJSON), *body["links"][2:]]
    context = {
        "collection": found,
        "feature": feature,
        "rows": [(prop.title, feature.properties.get(prop.name)) for prop in found.properties],
        "map": map_figure([(feature, None)], label=feature.id, collections=[found.id]),
    }
    return _content_crs(_answer(page, body, "geo/item.html", context, content_type=GEOJSON), crs)
