"""What a register plugging a collection in can rely on, and what it cannot declare."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from django.test import Client
from shapely.geometry import Point

from gov21.core.geo import BBox
from gov21.geo import contracts
from gov21.geo.contracts import Collection, Feature, Property, Query, collection_register, features_select


def _collection(**changes: object) -> Collection:
    fields: dict[str, object] = {
        "id": "storms",
        "title": "Storm shelters",
        "description": "Shelters open during a storm.",
        "properties": (
            Property("name", "string", "Name", filter=True),
            Property("beds", "integer", "Beds", filter=True),
        ),
        "items": lambda query: features_select(SHELTERS, query),
        "item": lambda feature_id, reader: next((s for s in SHELTERS if s.id == feature_id), None),
        "extent": lambda: BBox(-63.2, 14.1, -63.0, 14.3),
    }
    return Collection(**{**fields, **changes})  # type: ignore[arg-type]


SHELTERS = [
    Feature("s1", Point(-63.12, 14.24), {"name": "School", "beds": 40}, valid_from=datetime(2020, 1, 1, tzinfo=UTC)),
    Feature(
        "s2",
        Point(-63.05, 14.15),
        {"name": "Church", "beds": 25},
        valid_from=datetime(2010, 1, 1, tzinfo=UTC),
        valid_to=datetime(2019, 12, 31, tzinfo=UTC),
    ),
]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        ({"id": "Storm Shelters"}, "lower-case letters"),
        ({"properties": (Property("name", "string", "Name"), Property("name", "string", "Name"))}, "twice"),
        ({"properties": (Property("limit", "integer", "Limit", filter=True),)}, "cannot filter by limit"),
    ],
)
def test_a_collection_that_could_not_be_served_is_refused_when_declared(changes: dict[str, object], words: str) -> None:
    with pytest.raises(ValueError, match=words):
        _collection(**changes)


def test_features_select_pages_and_filters() -> None:
    everything = features_select(SHELTERS, Query(limit=1))
    assert [f.id for f in everything.features] == ["s1"] and everything.number_matched == 2
    assert [f.id for f in features_select(SHELTERS, Query(limit=10, offset=1)).features] == ["s2"]
    assert [f.id for f in features_select(SHELTERS, Query(limit=10, filters={"beds": 25})).features] == ["s2"]


@pytest.fixture
def shelters() -> Iterator[None]:
    collection_register(_collection())
    yield
    contracts._COLLECTIONS.pop("storms")


def test_datetime_selects_what_existed_then_and_integer_filters_are_typed(shelters: None) -> None:
    client = Client()
    items = "/geo/collections/storms/items"
    assert [f["id"] for f in client.get(f"{items}?datetime=2015-06-01").json()["features"]] == ["s2"]
    assert [f["id"] for f in client.get(f"{items}?datetime=2021-01-01T00:00:00Z/..").json()["features"]] == ["s1"]
    assert [f["id"] for f in client.get(f"{items}?datetime=../2009-12-31").json()["features"]] == []
    assert [f["id"] for f in client.get(f"{items}?beds=40").json()["features"]] == ["s1"]
    refused = client.get(f"{items}?beds=forty")
    assert refused.status_code == 400 and refused.json()["field"] == "beds"
    assert "beds must be a whole number" in refused.json()["detail"]
    parameters = client.get("/geo/api").json()["paths"]["/collections/storms/items"]["get"]["parameters"]
    beds = next(p for p in parameters if p.get("name") == "beds")
    assert beds["in"] == "query" and beds["schema"] == {"type": "integer"}
