"""``/api/v1/disasters/{id}/impact``: the impact as JSON for a caller with ``disaster.read``,
problem+json for everyone else and for bad input."""

from __future__ import annotations

import json
from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client

from gov21.assets import services
from gov21.assets.records import AssessmentFacts, EventFacts
from gov21.identity.services import token_create
from tests.assets.factories import OFFICER, asset, point

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

AREA = {
    "type": "Polygon",
    "coordinates": [[[-63.14, 14.22], [-63.10, 14.22], [-63.10, 14.245], [-63.14, 14.245], [-63.14, 14.22]]],
}


def _client(role: str) -> Client:
    token = token_create(name="test", role=role, lifetime=timedelta(hours=1), created_by="test").token
    return Client(headers={"Authorization": f"Bearer {token}"})


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["detail"]
    return body


def test_the_impact_is_served_as_json() -> None:
    asset(code="SH-1", kind="shelter", capacity=80, replacement_value_cents=1_000_000, geometry=point(-63.12, 14.23))
    asset(code="FAR", geometry=point(-62.77, 14.63))
    event = services.disaster_declare(
        facts=EventFacts(name="Flood", kind="flood", occurred_on=date(2026, 9, 1)),
        area=services.area_parse(json.dumps(AREA)),
        actor=OFFICER,
    )
    services.assessment_record(event_id=event.pk, facts=AssessmentFacts(asset="SH-1", level="minor"), actor=OFFICER)

    body = _client("reader").get(f"/api/v1/disasters/{event.pk}/impact").json()

    assert body["event"]["name"] == "Flood" and body["event"]["buffer_km"] is None
    assert [a["code"] for a in body["assets"]] == ["SH-1"] and body["shelter_places"] == 80
    assert [p["parish"] for p in body["parishes"]] == ["XA-01"]
    assert {p["settlement"] for p in body["settlements"]} == {"Port Clement", "Belvedere"}
    assert body["damage_cost_cents"] == 100_000 and body["currencies"] == ["XCD"]
    assert body["damage_by_agency"][0]["levels"] == {"none": 0, "minor": 1, "major": 0, "destroyed": 0}


def test_a_caller_without_the_right_or_a_token_is_refused() -> None:
    assert _problem(Client().get("/api/v1/disasters/1/impact"), 401)
    assert _problem(_client("registrar").get("/api/v1/disasters/1/impact"), 403)


def test_an_unknown_or_malformed_event_is_a_problem() -> None:
    assert _problem(_client("reader").get("/api/v1/disasters/999/impact"), 404)["code"] == "event_not_found"
    assert _problem(_client("reader").get("/api/v1/disasters/0/impact"), 422)["field"] == "event_id"
