"""A real OGC API Features client, OWSLib, reads the server over HTTP: what QGIS and GDAL users get."""

from __future__ import annotations

import pytest
from owslib.ogcapi.features import Features
from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def features(live_server: LiveServer) -> Features:
    return Features(f"{live_server.url}/geo/", timeout=20)


def test_owslib_finds_the_definition_conformance_and_the_parishes(features: Features) -> None:
    assert "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core" in features.conformance()["conformsTo"]
    assert "/collections/parishes/items" in features.api()["paths"]
    assert "parishes" in features.feature_collections()
    parishes = features.collection("parishes")
    assert parishes["title"] == "Parishes" and len(parishes["extent"]["spatial"]["bbox"][0]) == 4


def test_owslib_reads_items_in_a_bbox_and_pages_through_them(features: Features) -> None:
    cassia = features.collection_items("parishes", bbox=[-62.80, 14.55, -62.70, 14.70])
    assert [f["properties"]["name"] for f in cassia["features"]] == ["Cassia"]
    first = features.collection_items("parishes", limit=5)
    assert first["numberMatched"] == 12 and first["numberReturned"] == 5
    later = features.collection_items("parishes", limit=5, offset=10)
    assert [f["id"] for f in later["features"]] == ["XA-11", "XA-12"]
    one = features.collection_item("parishes", "XA-03")
    assert one["properties"]["name"] == "Anse Corail" and one["geometry"]["type"] == "Polygon"


def test_owslib_hears_a_refused_parameter_as_an_error(features: Features) -> None:
    with pytest.raises(RuntimeError, match="antimeridian"):
        features.collection_items("parishes", bbox=[170, 10, -170, 20])


def test_owslib_reads_the_queryables_and_filters_with_cql2(features: Features) -> None:
    queryables = features.collection_queryables("settlements")
    assert set(queryables["properties"]) == {"name", "parish_code", "parish_name"}
    found = features.collection_items("settlements", filter="parish_code = 'XA-11' AND name <> 'Cassia'", limit=100)
    assert found["features"] and all(f["properties"]["parish_code"] == "XA-11" for f in found["features"])
    assert "Cassia" not in {f["properties"]["name"] for f in found["features"]}
    as_json = features.collection_items(
        "parishes", filter='{"op": "=", "args": [{"property": "name"}, "Cassia"]}', **{"filter-lang": "cql2-json"}
    )
    assert [f["id"] for f in as_json["features"]] == ["XA-11"]
    with pytest.raises(RuntimeError, match="not a queryable"):
        features.collection_items("parishes", filter="population > 10")
