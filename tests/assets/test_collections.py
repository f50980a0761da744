"""The asset register's collections on the OGC API Features server, over HTTP: filters by declared
properties, boxes read through the box columns, exact geometry tests, and refusals as problem+json."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from gov21.assets import services
from gov21.assets.models import Asset
from gov21.assets.records import AssessmentFacts, EventFacts
from tests.assets.factories import OFFICER, asset, point

pytestmark = pytest.mark.django_db

ROAD = {"kind": "road", "capacity": None, "road_class": "primary", "road_surface": "paved"}


def _get(client: Client, url: str, status: int = 200) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == status, response.content
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def register() -> dict[str, Asset]:
    return {
        "school": asset(code="S-1", agency="MOE", geometry=point(-63.12, 14.23)),
        "clinic": asset(code="C-1", kind="clinic", agency="MOH", capacity=20, geometry=point(-63.08, 14.38)),
        "north": asset(code="S-2", agency="MOE", condition="poor", geometry=point(-62.77, 14.63)),
        "road": asset(
            code="R-1",
            agency="PWD",
            geometry={"type": "LineString", "coordinates": [[-63.06, 14.26], [-63.04, 14.24]]},
            **ROAD,
        ),
    }


def test_the_collections_are_listed(client: Client) -> None:
    ids = {c["id"] for c in _get(client, "/geo/collections?f=json")["collections"]}
    assert {"assets", "roads", "disaster-events", "damage-assessments"} <= ids


def test_assets_filter_by_declared_properties(client: Client, register: dict[str, Asset]) -> None:
    body = _get(client, "/geo/collections/assets/items?f=json&agency=MOE")
    assert sorted(f["id"] for f in body["features"]) == ["S-1", "S-2"]
    assert body["numberMatched"] == 2
    poor = _get(client, "/geo/collections/assets/items?f=json&agency=MOE&condition=poor")
    assert [f["id"] for f in poor["features"]] == ["S-2"]
    parish = _get(client, "/geo/collections/assets/items?f=json&parish=XA-02")
    assert [(f["id"], f["properties"]["kind"], f["properties"]["capacity"]) for f in parish["features"]] == [
        ("C-1", "clinic", 20)
    ]
    assert parish["features"][0]["geometry"] == {"type": "Point", "coordinates": [-63.08, 14.38]}


def test_roads_have_their_class_and_surface(client: Client, register: dict[str, Asset]) -> None:
    body = _get(client, "/geo/collections/roads/items?f=json&road_class=primary")
    assert [(f["id"], f["properties"]["road_surface"]) for f in body["features"]] == [("R-1", "paved")]
    assert _get(client, "/geo/collections/roads/items/R-1?f=json")["geometry"]["type"] == "LineString"
    assert client.get("/geo/collections/roads/items/S-1?f=json").status_code == 404


def test_a_box_is_tested_exactly_after_the_box_columns(client: Client, register: dict[str, Asset]) -> None:
    # This box holds the south-west corner of the road's box; the road runs north-west to south-east.
    body = _get(client, "/geo/collections/assets/items?f=json&bbox=-63.065,14.235,-63.055,14.245")
    assert body["features"] == [] and body["numberMatched"] == 0
    hit = _get(client, "/geo/collections/assets/items?f=json&bbox=-63.06,14.24,-63.03,14.27")
    assert [f["id"] for f in hit["features"]] == ["R-1"]


def test_a_box_reads_only_the_rows_whose_box_meets_it(client: Client, register: dict[str, Asset]) -> None:
    asset(code="FAR", geometry=point(-62.75, 14.65))
    with CaptureQueriesContext(connection) as queries:
        body = _get(client, "/geo/collections/assets/items?f=json&bbox=-63.2,14.1,-63.0,14.3")
    assert [f["id"] for f in body["features"]] == ["R-1", "S-1"]
    # The catalogue lookup that tells whether the table carries a PostGIS column (cached per process)
    # is not a read of the register.
    reads = [
        q["sql"]
        for q in queries.captured_queries
        if '"assets_asset"' in q["sql"] and "WHERE" in q["sql"] and "information_schema" not in q["sql"]
    ]
    # The database narrows the rows by the box: through the spatial index (an R*Tree on SQLite,
    # PostGIS's && on PostgreSQL), or by the box columns where a table has no index.
    assert reads and all(any(mark in sql for mark in ("_rtree", "&&", "min_lon")) for sql in reads)


def test_an_unknown_filter_or_a_bad_box_is_a_problem(client: Client, register: dict[str, Asset]) -> None:
    unknown = client.get("/geo/collections/assets/items?f=json&colour=red")
    assert unknown.status_code == 400 and unknown["Content-Type"] == "application/problem+json"
    bad = client.get("/geo/collections/assets/items?f=json&bbox=1,2,3")
    assert bad.status_code == 400 and bad.json()["field"] == "bbox"
    name = client.get("/geo/collections/assets/items?f=json&name=x")  # declared, but not filterable
    assert name.status_code == 400


def test_events_and_assessments_are_served(client: Client, register: dict[str, Asset]) -> None:
    area = services.area_parse(
        json.dumps({"type": "LineString", "coordinates": [[-63.2, 14.2], [-63.0, 14.25]]}), buffer_km=5
    )
    event = services.disaster_declare(
        facts=EventFacts(name="Hurricane Ada", kind="hurricane", occurred_on=date(2026, 9, 1)), area=area, actor=OFFICER
    )
    services.assessment_record(event_id=event.pk, facts=AssessmentFacts(asset="S-1", level="destroyed"), actor=OFFICER)
    services.assessment_record(
        event_id=event.pk, facts=AssessmentFacts(parcel_number="P-9", parish="XA-01", level="minor"), actor=OFFICER
    )

    events = _get(client, "/geo/collections/disaster-events/items?f=json&kind=hurricane")
    assert [(f["properties"]["name"], f["geometry"]["type"]) for f in events["features"]] == [
        ("Hurricane Ada", "Polygon")
    ]
    assert _get(client, "/geo/collections/disaster-events/items?f=json&datetime=2026-10-01/..")["features"] == []
    damage = _get(client, f"/geo/collections/damage-assessments/items?f=json&event={event.pk}&level=destroyed")
    assert [(f["properties"]["asset"], f["properties"]["agency"]) for f in damage["features"]] == [("S-1", "MOE")]
    boxed = _get(client, "/geo/collections/damage-assessments/items?f=json&bbox=-62.8,14.5,-62.7,14.7")
    assert boxed["features"] == []
    assert client.get("/geo/collections/disaster-events/items/abc?f=json").status_code == 404


def test_the_collection_pages_draw_a_map(client: Client, register: dict[str, Asset]) -> None:
    page = client.get("/geo/collections/assets/items?f=html")
    assert page.status_code == 200 and b"<svg" in page.content


def test_a_cql2_filter_selects_assets_in_the_database(client: Client, register: dict[str, Asset]) -> None:
    url = "/geo/collections/assets/items?f=json&filter="
    body = _get(client, url + "agency%3D'MOE'%20AND%20condition%3D'poor'")
    assert [f["id"] for f in body["features"]] == ["S-2"]
    body = _get(client, url + "kind%3D'clinic'%20OR%20kind%3D'road'")
    assert sorted(f["id"] for f in body["features"]) == ["C-1", "R-1"]
    roads = _get(client, "/geo/collections/roads/items?f=json&filter=road_class%3D'primary'")
    assert [f["id"] for f in roads["features"]] == ["R-1"]
    refused = client.get(url + "owner%3D'x'")
    assert refused.status_code == 400 and "owner" in refused.json()["detail"]
