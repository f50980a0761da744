"""The data tracker: ``findUsage`` for the person concerned, as a selector and as the citizen's API."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.principal import Principal
from gov21.exchange import chain, merkle, node
from gov21.exchange.contracts import exchange_call, usage_find
from tests.identity.flows import citizen, portal_sign_in
from tests.registry.factories import register_person

pytestmark = pytest.mark.usefixtures("exchange")

PERSONS = "XA/GOV/CRO/civil-registry/persons"
USAGE = "/api/v1/exchange/usage"
PUBLISHED = Path(__file__).resolve().parents[2] / "docs" / "openapi.json"


def _msd_reads(uin: str) -> str:
    result = exchange_call(
        client="XA/GOV/MSD/benefits", service=PERSONS, path=f"/{uin}", issue="Benefit claim 17", user_id="XA-officer-3"
    )
    assert result.status == 200, result.body
    return result.headers["x-road-id"]


def _problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.content
    assert response["Content-Type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    return body


def test_a_read_by_an_agency_appears_with_receiver_purpose_official_and_a_provable_record(
    registrar: Principal,
) -> None:
    person = register_person(registrar)
    message_id = _msd_reads(person.uin)

    [use] = usage_find(subject=person.uin, start=None, end=None, limit=100)

    assert use["receiver"] == "Ministry of Social Development"
    assert use["receiverCode"] == "XA/GOV/MSD/benefits"
    assert use["sender"] == PERSONS
    assert use["actionCode"] == f"GET /{person.uin}"
    assert use["personCode"] == person.uin
    assert use["accessReason"] == "Benefit claim 17"
    assert use["officialCode"] == "XA-officer-3"
    assert use["xroadRequestId"] == message_id
    # The record named as proof is in the provider's chain and, once a tree head is sealed, provably so.
    chain.seal(use["proof"]["chain"], node.sign_bytes)
    proof = chain.inclusion(use["proof"]["chain"], use["proof"]["seq"])
    assert proof is not None
    assert merkle.verify_inclusion(
        proof.index,
        proof.size,
        merkle.leaf_hash(bytes.fromhex(proof.entry_hash)),
        [bytes.fromhex(p) for p in proof.path],
        bytes.fromhex(proof.head["root"]),
    )


def test_a_person_whose_data_was_never_returned_has_no_uses(registrar: Principal) -> None:
    read, never = register_person(registrar), register_person(registrar)
    _msd_reads(read.uin)

    assert usage_find(subject=never.uin, start=None, end=None, limit=100) == []


def test_dates_filter_whole_days_in_the_instance_time_zone(registrar: Principal) -> None:
    person = register_person(registrar)
    _msd_reads(person.uin)
    today = timezone.localdate()

    def found(**dates: Any) -> int:
        return len(usage_find(subject=person.uin, limit=100, **dates))

    assert found(start=today, end=today) == 1
    assert found(start=today - timedelta(days=30), end=None) == 1
    assert found(start=today + timedelta(days=1), end=None) == 0
    assert found(start=None, end=today - timedelta(days=1)) == 0


def test_newest_first_and_limited(registrar: Principal) -> None:
    person = register_person(registrar)
    first, second = _msd_reads(person.uin), _msd_reads(person.uin)

    uses = usage_find(subject=person.uin, start=None, end=None, limit=1)

    assert [u["xroadRequestId"] for u in uses] == [second]
    assert first != second


def test_the_citizen_sees_their_own_uses_in_the_published_shape(client: Client) -> None:
    person = citizen()
    portal_sign_in(client, person)  # the portal's sign-in reads the profile through the exchange
    other = register_person(Principal(name="r", kind="staff", roles=frozenset({"registrar"})))
    _msd_reads(other.uin)
    message_id = _msd_reads(person.identifier)

    response = client.get(USAGE)

    assert response.status_code == 200, response.content
    body = response.json()
    assert [(u["receiverCode"], u["officialCode"]) for u in body] == [
        ("XA/GOV/MSD/benefits", "XA-officer-3"),
        ("XA/GOV/IDA/identity", "oidc:gov21-portal"),
        # The counter's identity check before the activation code, read as any agency reads.
        ("XA/GOV/IDA/identity", "counter.officer"),
    ]
    assert body[0]["xroadRequestId"] == message_id
    assert body[1]["receiver"] == "National Identity Agency"
    assert {u["personCode"] for u in body} == {person.identifier}  # never another person's
    document = json.loads(PUBLISHED.read_text(encoding="utf-8"))
    operation = document["paths"][USAGE]["get"]
    assert operation["operationId"] == "findUsage"
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    jsonschema.validate(body, {**schema, "components": document["components"]})


def test_the_api_filters_by_date_and_refuses_bad_dates_with_a_problem(client: Client) -> None:
    person = citizen()
    portal_sign_in(client, person)
    today = timezone.localdate()

    # Today: the counter's identity check before the activation code, and the sign-in's profile read.
    assert len(client.get(USAGE, {"start": today.isoformat(), "end": today.isoformat()}).json()) == 2
    assert client.get(USAGE, {"start": (today + timedelta(days=1)).isoformat()}).json() == []
    assert _problem(client.get(USAGE, {"start": "2024-13-01"}), 422)["field"] == "start"
    assert _problem(client.get(USAGE, {"end": "yesterday"}), 422)["field"] == "end"
    backwards = _problem(client.get(USAGE, {"start": "2024-05-02", "end": "2024-05-01"}), 422)
    assert backwards["code"] == "invalid_range" and backwards["field"] == "end"
    assert _problem(client.get(USAGE, {"limit": "501"}), 422)["field"] == "limit"


def test_only_a_signed_in_citizen_reaches_the_tracker(registrar: Principal) -> None:
    from gov21.identity.services import token_create

    _problem(Client().get(USAGE), 401)
    token = token_create(name="t", role="registrar", lifetime=timedelta(hours=1), created_by="test").token
    _problem(Client(headers={"Authorization": f"Bearer {token}"}).get(USAGE), 401)
