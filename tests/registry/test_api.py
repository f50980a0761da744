from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.ids import verhoeff_check_digit
from gov21.core.principal import Principal
from gov21.identity.services import token_create, token_revoke
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
BASE = "/api/v1/registry"


def _token(role: str) -> str:
    return token_create(name="test", role=role, lifetime=timedelta(hours=1), created_by="test").token


def _client(role: str = "registrar") -> Client:
    return Client(headers={"Authorization": f"Bearer {_token(role)}", "X-Purpose": "api test"})


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert {"type", "title", "status", "detail"} <= set(body)
    assert body["status"] == status
    return body


def _wrong_check_digit(uin: str) -> str:
    wrong = str((int(uin[-1]) + 1) % 10)
    assert wrong != verhoeff_check_digit(uin[:-1])
    return uin[:-1] + wrong


def test_person_read_needs_authentication(registrar: Principal) -> None:
    person = register_person(registrar)
    body = _problem(Client().get(f"{BASE}/persons/{person.uin}"), 401)
    assert body["code"] == "unauthenticated"


def test_person_read_with_token_is_logged(registrar: Principal) -> None:
    from gov21.audit.models import AccessRecord

    person = register_person(registrar, given="Ruth")
    response = _client("reader").get(f"{BASE}/persons/{person.uin}")
    assert response.status_code == 200
    assert response.json()["given_names"] == "Ruth"
    record = AccessRecord.objects.filter(subject=person.uin, action="person.read").get()
    assert record.purpose == "api test" and record.actor == "token:test"


def test_person_read_without_purpose_is_refused(registrar: Principal) -> None:
    person = register_person(registrar)
    client = Client(headers={"Authorization": f"Bearer {_token('reader')}"})
    body = _problem(client.get(f"{BASE}/persons/{person.uin}"), 422)
    assert body["field"] == "purpose"


def test_wrong_check_digit_is_422_naming_the_field(registrar: Principal) -> None:
    person = register_person(registrar)
    body = _problem(_client().get(f"{BASE}/persons/{_wrong_check_digit(person.uin)}"), 422)
    assert body["field"] == "uin"
    assert "check digit" in body["detail"]


def test_revoked_and_expired_tokens_are_refused(registrar: Principal) -> None:
    person = register_person(registrar)
    issued = token_create(name="t", role="reader", lifetime=timedelta(hours=1), created_by="test")
    token_revoke(token_id=issued.id)
    client = Client(headers={"Authorization": f"Bearer {issued.token}", "X-Purpose": "x-test"})
    _problem(client.get(f"{BASE}/persons/{person.uin}"), 401)
    _problem(Client(headers={"Authorization": "Bearer nonsense"}).get(f"{BASE}/persons/{person.uin}"), 401)


def test_reader_cannot_declare() -> None:
    body = _problem(_client("reader").post(f"{BASE}/events/deaths", {}, content_type="application/json"), 422)
    assert body["code"] == "invalid_input"
    response = _client("reader").post(
        f"{BASE}/events/deaths", {"uin": "2345678901", "death_date": "2024-01-01"}, content_type="application/json"
    )
    _problem(response, 403)


