"""CQL2 filters (OGC API Features Part 3) over HTTP: the queryables of each collection, filters in
CQL2 text and JSON, and every fault refused with 400 in the OGC exception shape, naming the problem;
the settlements collection; and the limit cap and paging links with a filter."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import quote

import pytest
from django.test import Client
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gov21.geo import views

# Listing collections reads the registers that plug theirs in (the land register's parcels).
pytestmark = pytest.mark.django_db

PARISHES = "/geo/collections/parishes/items"
SETTLEMENTS = "/geo/collections/settlements/items"


@pytest.fixture
def client() -> Client:
    return Client()


def _get(client: Client, url: str, status: int = 200) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    return body


def _filtered(client: Client, base: str, cql: str, **params: str) -> dict[str, Any]:
    query = "&".join(f"{key.replace('_', '-')}={quote(value)}" for key, value in params.items())
    return _get(client, f"{base}?filter={quote(cql)}&limit=1000" + (f"&{query}" if query else ""))


def _ids(body: dict[str, Any]) -> list[str]:
    return [feature["id"] for feature in body["features"]]


def test_each_collection_describes_its_queryables_as_json_schema(client: Client) -> None:
    response = client.get("/geo/collections/parishes/queryables")
    assert response["Content-Type"] == "application/schema+json"
    schema = response.json()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["$id"] == "http://testserver/geo/collections/parishes/queryables"
    assert schema["type"] == "object" and schema["additionalProperties"] is False
    assert schema["properties"] == {
        "code": {"title": "Code", "type": "string"},
        "name": {"title": "Name", "type": "string"},
        "area_km2": {"title": "Area (km²)", "type": "number"},
    }
    links = {link["rel"]: link for link in _get(client, "/geo/collections/parishes")["links"]}
    queryables = links["http://www.opengis.net/def/rel/ogc/1.0/queryables"]
    assert queryables["href"] == schema["$id"] and queryables["type"] == "application/schema+json"
    assert _get(client, "/geo/collections/unknown/queryables", 404)["code"] == "unknown_collection"


def test_a_cql2_text_filter_selects_features(client: Client) -> None:
    assert _ids(_filtered(client, PARISHES, "name = 'Cassia'")) == ["XA-11"]
    everything = _get(client, PARISHES + "?limit=1000")["features"]
    areas = {feature["id"]: feature["properties"]["area_km2"] for feature in everything}
    big = _filtered(client, PARISHES, "area_km2 > 20 AND NOT code = 'XA-01'")
    assert _ids(big) == sorted(code for code, area in areas.items() if area > 20 and code != "XA-01")
    assert big["numberMatched"] == len(big["features"])
    either = _filtered(client, PARISHES, "(code = 'XA-02' OR code = 'XA-03') AND area_km2 >= 0")
    assert _ids(either) == ["XA-02", "XA-03"]
    assert _ids(_filtered(client, PARISHES, "code <> 'XA-01' AND code < 'XA-04'")) == ["XA-02", "XA-03"]
    assert _ids(_filtered(client, PARISHES, "'XA-11' <= code")) == ["XA-11", "XA-12"]
    assert _ids(_filtered(client, PARISHES, "name IS NULL")) == []
    assert len(_ids(_filtered(client, PARISHES, "name IS NOT NULL"))) == 12


def test_a_filter_combines_with_bbox_and_the_property_parameters(client: Client) -> None:
    cassia_box = "-62.80,14.55,-62.70,14.70"
    assert _ids(_filtered(client, PARISHES, "area_km2 > 0", bbox=cassia_box)) == ["XA-11"]
    assert _ids(_filtered(client, PARISHES, "name = 'Cassia'", code="XA-01")) == []


def test_a_cql2_json_filter_selects_the_same_features(client: Client) -> None:
    cql = {
        "op": "and",
        "args": [
            {"op": "=", "args": [{"property": "parish_code"}, "XA-01"]},
            {"op": "<>", "args": [{"property": "name"}, "Port Clement"]},
        ],
    }
    as_json = _filtered(client, SETTLEMENTS, json.dumps(cql), filter_lang="cql2-json")
    as_text = _filtered(client, SETTLEMENTS, "parish_code = 'XA-01' AND name <> 'Port Clement'")
    assert _ids(as_json) == _ids(as_text) and len(_ids(as_json)) > 3
    assert all(f["properties"]["parish_name"] == "Port Clement" for f in as_json["features"])
    assert "XA-01-port-clement" not in _ids(as_json)


@pytest.mark.parametrize(
    ("query", "parameter", "words"),
    [
        ("filter=" + quote("name = "), "filter", "cannot be read at character"),
        ("filter=" + quote("((name = 'a'"), "filter", "cannot be read"),
        ("filter=" + quote("name = 'unclosed"), "filter", "cannot be read"),
        ("filter=", "filter", "empty"),
        ("filter=" + quote("nmae = 'Cassia'"), "filter", "'nmae' is not a queryable of this collection"),
        ("filter=" + quote("name = 3"), "filter", "name is a string and 3 a number"),
        ("filter=" + quote("area_km2 > 'big'"), "filter", "area_km2 is a number and 'big' a string"),
        ("filter=" + quote("area_km2 = TRUE"), "filter", "cannot be compared"),
        ("filter=" + quote("name LIKE 'C%'"), "filter", "LIKE is not supported"),
        ("filter=" + quote("code IN ('XA-01')"), "filter", "IN is not supported"),
        ("filter=" + quote("S_INTERSECTS(geometry, BBOX(0,0,1,1))"), "filter", "not supported"),
        ("filter=" + quote("area_km2 + 1 > 3"), "filter", "not supported"),
        ("filter=" + quote("'a' IS NULL"), "filter", "IS NULL applies to a property"),
        ("filter=" + quote("area_km2 > 99999999999999999999"), "filter", "too large"),
        ("filter=" + quote("T_AFTER(name, TIMESTAMP('2020-99-99T00:00:00Z'))"), "filter", "not CQL2 text"),
        ("filter=" + quote("S_INTERSECTS(name, POLYGON((0 0, 1 1)))"), "filter", "not"),
        ("filter=" + quote("x" * 9000), "filter", "longer than"),
        ("filter=" + quote("(name = 'a' OR " * 60 + "name = 'b'" + ")" * 60), "filter", "nested more than"),
        ("filter-lang=cql2-json&filter=" + quote("{bad"), "filter", "not JSON"),
        ("filter-lang=cql2-json&filter=" + quote('{"op": "zz", "args": []}'), "filter", "not CQL2 JSON"),
        ("filter-lang=cql2-json&filter=" + quote("[1]"), "filter", "not supported"),
        ("filter-lang=cql2-json&filter=" + quote('{"op": "=", "args": [{"property": "x"}, 1]}'), "filter", "'x'"),
        ("filter-lang=ecql&filter=" + quote("name = 'a'"), "filter-lang", "filter-lang must be one of"),
        ("filter-lang=cql2-text", "filter-lang", "give a filter"),
        ("filter=a&filter=b", "filter", "more than once"),
        ("filter-crs=" + quote("http://www.opengis.net/def/crs/OGC/1.3/CRS84"), "filter-crs", "not a parameter"),
    ],
)
def test_a_bad_filter_is_a_400_in_the_ogc_exception_shape(
    client: Client, query: str, parameter: str, words: str
) -> None:
    response = client.get(f"{PARISHES}?{query}")
    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "invalid_parameter" and body["field"] == parameter
    assert body["description"] == body["detail"] and words in body["detail"], body["detail"]


# Any character a URL can carry (a lone surrogate cannot be encoded at all).
_CHARACTERS = st.characters(blacklist_categories=("Cs",))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    text=st.text(
        alphabet=st.sampled_from(list("ab_ ()'\"=<>!,.-+*/%0123456789eEtTnN[]{}:")) | _CHARACTERS,
        max_size=60,
    )
    | st.sampled_from(["name", "NOT", "IS NULL", "AND", "OR", "TRUE", "S_INTERSECTS(", "BBOX(", "CASEI("]).flatmap(
        lambda word: st.text(_CHARACTERS, max_size=20).map(lambda rest: word + " " + rest)
    ),
    lang=st.sampled_from(["cql2-text", "cql2-json"]),
)
def test_any_filter_text_is_answered_or_refused_never_a_server_error(client: Client, text: str, lang: str) -> None:
    response = client.get(PARISHES, {"filter": text, "filter-lang": lang})
    assert response.status_code in (200, 400), (text, response.content[:300])


def test_the_features_page_has_a_form_to_filter_that_keeps_the_other_parameters(client: Client) -> None:
    cql = "parish_code = 'XA-02'"
    page = client.get(f"{SETTLEMENTS}?f=html&limit=5&offset=5&filter={quote(cql)}").content.decode()
    form = page[page.index('<form method="get"') : page.index("</form>")]
    assert 'name="limit" value="5"' in form and 'name="offset"' not in form
    assert 'name="f" value="html"' in form and 'id="filter" name="filter"' in form
    assert 'value="parish_code = &#x27;XA-02&#x27;"' in form and '<label for="filter">' in form
    assert "/geo/collections/settlements/queryables?f=html" in form


def test_a_bad_filter_in_a_browser_is_the_error_page_saying_why(client: Client) -> None:
    response = client.get(f"{PARISHES}?f=html&filter={quote('nmae = 1')}")
    assert response.status_code == 400 and "nmae" in response.content.decode()


def test_a_refusal_is_translated(client: Client) -> None:
    body = client.get(f"{PARISHES}?filter={quote('name = 3')}", HTTP_ACCEPT_LANGUAGE="es").json()
    assert "name" in body["detail"] and "cannot be compared" not in body["detail"]


def test_a_collection_that_does_not_apply_filters_refuses_them_rather_than_ignore_them(client: Client) -> None:
    from shapely.geometry import Point

    from gov21.geo import contracts
    from gov21.geo.contracts import Collection, Feature, Property, Query, Result

    wells = [Feature(id="w1", geometry=Point(-63.12, 14.24), properties={"depth": 12})]

    def items(query: Query) -> Result:  # ignores query.cql, as a collection written before filters would
        return Result(features=wells, number_matched=1)

    contracts.collection_register(
        Collection(
            id="wells",
            title="Wells",
            description="Wells.",
            properties=(Property("depth", "number", "Depth"),),
            items=items,
            item=lambda feature_id, reader: None,
            extent=lambda: None,
        )
    )
    try:
        refused = _get(client, "/geo/collections/wells/items?filter=" + quote("depth > 100"), 400)
        assert refused["field"] == "filter" and "not a parameter" in refused["detail"]
        assert _get(client, "/geo/collections/wells/queryables", 404)["code"] == "no_queryables"
        rels = {link["rel"] for link in _get(client, "/geo/collections/wells")["links"]}
        assert "http://www.opengis.net/def/rel/ogc/1.0/queryables" not in rels
        paths = _get(client, "/geo/api")["paths"]
        assert "/collections/wells/queryables" not in paths
        declared = {p["$ref"].rsplit("/", 1)[1] for p in paths["/collections/wells/items"]["get"]["parameters"]}
        assert "filter" not in declared and "bbox" in declared
        assert _get(client, "/geo/collections/wells/items")["numberReturned"] == 1
    finally:
        contracts._COLLECTIONS.pop("wells")


# --- settlements -------------------------------------------------------------------------------------


def test_the_settlements_are_points_with_their_parish(client: Client) -> None:
    listing = _get(client, "/geo/collections")
    assert {"parishes", "settlements"} <= {c["id"] for c in listing["collections"]}
    body = _get(client, SETTLEMENTS + "?limit=1000")
    assert body["numberMatched"] == body["numberReturned"] == 75
    first = body["features"][0]
    assert first["id"] == "XA-01-port-clement" and first["geometry"] == {
        "type": "Point",
        "coordinates": [-63.125, 14.24],
    }
    assert first["properties"] == {"name": "Port Clement", "parish_code": "XA-01", "parish_name": "Port Clement"}
    one = _get(client, SETTLEMENTS + "/XA-01-port-clement")
    assert one["properties"]["name"] == "Port Clement"
    in_parish = _get(client, SETTLEMENTS + "?parish_code=XA-11&limit=1000")
    assert in_parish["features"] and {f["properties"]["parish_name"] for f in in_parish["features"]} == {"Cassia"}
    # Each settlement lies in its parish's boundary.
    parishes = {f["id"]: f for f in _get(client, PARISHES + "?limit=1000")["features"]}
    from shapely.geometry import shape

    for feature in body["features"]:
        assert shape(parishes[feature["properties"]["parish_code"]]["geometry"]).covers(shape(feature["geometry"]))
    extent = _get(client, "/geo/collections/settlements")["extent"]["spatial"]["bbox"][0]
    assert -64 < extent[0] < extent[2] < -62


# --- limits and paging with a filter ----------------------------------------------------------------


def test_a_huge_limit_is_served_as_the_maximum_and_paging_links_keep_the_filter(client: Client) -> None:
    body = _get(client, f"{SETTLEMENTS}?limit={10**30}")
    assert body["numberReturned"] == 75 and "next" not in {link["rel"] for link in body["links"]}
    cql = quote("parish_code <> 'XA-01'")
    first = _get(client, f"{SETTLEMENTS}?filter={cql}&limit=20")
    links = {link["rel"]: link["href"] for link in first["links"]}
    assert "prev" not in links and "filter=" in links["next"] and "offset=20" in links["next"]
    second = _get(client, links["next"])
    assert second["numberMatched"] == first["numberMatched"] and "XA-01" not in str(_ids(second))
    back = {link["rel"]: link["href"] for link in second["links"]}["prev"]
    assert _ids(_get(client, back)) == _ids(first)
    page = client.get(f"{SETTLEMENTS}?f=html&filter={cql}&limit=20&offset=20").content.decode()
    assert 'rel="next"' in page and 'rel="prev"' in page and "filter=" in page
    assert views.LIMIT_MAX == 1000
