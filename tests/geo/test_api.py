"""The OGC API Features server over HTTP: every resource as JSON and HTML, every query parameter, and
every bad one refused with 400 problem+json."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from shapely.geometry import Point, shape

from gov21.core.geo import BBox
from gov21.core.principal import Principal
from gov21.geo import views
from gov21.geo.contracts import (
    Collection,
    Feature,
    Property,
    Query,
    Result,
    collection_register,
    collections_all,
    features_select,
)

# Registers (the land and asset registers) serve their collections from the database: every listing
# reads it.
pytestmark = pytest.mark.django_db
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
UTM20N = "http://www.opengis.net/def/crs/EPSG/0/32620"
ITEMS = "/geo/collections/parishes/items"
# Around the island of Cassia (XA-11) only.
CASSIA_BOX = "-62.80,14.55,-62.70,14.70"


@pytest.fixture
def client() -> Client:
    return Client()


def _json(client: Client, url: str, **headers: Any) -> dict[str, Any]:
    response = client.get(url, **headers)
    assert response.status_code == 200, response.content
    body: dict[str, Any] = response.json()
    return body


def _problem(client: Client, url: str, status: int = 400) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def _rels(body: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {f"{link['rel']} {link['type']}": link for link in body["links"]}


# --- landing page, conformance, API definition -----------------------------------------------------


def test_the_landing_page_links_to_the_api_definition_conformance_and_data(client: Client) -> None:
    response = client.get("/geo/")
    assert response["Content-Type"] == "application/json"
    links = _rels(response.json())
    assert links["service-desc application/vnd.oai.openapi+json;version=3.0"]["href"] == "http://testserver/geo/api"
    assert links["service-doc text/html"]["href"] == "http://testserver/geo/api?f=html"
    assert links["conformance application/json"]["href"] == "http://testserver/geo/conformance"
    assert links["data application/json"]["href"] == "http://testserver/geo/collections"
    assert links["self application/json"]["href"] == "http://testserver/geo/?f=json"
    assert links["alternate text/html"]["href"] == "http://testserver/geo/?f=html"


def test_the_server_declares_core_oas30_geojson_html_crs_and_filtering(client: Client) -> None:
    # With the classes of OGC API - Tiles (tests/geo/test_tiles.py).
    assert set(_json(client, "/geo/conformance")["conformsTo"]) >= {
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
    }


def test_the_api_definition_declares_each_collections_parameters(client: Client) -> None:
    from openapi_spec_validator import validate

    response = client.get("/geo/api")
    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    document = response.json()
    validate(document)  # a valid OpenAPI 3.0 document, or this raises saying where it is not
    assert document["openapi"].startswith("3.0") and document["servers"] == [{"url": "http://testserver/geo"}]
    assert {
        "/",
        "/conformance",
        "/api",
        "/collections",
        "/collections/parishes",
        "/collections/parishes/queryables",
        "/collections/settlements/items",
    } <= set(document["paths"])
    parameters = document["paths"]["/collections/parishes/items"]["get"]["parameters"]
    declared = {p.get("name") or p["$ref"].rsplit("/", 1)[1] for p in parameters}
    assert declared == {
        *("f", "limit", "offset", "bbox", "bbox-crs", "datetime", "crs", "filter", "filter-lang", "code", "name")
    }
    assert document["components"]["parameters"]["limit"]["schema"]["maximum"] == views.LIMIT_MAX
    assert document["components"]["parameters"]["crs"]["schema"]["enum"] == [CRS84, UTM20N]


# --- collections -----------------------------------------------------------------------------------


def test_the_parishes_are_a_collection_with_extent_and_crs(client: Client) -> None:
    listing = _json(client, "/geo/collections")
    parishes = next(c for c in listing["collections"] if c["id"] == "parishes")
    assert parishes["itemType"] == "feature" and parishes["crs"] == [CRS84, UTM20N]
    west, south, east, north = parishes["extent"]["spatial"]["bbox"][0]
    assert -64 < west < east < -62 and 13 < south < north < 15
    one = _json(client, "/geo/collections/parishes")
    assert one["id"] == "parishes" and one["storageCrs"] == CRS84
    links = _rels(one)
    assert links["items application/geo+json"]["href"] == "http://testserver/geo/collections/parishes/items"
    assert links["self application/json"]["href"] == "http://testserver/geo/collections/parishes?f=json"


def test_an_unknown_collection_is_a_404_problem(client: Client) -> None:
    for url in ("/geo/collections/rivers", "/geo/collections/rivers/items", "/geo/collections/rivers/items/1"):
        assert _problem(client, url, 404)["code"] == "unknown_collection"


# --- items -----------------------------------------------------------------------------------------


def test_items_come_in_pages_with_next_and_prev_links(client: Client) -> None:
    response = client.get(ITEMS)
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Crs"] == f"<{CRS84}>"
    first = response.json()
    assert first["type"] == "FeatureCollection" and first["numberMatched"] == 12 and first["numberReturned"] == 10
    assert [f["id"] for f in first["features"]] == [f"XA-{i:02d}" for i in range(1, 11)]
    assert first["timeStamp"].endswith("Z")
    links = _rels(first)
    assert "prev application/geo+json" not in links
    assert links["collection application/json"]["href"] == "http://testserver/geo/collections/parishes"
    second = _json(client, links["next application/geo+json"]["href"])
    assert [f["id"] for f in second["features"]] == ["XA-11", "XA-12"] and second["numberReturned"] == 2
    assert "next application/geo+json" not in _rels(second)
    assert _rels(second)["prev application/geo+json"]["href"] == "http://testserver/geo/collections/parishes/items"


def test_each_feature_is_geojson_with_its_properties_and_links(client: Client) -> None:
    feature = _json(client, ITEMS + "?limit=1")["features"][0]
    assert feature["type"] == "Feature" and feature["id"] == "XA-01"
    assert feature["properties"]["name"] == "Port Clement" and feature["properties"]["area_km2"] > 10
    port_clement = shape(feature["geometry"])
    assert port_clement.is_valid and port_clement.contains(Point(-63.125, 14.24))
    assert _rels(feature)["self application/geo+json"]["href"] == f"http://testserver{ITEMS}/XA-01"


def test_a_limit_above_the_maximum_is_served_as_the_maximum(client: Client) -> None:
    body = _json(client, ITEMS + f"?limit={views.LIMIT_MAX + 1}")
    assert body["numberReturned"] == 12


def test_a_bbox_selects_the_features_it_meets(client: Client) -> None:
    assert [f["id"] for f in _json(client, f"{ITEMS}?bbox={CASSIA_BOX}")["features"]] == ["XA-11"]
    six = _json(client, f"{ITEMS}?bbox=-62.80,14.55,0,-62.70,14.70,10")
    assert [f["id"] for f in six["features"]] == ["XA-11"]
    assert _json(client, f"{ITEMS}?bbox=-61,15,-60,16")["numberMatched"] == 0


def test_a_bbox_in_the_projected_crs_selects_the_same_features(client: Client) -> None:
    # Cassia's box carried into UTM zone 20N (metres), then asked for in that CRS.
    body = _json(client, f"{ITEMS}?bbox=521000,1612000,532000,1628000&bbox-crs={UTM20N}")
    assert [f["id"] for f in body["features"]] == ["XA-11"]


def test_features_are_given_in_the_projected_crs_when_asked(client: Client) -> None:
    response = client.get(f"{ITEMS}/XA-01?crs=EPSG:32620")
    assert response["Content-Crs"] == f"<{UTM20N}>"
    easting, northing = response.json()["geometry"]["coordinates"][0][0]
    assert 400_000 < easting < 600_000 and 1_500_000 < northing < 1_700_000
    listed = _json(client, f"{ITEMS}?crs={UTM20N}&limit=1")["features"][0]["geometry"]["coordinates"][0][0]
    assert listed == [easting, northing]


def test_datetime_is_accepted_and_timeless_features_match_every_time(client: Client) -> None:
    for value in ("2026-05-01T12:00:00Z", "2026-01-01/2026-12-31", "../2026-12-31", "2026-01-01/.."):
        assert _json(client, f"{ITEMS}?datetime={value}")["numberMatched"] == 12


def test_declared_properties_filter_the_features(client: Client) -> None:
    assert [f["id"] for f in _json(client, f"{ITEMS}?name=Cassia")["features"]] == ["XA-11"]
    assert [f["id"] for f in _json(client, f"{ITEMS}?code=XA-03")["features"]] == ["XA-03"]
    assert _json(client, f"{ITEMS}?code=XA-99")["numberMatched"] == 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("limit=0", "limit"),
        ("limit=-1", "limit"),
        ("limit=ten", "limit"),
        ("limit=1.5", "limit"),
        ("offset=-1", "offset"),
        ("offset=x", "offset"),
        ("bbox=1,2,3", "bbox"),
        ("bbox=a,b,c,d", "bbox"),
        ("bbox=170,10,-170,20", "bbox"),
        ("bbox=-63,15,-62,14", "bbox"),
        ("bbox=-200,14,-62,15", "bbox"),
        ("bbox=-63,14,-62,15&bbox-crs=EPSG:4326", "bbox-crs"),
        ("bbox-crs=" + UTM20N, "bbox-crs"),
        ("crs=EPSG:3857", "crs"),
        ("datetime=yesterday", "datetime"),
        ("datetime=2026-12-31/2026-01-01", "datetime"),
        ("datetime=../..", "datetime"),
        ("f=xml", "f"),
        ("color=red", "color"),
        ("area_km2=100", "area_km2"),
        ("limit=1&limit=2", "limit"),
    ],
)
def test_a_bad_items_parameter_is_a_400_problem_naming_it(client: Client, query: str, field: str) -> None:
    body = _problem(client, f"{ITEMS}?{query}")
    assert body["field"] == field and body["code"] == "invalid_parameter"


@pytest.mark.parametrize(
    "url",
    ["/geo/?x=1", "/geo/conformance?limit=1", "/geo/collections?bbox=1,2,3,4", "/geo/collections/parishes?f=pdf"],
)
def test_other_resources_refuse_parameters_they_do_not_take(client: Client, url: str) -> None:
    assert _problem(client, url)["code"] == "invalid_parameter"


# --- one feature -----------------------------------------------------------------------------------


def test_one_feature_by_its_id(client: Client) -> None:
    response = client.get(f"{ITEMS}/XA-12")
    assert response["Content-Type"] == "application/geo+json" and response["Content-Crs"] == f"<{CRS84}>"
    feature = response.json()
    assert feature["id"] == "XA-12" and feature["properties"]["name"] == "Petite Marron"
    links = _rels(feature)
    assert links["self application/geo+json"]["href"] == f"http://testserver{ITEMS}/XA-12?f=json"
    assert links["collection application/json"]["href"] == "http://testserver/geo/collections/parishes"


def test_an_unknown_feature_or_a_bad_parameter_of_a_feature_is_a_problem(client: Client) -> None:
    assert _problem(client, f"{ITEMS}/XA-99", 404)["code"] == "unknown_feature"
    assert _problem(client, f"{ITEMS}/XA-01?bbox=1,2,3,4")["field"] == "bbox"
    assert _problem(client, f"{ITEMS}/XA-01?crs=nonsense")["field"] == "crs"


def test_an_address_under_geo_that_is_no_resource_is_a_404_problem(client: Client) -> None:
    assert _problem(client, f"{ITEMS}/XA-01/more", 404)["code"] == "not_found"


def test_the_api_is_read_only(client: Client) -> None:
    assert client.post(ITEMS, {}).status_code == 405
    assert client.get(ITEMS, REQUEST_METHOD="HEAD").status_code == 200


# --- HTML ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "text"),
    [
        ("/geo/", "Geographic data"),
        ("/geo/conformance", "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core"),
        ("/geo/api", "/collections/parishes/items"),
        ("/geo/collections", "Parishes"),
        ("/geo/collections/parishes", "Can filter"),
        ("/geo/collections/parishes/queryables", "area_km2"),
        ("/geo/collections/settlements/items", "75 features"),
        (ITEMS, "12 features"),
        (f"{ITEMS}/XA-11", "Cassia"),
    ],
)
def test_each_resource_is_a_page_in_the_portals_shell_for_a_browser(client: Client, url: str, text: str) -> None:
    for response in (
        client.get(url, HTTP_ACCEPT="text/html,application/xhtml+xml,*/*;q=0.8"),
        client.get(url + "?f=html"),
    ):
        assert response.status_code == 200 and response["Content-Type"].startswith("text/html")
        page = response.content.decode()
        assert text in page and '<main id="main">' in page
        # No inline script: the map's features are JSON data, and its one script is a file of the platform.
        for tag in re.findall(r"<script[^>]*>", page[page.index("<main") :]):
            assert tag in ('<script type="application/json">', '<script type="module" src="/geo/map/map.js">'), tag


def test_the_features_page_draws_a_map_with_a_link_per_feature(client: Client) -> None:
    page = client.get(ITEMS + "?f=html&limit=3").content.decode()
    svg = page[page.index("<svg") : page.index("</svg>")]
    assert svg.count("<path") == 3 and svg.count("<a href=") == 3
    assert "<title>Port Clement</title>" in svg and 'role="group"' in svg
    assert 'rel="next"' in page and "offset=3" in page


def test_a_bad_parameter_in_a_browser_is_a_page_saying_what_is_wrong(client: Client) -> None:
    response = client.get(ITEMS + "?f=html&bbox=1,2,3")
    assert response.status_code == 400 and response["Content-Type"].startswith("text/html")
    assert "bbox must be four or six numbers" in response.content.decode()


def test_a_geojson_accept_header_gets_json_and_caches_keep_the_formats_apart(client: Client) -> None:
    response = client.get(ITEMS, HTTP_ACCEPT="application/geo+json")
    assert response["Content-Type"] == "application/geo+json"
    assert "Accept" in response["Vary"]
    assert "Accept" in client.get(ITEMS + "?limit=0")["Vary"]


# --- collections that need a right -----------------------------------------------------------------


@pytest.fixture
def owners() -> Iterator[list[Query]]:
    """A collection of personal data (owners' homes) that needs person.read; it records its readers."""
    asked: list[Query] = []
    homes = [Feature(id="h1", geometry=Point(-63.12, 14.24), properties={"owner": "A. Person"})]

    def items(query: Query) -> Result:
        asked.append(query)
        return features_select(homes, query)

    def item(feature_id: str, reader: Principal | None) -> Feature | None:
        asked.append(Query(limit=1, reader=reader))
        return next((home for home in homes if home.id == feature_id), None)

    collection_register(
        Collection(
            id="homes",
            title="Homes",
            description="Who lives where.",
            properties=(Property("owner", "string", "Owner"),),
            items=items,
            item=item,
            extent=lambda: BBox(-63.2, 14.2, -63.1, 14.3),
            permission="person.read",
        )
    )
    yield asked
    from gov21.geo import contracts

    contracts._COLLECTIONS.pop("homes")


def test_a_collection_that_needs_a_right_is_hidden_and_refused_to_anonymous_callers(
    client: Client, owners: list[Query], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(views, "request_principal", lambda request: None)
    assert "homes" not in [c["id"] for c in _json(client, "/geo/collections")["collections"]]
    assert "/collections/homes/items" not in _json(client, "/geo/api")["paths"]
    for url in ("/geo/collections/homes", "/geo/collections/homes/items", "/geo/collections/homes/items/h1"):
        assert _problem(client, url, 401)["code"] == "unauthenticated"
    assert owners == []


def test_a_collection_that_needs_a_right_is_refused_to_a_caller_without_it(
    client: Client, owners: list[Query], monkeypatch: pytest.MonkeyPatch
) -> None:
    clerk = Principal(name="someone", kind="staff", roles=frozenset({"nobody-role"}))
    monkeypatch.setattr(views, "request_principal", lambda request: clerk)
    assert "homes" not in [c["id"] for c in _json(client, "/geo/collections")["collections"]]
    assert _problem(client, "/geo/collections/homes/items", 403)["code"] == "forbidden"
    assert owners == []


def test_a_collection_that_needs_a_right_is_served_to_its_reader_who_is_passed_on(
    client: Client, owners: list[Query], registrar: Principal, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert registrar.can("person.read")
    monkeypatch.setattr(views, "request_principal", lambda request: registrar)
    assert "homes" in [c["id"] for c in _json(client, "/geo/collections")["collections"]]
    assert _json(client, "/geo/collections/homes/items")["features"][0]["properties"]["owner"] == "A. Person"
    assert _json(client, "/geo/collections/homes/items/h1")["id"] == "h1"
    assert [query.reader for query in owners] == [registrar, registrar]


def test_the_parishes_are_public_and_registered_at_start(client: Client) -> None:
    parishes = next(c for c in collections_all() if c.id == "parishes")
    assert parishes.permission is None
    assert "parishes" in [c["id"] for c in _json(client, "/geo/collections")["collections"]]


def test_a_refusal_is_worded_in_the_callers_language(client: Client) -> None:
    response = client.get(ITEMS + "?bbox=-63,15,-62,14", HTTP_ACCEPT_LANGUAGE="es")
    assert response.status_code == 400 and response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"] == "bbox: el borde sur (15.0) está al norte del borde norte (14.0)."
    page = client.get(ITEMS + "?f=html&limit=0", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    assert "limit doit valoir au moins 1." in page
