"""Each operation of ``/api/v1/registry/`` over HTTP: what it does for a caller, and the problem+json
a caller gets for bad input or a refused step. tests/suite_checks.py fails the suite when an operation
in docs/openapi.json lacks either."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.ids import verhoeff_check_digit
from gov21.core.principal import Principal
from gov21.identity.services import token_create
from gov21.registry.models import DuplicateCandidate, Person
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
BASE = "/api/v1/registry"


def _client(role: str = "registrar") -> Client:
    issued = token_create(name="ops", role=role, lifetime=timedelta(hours=1), created_by="test")
    return Client(headers={"Authorization": f"Bearer {issued.token}", "X-Purpose": "api test"})


def _ok(response: Any, status: int = 200) -> Any:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    return response.json()


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status and body["title"] and body["detail"]
    return body


def _post(client: Client, path: str, body: dict[str, Any] | None = None) -> Any:
    return client.post(f"{BASE}{path}", body or {}, content_type="application/json")


def _days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def _register(client: Client, event_id: int) -> dict[str, Any]:
    _ok(_post(client, f"/events/{event_id}/validate"))
    registered: dict[str, Any] = _ok(_post(client, f"/events/{event_id}/register"))
    assert registered["state"] == "registered"
    return registered


def _married(client: Client, a: Person, b: Person) -> None:
    facts = {"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": _days_ago(400), "parish": "XA-01"}
    _register(client, _ok(_post(client, "/events/marriages", facts), 201)["id"])


def _history_reasons(client: Client, uin: str) -> list[str]:
    return [version["reason"] for version in _ok(client.get(f"{BASE}/persons/{uin}/history"))]


def test_a_death_is_declared_and_registered(registrar: Principal) -> None:
    client = _client()
    person = register_person(registrar, born=date(1940, 4, 4))
    declared = _ok(_post(client, "/events/deaths", {"uin": person.uin, "death_date": _days_ago(2)}), 201)
    assert (declared["kind"], declared["state"], declared["subject_uin"]) == ("death", "declared", person.uin)
    registered = _register(client, declared["id"])
    assert registered["number"].startswith("D-")
    assert _ok(client.get(f"{BASE}/persons/{person.uin}"))["status"] == "deceased"
    body = _problem(_post(client, "/events/deaths", {"uin": person.uin, "death_date": _days_ago(1)}), 409)
    assert body["code"] == "already_deceased"


def test_a_marriage_renames_the_party_who_asks_and_is_certified(registrar: Principal) -> None:
    client = _client()
    a = register_person(registrar, given="Ruth", family="Charles", born=date(1990, 1, 1))
    b = register_person(registrar, given="Jon", sex="M", born=date(1989, 1, 1))
    facts = {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        "date": _days_ago(10),
        "parish": "XA-02",
        "partner_a_new_family_name": "Baptiste",
    }
    event = _ok(_post(client, "/events/marriages", facts), 201)
    assert event["data"]["partner_a_new_family_name"] == "Baptiste"
    _register(client, event["id"])
    ruth = _ok(client.get(f"{BASE}/persons/{a.uin}"))
    assert (ruth["family_name"], ruth["marital_status"]) == ("Baptiste", "married")
    assert ruth["former_names"] == ["Ruth Charles"]
    certificate = _ok(_post(client, f"/events/{event['id']}/certificates"), 201)
    assert ("Date of marriage", facts["date"]) in [tuple(fact) for fact in certificate["facts"]]
    body = _problem(_post(client, "/events/marriages", {**facts, "partner_b_uin": a.uin}), 422)
    assert body["field"] == "partner_b_uin"


def test_a_divorce_ends_the_marriage_and_gives_back_a_name(registrar: Principal) -> None:
    client = _client()
    a = register_person(registrar, given="Ruth", family="Charles", born=date(1990, 1, 1))
    b = register_person(registrar, given="Jon", sex="M", born=date(1989, 1, 1))
    _married(client, a, b)
    facts = {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        "date": _days_ago(3),
        "court_reference": "HC-2026-118",
        "partner_a_new_family_name": "Alexis",
    }
    event = _ok(_post(client, "/events/divorces", facts), 201)
    assert (event["kind"], event["subject_uin"], event["data"]["court_reference"]) == (
        "divorce",
        a.uin,
        "HC-2026-118",
    )
    registered = _register(client, event["id"])
    assert registered["number"]
    for person, family in ((a, "Alexis"), (b, "Baptiste")):
        record = _ok(client.get(f"{BASE}/persons/{person.uin}"))
        assert (record["marital_status"], record["family_name"]) == ("divorced", family)
        assert _history_reasons(client, person.uin)[-1] == "Divorce registered"
    # A divorce is not a certifiable registration, and the same pair cannot divorce twice.
    assert _problem(_post(client, f"/events/{event['id']}/certificates"), 409)["code"] == "not_certifiable"
    assert _problem(_post(client, "/events/divorces", facts), 409)["code"] == "not_married"


def test_a_divorce_that_cannot_be_is_refused_naming_the_field(registrar: Principal) -> None:
    client = _client()
    a = register_person(registrar, born=date(1990, 1, 1))
    b = register_person(registrar, sex="M", born=date(1989, 1, 1))
    stranger = register_person(registrar, sex="M", born=date(1985, 5, 5))
    _married(client, a, b)
    before = {"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": _days_ago(500)}
    assert _problem(_post(client, "/events/divorces", before), 422)["field"] == "date"
    unmarried = {"partner_a_uin": a.uin, "partner_b_uin": stranger.uin, "date": _days_ago(1)}
    assert _problem(_post(client, "/events/divorces", unmarried), 409)["field"] == "partner_b_uin"
    assert _problem(_post(client, "/events/divorces", {"partner_a_uin": a.uin}), 422)["code"] == "invalid_input"


def test_a_change_of_name_keeps_the_former_name(registrar: Principal) -> None:
    client = _client()
    person = register_person(registrar, given="Marie", family="Charles", born=date(1984, 8, 8))
    facts = {"uin": person.uin, "date": _days_ago(5), "given_names": "Maria", "reason": "Deed poll"}
    event = _ok(_post(client, "/events/name-changes", facts), 201)
    assert (event["kind"], event["subject_uin"]) == ("name_change", person.uin)
    _register(client, event["id"])
    record = _ok(client.get(f"{BASE}/persons/{person.uin}"))
    assert (record["given_names"], record["family_name"], record["former_names"]) == (
        "Maria",
        "Charles",
        ["Marie Charles"],
    )
    assert _history_reasons(client, person.uin)[-1] == "Change of name: Deed poll"


def test_a_change_of_name_without_a_new_name_is_refused(registrar: Principal) -> None:
    client = _client()
    person = register_person(registrar, born=date(1984, 8, 8))
    nothing = {"uin": person.uin, "date": _days_ago(5), "reason": "Deed poll"}
    assert _problem(_post(client, "/events/name-changes", nothing), 422)["field"] == "family_name"
    future = {**nothing, "family_name": "Rose", "date": (timezone.localdate() + timedelta(days=3)).isoformat()}
    assert _problem(_post(client, "/events/name-changes", future), 422)["field"] == "date"
    short = {**nothing, "family_name": "Rose", "reason": "x"}
    assert _problem(_post(client, "/events/name-changes", short), 422)["field"] == "reason"


def test_a_change_of_address_is_registered(registrar: Principal) -> None:
    client = _client()
    person = register_person(registrar, born=date(1975, 5, 5))
    facts = {"uin": person.uin, "date": _days_ago(4), "parish": "XA-03", "line": "7 Hill Road"}
    _register(client, _ok(_post(client, "/events/address-changes", facts), 201)["id"])
    record = _ok(client.get(f"{BASE}/persons/{person.uin}"))
    assert (record["address_parish"], record["address_line"], record["address_since"]) == (
        "XA-03",
        "7 Hill Road",
        facts["date"],
    )
    assert _problem(_post(client, "/events/address-changes", {**facts, "line": ""}), 422)["field"] == "line"


def test_events_are_listed_by_kind_and_state_a_page_at_a_time(registrar: Principal) -> None:
    client = _client()
    people = [register_person(registrar, born=date(1970, 1, 1) + timedelta(days=40 * i)) for i in range(3)]
    for person in people:
        _post(
            client, "/events/address-changes", {"uin": person.uin, "date": _days_ago(1), "parish": "XA-02", "line": "1"}
        )
    first = _ok(client.get(f"{BASE}/events", {"kind": "address_change", "state": "declared", "limit": 2}))
    assert len(first["items"]) == 2 and first["next_cursor"]
    second = _ok(client.get(f"{BASE}/events", {"kind": "address_change", "cursor": first["next_cursor"]}))
    assert len(second["items"]) == 1 and second["next_cursor"] is None
    listed = {item["subject_uin"] for item in first["items"] + second["items"]}
    assert listed == {person.uin for person in people}
    one = _ok(client.get(f"{BASE}/events/{first['items'][0]['id']}"))
    assert one == first["items"][0]
    assert _ok(client.get(f"{BASE}/events", {"kind": "divorce"}))["items"] == []
    assert _problem(client.get(f"{BASE}/events", {"limit": 0}), 422)["field"] == "limit"
    assert _problem(client.get(f"{BASE}/events", {"cursor": "%%%"}), 422)


def test_a_declaration_is_sent_back_corrected_then_validated(registrar: Principal) -> None:
    client = _client()
    person = register_person(registrar, born=date(1975, 5, 5))
    facts = {"uin": person.uin, "date": _days_ago(4), "parish": "XA-03", "line": "7 Hill Rd"}
    event_id = _ok(_post(client, "/events/address-changes", facts), 201)["id"]
    assert _problem(_post(client, f"/events/{event_id}/correct", {"data": {"line": "x"}}), 409)["code"] == (
        "invalid_transition"
    )
    assert _problem(_post(client, f"/events/{event_id}/request-correction", {"note": ""}), 422)["field"] == "note"
    asked = _ok(_post(client, f"/events/{event_id}/request-correction", {"note": "Spell the road out"}))
    assert (asked["state"], asked["correction_note"]) == ("correction_requested", "Spell the road out")
    assert _problem(_post(client, f"/events/{event_id}/correct", {"data": {"parish": ""}}), 422)["field"] == "parish"
    corrected = _ok(_post(client, f"/events/{event_id}/correct", {"data": {"line": "7 Hill Road"}}))
    assert (corrected["state"], corrected["data"]["line"]) == ("corrected", "7 Hill Road")
    assert _ok(_post(client, f"/events/{event_id}/validate"))["state"] == "validated"
    # A registered declaration cannot be validated again, nor sent back.
    _ok(_post(client, f"/events/{event_id}/register"))
    assert _problem(_post(client, f"/events/{event_id}/validate"), 409)["code"] == "invalid_transition"
    assert _problem(_post(client, f"/events/{event_id}/request-correction", {"note": "x"}), 409)


def test_a_declaration_is_rejected_with_a_reason(registrar: Principal) -> None:
    client = _client()
    person = register_person(registrar, born=date(1975, 5, 5))
    facts = {"uin": person.uin, "date": _days_ago(4), "parish": "XA-03", "line": "7 Hill Road"}
    event_id = _ok(_post(client, "/events/address-changes", facts), 201)["id"]
    assert _problem(_post(client, f"/events/{event_id}/reject", {"reason": ""}), 422)["field"] == "reason"
    rejected = _ok(_post(client, f"/events/{event_id}/reject", {"reason": "Not the person's signature"}))
    assert (rejected["state"], rejected["rejection_reason"]) == ("rejected", "Not the person's signature")
    assert _problem(_post(client, f"/events/{event_id}/reject", {"reason": "again"}), 409)["code"] == (
        "invalid_transition"
    )
    assert _problem(_post(client, "/events/999999/reject", {"reason": "gone"}), 404)["code"] == "event_not_found"


def test_a_possible_duplicate_is_resolved_before_registration(registrar: Principal) -> None:
    client = _client()
    mother = register_person(registrar, sex="F", born=date(1990, 2, 2))
    born = _days_ago(6)
    facts = {"given_names": "Noah", "family_name": "Baptiste", "sex": "M", "birth_date": born, "birth_parish": "XA-01"}
    first = _ok(_post(client, "/events/births", {**facts, "mother_uin": mother.uin}), 201)
    _register(client, first["id"])
    twin = _ok(_post(client, "/events/births", {**facts, "given_names": "Noam", "mother_uin": mother.uin}), 201)
    assert twin["has_open_duplicates"]
    _ok(_post(client, f"/events/{twin['id']}/validate"))
    assert _problem(_post(client, f"/events/{twin['id']}/register"), 409)["code"] == "unresolved_duplicates"
    # The API says only that a declaration has open duplicates; a registrar finds the candidates on
    # the office page, so the test reads the id from the registry's table.
    candidate = DuplicateCandidate.objects.get(event_id=twin["id"])
    path = f"/duplicates/{candidate.pk}/resolve"
    assert _problem(_post(client, path, {"resolution": "maybe"}), 422)["field"] == "resolution"
    resolved = _ok(_post(client, path, {"resolution": "distinct"}))
    assert resolved["has_open_duplicates"] is False and resolved["state"] == "validated"
    assert _problem(_post(client, path, {"resolution": "duplicate"}), 409)["code"] == "already_resolved"
    assert _ok(_post(client, f"/events/{twin['id']}/register"))["number"]
    assert _problem(_post(client, "/duplicates/999999/resolve", {"resolution": "distinct"}), 404)


def test_a_certificate_is_read_revoked_and_then_verifies_as_revoked(registrar: Principal) -> None:
    client = _client()
    mother = register_person(registrar, sex="F", born=date(1990, 2, 2))
    born = _days_ago(2)
    birth = {"given_names": "Iris", "family_name": "Rose", "sex": "F", "birth_date": born, "birth_parish": "XA-01"}
    event_id = _ok(_post(client, "/events/births", {**birth, "mother_uin": mother.uin}), 201)["id"]
    assert _problem(_post(client, f"/events/{event_id}/certificates"), 409)["code"] == "invalid_transition"
    _register(client, event_id)
    issued = _ok(_post(client, f"/events/{event_id}/certificates"), 201)
    serial = issued["serial"]
    assert _ok(client.get(f"{BASE}/certificates/{serial}")) == issued
    assert _problem(client.get(f"{BASE}/certificates/NOPE-1"), 404)["code"] == "certificate_not_found"
    assert _problem(client.get(f"{BASE}/certificates/NOPE-1/pdf"), 404)["code"] == "certificate_not_found"
    assert _problem(_post(client, f"/certificates/{serial}/revoke", {"reason": ""}), 422)["field"] == "reason"
    revoked = _ok(_post(client, f"/certificates/{serial}/revoke", {"reason": "Issued in error"}))
    assert revoked["status"] == "revoked"
    assert _problem(_post(client, f"/certificates/{serial}/revoke", {"reason": "twice"}), 409)["code"] == (
        "certificate_not_valid"
    )
    verified = _ok(Client().post(f"{BASE}/verify", {"payload": issued["credential"]}, content_type="application/json"))
    assert (verified["status"], verified["serial"]) == ("revoked", serial)
    empty = Client().post(f"{BASE}/verify", {"payload": ""}, content_type="application/json")
    assert _problem(empty, 422)["field"] == "payload"


def test_a_clerical_error_is_corrected_with_a_reason(registrar: Principal) -> None:
    client = _client()
    person = register_person(registrar, given="Jhon", born=date(1980, 1, 1))
    version = _ok(
        _post(client, f"/persons/{person.uin}/corrections", {"changes": {"given_names": "John"}, "reason": "Typo"}),
        201,
    )
    assert (version["changed"], version["author"]) == (["given_names"], "token:ops")
    assert version["reason"] == "Correction: Typo"
    assert _ok(client.get(f"{BASE}/persons/{person.uin}"))["given_names"] == "John"
    refused = _post(
        client, f"/persons/{person.uin}/corrections", {"changes": {"status": "deceased"}, "reason": "Wrong"}
    )
    assert _problem(refused, 422)["field"] == "status"
    bad_sex = _post(client, f"/persons/{person.uin}/corrections", {"changes": {"sex": "Q"}, "reason": "Typo"})
    assert _problem(bad_sex, 422)["field"] == "sex"
    reader = _post(_client("reader"), f"/persons/{person.uin}/corrections", {"changes": {}, "reason": "Typo"})
    _problem(reader, 403)


def test_the_history_of_an_unknown_person_is_404(registrar: Principal) -> None:
    client = _client("reader")
    person = register_person(registrar)
    assert len(_ok(client.get(f"{BASE}/persons/{person.uin}/history"))) == 1
    body = str((int(person.uin[:-1]) + 1) % 10 ** (len(person.uin) - 1)).zfill(len(person.uin) - 1)
    unknown = body + verhoeff_check_digit(body)
    assert _problem(client.get(f"{BASE}/persons/{unknown}/history"), 404)["code"] == "person_not_found"
    wrong_digit = person.uin[:-1] + str((int(person.uin[-1]) + 1) % 10)
    assert _problem(client.get(f"{BASE}/persons/{wrong_digit}/history"), 422)["field"] == "uin"