def test_birth_through_the_api_to_a_verifiable_certificate(registrar: Principal) -> None:
    mother = register_person(registrar, sex="F", born=date(1992, 2, 2))
    client = _client("registrar")
    born = timezone.localdate() - timedelta(days=3)
    response = client.post(
        f"{BASE}/events/births",
        {
            "given_names": "Noah",
            "family_name": "Baptiste",
            "sex": "M",
            "birth_date": born.isoformat(),
            "birth_parish": "XA-03",
            "mother_uin": mother.uin,
        },
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    event_id = response.json()["id"]
    assert client.post(f"{BASE}/events/{event_id}/validate").status_code == 200
    registered = client.post(f"{BASE}/events/{event_id}/register").json()
    assert registered["state"] == "registered" and registered["number"].startswith("B-")
    cert = client.post(f"{BASE}/events/{event_id}/certificates")
    assert cert.status_code == 201
    credential = cert.json()["credential"]
    pdf = client.get(cert.json()["pdf_url"])
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    verified = Client().post(f"{BASE}/verify", {"payload": "GOV21:" + credential}, content_type="application/json")
    assert verified.json()["status"] == "valid"
    tampered = credential[:40] + ("A" if credential[40] != "A" else "B") + credential[41:]
    result = Client().post(f"{BASE}/verify", {"payload": tampered}, content_type="application/json")
    assert result.json()["status"] == "tampered"
    # the registration is visible in the person's history
    child_uin = registered["subject_uin"]
    history = client.get(f"{BASE}/persons/{child_uin}/history").json()
    assert history[0]["event_number"] == registered["number"]
    # registering twice is a conflict
    _problem(client.post(f"{BASE}/events/{event_id}/register"), 409)


def test_bad_input_gets_problem_details_not_500(registrar: Principal) -> None:
    client = _client("registrar")
    body = _problem(
        client.post(f"{BASE}/events/births", {"sex": "Q"}, content_type="application/json"),
        422,
    )
    assert body["errors"]
    body = _problem(client.post(f"{BASE}/events/births", "not json", content_type="application/json"), 400)
    assert body["code"] == "malformed_request"
    future = (timezone.localdate() + timedelta(days=5)).isoformat()
    body = _problem(
        client.post(
            f"{BASE}/events/births",
            {"given_names": "A", "family_name": "B", "sex": "F", "birth_date": future, "birth_parish": "XA-01"},
            content_type="application/json",
        ),
        422,
    )
    assert body["field"] == "birth_date"
    _problem(client.get(f"{BASE}/events/999999"), 404)
    _problem(client.get(f"{BASE}/persons", {"name": "!!!"}), 422)
    _problem(client.get(f"{BASE}/persons", {"name": "a", "cursor": "%%%"}), 422)
    _problem(client.get("/api/v1/nowhere"), 404)


@pytest.mark.parametrize(
    ("kind", "facts"),
    [
        ("births", {"given_names": "A", "family_name": "B", "sex": "F", "birth_parish": "XA-01"}),
        ("births", {"given_names": "A", "family_name": "B", "sex": "F", "birth_parish": "XA-01", "mother_uin": "M"}),
        ("deaths", {"uin": "P"}),
        ("address-changes", {"uin": "P", "parish": "XA-01", "line": "1 Bay Street"}),
    ],
)
def test_a_date_in_the_first_centuries_is_422_not_500(registrar: Principal, kind: str, facts: dict[str, str]) -> None:
    # Found by fuzzing: 0001-01-01 made the duplicate check's date window overflow.
    mother, person = register_person(registrar), register_person(registrar)
    facts = {k: {"M": mother.uin, "P": person.uin}.get(v, v) for k, v in facts.items()}
    date_field = {"births": "birth_date", "deaths": "death_date"}.get(kind, "date")
    for day in ("0001-01-01", "0001-01-03", "1799-12-31"):
        response = _client("registrar").post(
            f"{BASE}/events/{kind}", {**facts, date_field: day}, content_type="application/json"
        )
        assert _problem(response, 422)["field"] == date_field, day


def test_search_by_name_with_cursor(registrar: Principal) -> None:
    for i in range(5):
        register_person(registrar, given=f"Zephyrine{i}", family="Oduber")
    register_person(registrar, given="Other", family="Person")
    client = _client("reader")
    first = client.get(f"{BASE}/persons", {"name": "oduber", "limit": 3}).json()
    assert len(first["items"]) == 3 and first["next_cursor"]
    second = client.get(f"{BASE}/persons", {"name": "oduber", "limit": 3, "cursor": first["next_cursor"]}).json()
    assert len(second["items"]) == 2 and second["next_cursor"] is None
    uins = {p["uin"] for p in first["items"] + second["items"]}
    assert len(uins) == 5
    prefix = client.get(f"{BASE}/persons", {"name": "zephyr odub"}).json()
    assert len(prefix["items"]) == 5


def test_as_of_before_registration_is_404(registrar: Principal) -> None:
    person = register_person(registrar)
    body = _problem(_client().get(f"{BASE}/persons/{person.uin}", {"as_of": "1900-01-01"}), 404)
    assert body["code"] == "not_yet_registered"
    body = _problem(_client().get(f"{BASE}/persons/{person.uin}", {"as_of": "yesterday"}), 422)
    assert body["field"] == "as_of"


def test_person_read_shape_matches_the_history_snapshot(registrar: Principal) -> None:
    mother = register_person(registrar, sex="F", born=date(1980, 3, 3))
    child = register_person(registrar, born=date(2005, 6, 7), mother=mother)
    body = _client().get(f"{BASE}/persons/{child.uin}").json()
    history = _client().get(f"{BASE}/persons/{child.uin}/history").json()
    snapshot = history[-1]["data"]
    assert {k: body[k] for k in snapshot} == snapshot
    assert body["mother_uin"] == mother.uin and body["father_uin"] is None
    assert body["recorded_at"].endswith(("+00:00", "Z"))
