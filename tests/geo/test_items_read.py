"""``geo/items_read.py``: an anonymous ``GET`` of a public collection's features as GeoJSON answered
before the session and the URL resolver, and ``views.items`` building a page of features at once.
What a client sees must not change: the same status, bytes and headers as the full stack gives,
refusals included, in the client's language; and a collection that needs a right, a caller with a
token and a page for a person are left to the full stack."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, RequestFactory, override_settings
from shapely.geometry import LineString, MultiPolygon, Point, Polygon, box

from gov21.core.geo import CRS84, BBox, Crs, crs_from_uri, geometry_json, transform
from gov21.core.principal import Principal
from gov21.geo import items_read, views
from gov21.geo.contracts import Collection, Feature, Property, Query, Result, collection_register, features_select

pytestmark = pytest.mark.django_db
FAST = "gov21.geo.items_read.ItemsReadMiddleware"
WITHOUT_FAST = [m for m in settings.MIDDLEWARE if m != FAST]
VARYING = {"X-Request-Id"}
UTM20N = "http://www.opengis.net/def/crs/EPSG/0/32620"
SQUARE = box(-63.2, 14.2, -63.19, 14.21)
HOLED = Polygon(SQUARE.exterior.coords, [box(-63.198, 14.202, -63.195, 14.205).exterior.coords])
SHAPES: list[Any] = [
    SQUARE,
    HOLED,
    MultiPolygon([SQUARE, box(-63.18, 14.2, -63.17, 14.21)]),
    Point(-63.123456789, 14.987654321),
    LineString([(-63.2, 14.2), (-63.1, 14.3)]),
    None,
]


class _Fixed(datetime):
    """The clock of both answers compared: the same second, so the same ``timeStamp``."""

    @classmethod
    def now(cls, tz: Any = None) -> _Fixed:
        return cls(2026, 12, 5, 6, 0, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def _same_second(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(views, "datetime", _Fixed)


def _features(shapes: list[Any]) -> list[Feature]:
    return [
        Feature(
            id=f"s-{i}" if i != 2 else "ré/2",
            geometry=shape,
            properties={"kind": "lot", "rank": i, "near": i % 2 == 0, "weight": i / 3},
        )
        for i, shape in enumerate(shapes)
    ]


@pytest.fixture
def samples() -> Iterator[list[Feature]]:
    features = _features(SHAPES)
    collection_register(
        Collection(
            id="samples",
            title="Samples",
            description="Shapes of every kind.",
            properties=(
                Property("kind", "string", "Kind", filter=True),
                Property("rank", "integer", "Rank", filter=True),
                Property("near", "boolean", "Near", filter=True),
                Property("weight", "number", "Weight"),
            ),
            items=lambda query: features_select(features, query),
            item=lambda feature_id, reader: None,
            extent=lambda: BBox(-63.2, 14.2, -63.1, 14.3),
            filtering=True,
        )
    )
    yield features
    from gov21.geo import contracts

    contracts._COLLECTIONS.pop("samples")


@pytest.fixture
def homes() -> Iterator[list[Query]]:
    asked: list[Query] = []

    def items(query: Query) -> Result:
        asked.append(query)
        home = Feature(id="h1", geometry=Point(-63.15, 14.25), properties={"owner": "A"})
        return Result(features=[home], number_matched=1)

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
    from gov21.geo import contracts

    contracts._COLLECTIONS.pop("homes")


def _both(path: str, **headers: str) -> tuple[Any, Any]:
    fast = Client(headers=headers).get(path)
    with override_settings(MIDDLEWARE=WITHOUT_FAST):
        full = Client(headers=headers).get(path)
    return fast, full


def _same(fast: Any, full: Any) -> None:
    assert fast.status_code == full.status_code, (fast.content, full.content)
    assert fast.content == full.content
    strip = lambda r: {k: v for k, v in r.headers.items() if k not in VARYING}  # noqa: E731
    assert strip(fast) == strip(full)


@pytest.fixture
def taken(monkeypatch: pytest.MonkeyPatch) -> list[str | None]:
    """What the middleware decided for each request: the collection it answered, or None."""
    seen: list[str | None] = []
    decide = items_read._public_items

    def spy(request: Any) -> str | None:
        seen.append(decide(request))
        return seen[-1]

    monkeypatch.setattr(items_read, "_public_items", spy)
    return seen


def test_middleware_sits_after_the_admission_gate_and_before_the_session() -> None:
    order = settings.MIDDLEWARE
    assert order.index(FAST) == order.index("gov21.opendata.search_read.SearchReadMiddleware") + 1
    assert order.index(FAST) > order.index("gov21.core.capacity.AdmissionMiddleware")
    assert order.index(FAST) < order.index("django.contrib.sessions.middleware.SessionMiddleware")


def _feature_alone(page: views.Page, collection: Collection, feature: Feature, crs: Crs) -> dict[str, Any]:
    """One feature's GeoJSON as the OGC API defines it, built by itself: its geometry carried and
    rounded alone, its addresses each built whole."""
    geometry = None
    if feature.geometry is not None:
        geometry = geometry_json(transform(feature.geometry, CRS84, crs), digits=views.DIGITS[crs.geographic])
    href = page.url(f"collections/{collection.id}/items/{feature.id}")
    return {
        "type": "Feature",
        "id": feature.id,
        "geometry": geometry,
        "properties": dict(feature.properties),
        "links": [
            {"rel": "self", "type": views.GEOJSON, "href": href},
            {"rel": "alternate", "type": views.HTML, "href": href + "?f=html"},
            {"rel": "collection", "type": views.JSON, "href": page.url(f"collections/{collection.id}")},
        ],
    }


@pytest.mark.parametrize("crs", [None, UTM20N])
def test_a_page_of_features_is_what_each_feature_alone_gives(samples: list[Feature], crs: str | None) -> None:
    request = RequestFactory().get("/geo/collections/samples/items", {"crs": crs} if crs else {})
    page = views.Page(request, views.ITEMS_PARAMETERS)
    collection = views.collection_get("samples")
    assert collection is not None
    target = views._output_crs(page)
    for shapes in (SHAPES, SHAPES[:1], SHAPES[:2], [SHAPES[2], SHAPES[2]], [None], []):
        features = _features(shapes)
        one_by_one = [_feature_alone(page, collection, feature, target) for feature in features]
        at_once = views._features_json(page, collection, features, target)
        assert json.dumps(at_once, ensure_ascii=False) == json.dumps(one_by_one, ensure_ascii=False)


@pytest.mark.parametrize(
    "query",
    [
        "f=json&limit=100&bbox=-63.2,14.2,-63.1,14.3",
        "f=json&limit=2&offset=2",
        "f=json&limit=1&offset=1&kind=lot&near=true",
        "limit=3&bbox=-63.2,14.2,-63.19,14.21&crs=EPSG:32620",
        "f=json&filter=weight%20%3E%200.5%20AND%20kind%20%3D%20%27lot%27&filter-lang=cql2-text",
        "f=json&datetime=2020-01-01/..",
        "f=json&bbox=653000,1570000,660000,1580000&bbox-crs=" + UTM20N,
        "",
    ],
)
def test_pages_answer_exactly_as_the_whole_stack(samples: list[Feature], query: str, taken: list[str | None]) -> None:
    fast, full = _both(f"/geo/collections/samples/items?{query}")
    assert fast.status_code == 200
    assert fast["Content-Type"] == "application/geo+json"
    assert taken[0] == "samples"
    _same(fast, full)


@pytest.mark.parametrize("collection", ["parishes", "settlements"])
def test_the_reference_collections_answer_exactly_as_the_whole_stack(collection: str, taken: list[str | None]) -> None:
    fast, full = _both(f"/geo/collections/{collection}/items?f=json&limit=5&bbox=-63.3,13.8,-62.5,14.9")
    assert fast.status_code == 200 and fast.json()["features"]
    assert taken[0] == collection
    _same(fast, full)


@pytest.mark.parametrize(
    "query",
    [
        "bbox=1,2,3",
        "bbox=-63,15,-62,14",
        "limit=0",
        "limit=x",
        "offset=-1",
        "f=xml",
        "colour=red",
        "limit=1&limit=2",
        "crs=EPSG:9999",
        "bbox-crs=" + UTM20N,
        "datetime=2020-13-01",
        "rank=two",
        "near=maybe",
        "filter=nope%20%3D%201",
        "filter-lang=cql2-json",
    ],
)
def test_refusals_are_the_same_and_in_the_callers_language(
    samples: list[Feature], query: str, taken: list[str | None]
) -> None:
    fast, full = _both(f"/geo/collections/samples/items?{query}", **{"Accept-Language": "fr"})
    assert fast.status_code == 400
    assert fast["Content-Type"] == "application/problem+json"
    assert fast["Content-Language"] == "fr"
    assert fast.json()["code"] and fast.json()["description"] == fast.json()["detail"]
    assert taken[0] == "samples"
    _same(fast, full)


def test_a_collection_that_needs_a_right_is_left_to_the_whole_stack(
    homes: list[Query], taken: list[str | None], monkeypatch: pytest.MonkeyPatch
) -> None:
    anonymous = Client().get("/geo/collections/homes/items?f=json")
    assert anonymous.status_code == 401 and taken == [None]
    assert homes == []
    reader = Principal(name="r", kind="staff", roles=frozenset({"registrar"}))
    monkeypatch.setattr(views, "request_principal", lambda request: reader)
    served = Client().get("/geo/collections/homes/items?f=json")
    assert served.status_code == 200 and taken == [None, None]
    # The collection was given its reader, to log the read with.
    assert [query.reader for query in homes] == [reader]


def test_a_caller_with_a_token_a_person_and_other_paths_are_left_to_the_whole_stack(
    samples: list[Feature], taken: list[str | None]
) -> None:
    token = Client(headers={"Authorization": "Bearer x"}).get("/geo/collections/samples/items?f=json")
    assert token.status_code == 200
    person = Client(headers={"Accept": "text/html"}).get("/geo/collections/samples/items")
    assert person.status_code == 200 and person["Content-Type"].startswith("text/html")
    html = Client().get("/geo/collections/samples/items?f=html")
    assert html.status_code == 200
    assert taken == [None, None, None]
    for path in ("/geo/collections/samples/items/", "/geo/collections/nothing/items", "/geo/collections/samples"):
        fast, full = _both(path + "?f=json")
        _same(fast, full)
    assert taken[3:] == [None, None, None]
    posted = Client().post("/geo/collections/samples/items?f=json")
    assert posted.status_code == 405 and taken[-1] is None


def test_a_host_not_allowed_is_refused_as_by_the_whole_stack(samples: list[Feature]) -> None:
    fast, full = _both("/geo/collections/samples/items?f=json", Host="evil.example")
    assert fast.status_code == 400
    _same(fast, full)


def test_the_output_crs_is_declared(samples: list[Feature]) -> None:
    response = Client().get(f"/geo/collections/samples/items?f=json&crs={UTM20N}")
    assert response["Content-Crs"] == f"<{crs_from_uri(UTM20N).uri}>"
    assert response.json()["features"][0]["geometry"]["coordinates"][0][0][0] > 100_000
