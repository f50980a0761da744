"""The land register's services through the real exchange (signed, rights-checked, logged at both
ends): parcels of an owner, a title, encumbrances and signed extracts, each listed among the uses of
the owner's data; and a death registered in the civil registry opening an inheritance, delivered by
the exchange's publish/subscribe as to any agency."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from django.test import Client

from gov21.core.errors import DomainError
from gov21.exchange.contracts import agency_client, agency_service, data_uses_for, exchange_call
from gov21.exchange.pubsub import deliveries_run
from gov21.land import services
from gov21.land.events import event_receive
from gov21.land.models import Transaction, TransactionState
from gov21.land.records import OwnerShare, TransferFacts
from gov21.registry import services as registry
from tests.land.helpers import (
    CHECKER,
    CIVIL_REGISTRAR,
    CLERK,
    REGISTRAR,
    complete,
    first_register,
    lodge,
    owners,
    person,
    ref,
    square,
)

pytestmark = pytest.mark.django_db
PARCELS = agency_service("LRA", "land-register", "parcels")


def _get(client: str, path: str, *, issue: str = "checking a loan application", query: str = "") -> Any:
    return exchange_call(client=client, service=PARCELS, path=path, issue=issue, query=query)


def test_parcels_of_an_owner_through_the_exchange_are_logged_for_the_owner() -> None:
    owner = person()
    a = first_register(square(0, 0), owners((owner, "1/1")))
    b = first_register(square(1, 0), owners((owner, "1/2"), (person(), "1/2")))
    answer = _get(agency_client("PORTAL", "services"), f"/owners/person/{owner.uin}", issue="Register the sale of land")
    assert answer.status == 200, answer.body
    assert sorted(p["number"] for p in answer.json()["parcels"]) == sorted([a, b])
    uses = data_uses_for(subject=owner.uin)
    assert any(u["service"].endswith("/parcels") and u["purpose"] == "Register the sale of land" for u in uses)
    assert any(u["seen_as"] == "The land you own, from the land register" for u in uses)


def test_a_title_and_its_encumbrances_as_of_a_date_and_refusals() -> None:
    owner = person()
    number = first_register(square(2, 0), owners((owner, "1/1")))
    bank = agency_client("MSD", "benefits")
    title = _get(bank, f"/parcels/{number}/title")
    assert title.status == 200, title.body
    assert title.json()["ownership"][0]["holder"]["identifier"] == owner.uin
    assert any(u["purpose"] == "checking a loan application" for u in data_uses_for(subject=owner.uin))
    assert _get(bank, f"/parcels/{number}/encumbrances").json()["encumbrances"] == []
    # No purpose: refused, with a problem naming it; an unknown parcel: 404; a bad date: 422.
    assert _get(bank, f"/parcels/{number}/title", issue="").status == 422
    assert _get(bank, "/parcels/XA-01-999999/title").status == 404
    bad_date = _get(bank, f"/parcels/{number}/title", query="as_of=yesterday")
    assert bad_date.status == 422 and bad_date.json()["field"] == "as_of"
    # An agency without the right to list owners' parcels is refused by the exchange.
    refused = _get(bank, f"/owners/person/{owner.uin}")
    assert refused.status == 403 or refused.error


def test_a_signed_extract_verifies_at_verify_and_a_tampered_one_does_not() -> None:
    owner = person()
    number = first_register(square(4, 0), owners((owner, "1/1")))
    answer = exchange_call(
        client=agency_client("PORTAL", "services"),
        service=PARCELS,
        path=f"/parcels/{number}/extracts",
        method="POST",
        issue="Register the sale of land",
    )
    assert answer.status == 201, answer.body
    extract = answer.json()
    assert extract["code"].startswith("GOV21L:") and extract["serial"].startswith("LT-")
    address = urlsplit(extract["verify_url"])
    page = Client().get(f"{address.path}?{address.query}")
    assert page.status_code == 200
    assert b'data-status="valid"' in page.content and number.encode() in page.content
    header, payload, signature = extract["code"][len("GOV21L:") :].split(".")
    forged = f"GOV21L:{header}.{payload[:-4]}AAAA.{signature}"
    page = Client().post("/verify", {"payload": forged})
    assert b'data-status="tampered"' in page.content
    # The key that signs extracts is published beside the registry's.
    assert any(key.get("kid") for key in Client().get("/.well-known/jwks.json").json()["keys"])


def test_a_registered_death_opens_an_inheritance_for_the_registrar_to_complete() -> None:
    deceased, partner, heir = person(), person(), person()
    sole = first_register(square(6, 0), owners((deceased, "1/1")))
    joint = first_register(square(7, 0), owners((deceased, "1/2"), (partner, "1/2")))
    first_register(square(8, 0), owners((partner, "1/1")))
    event = registry.event_declare(
        declaration=registry.declaration_parse(kind="death", data={"uin": deceased.uin, "death_date": "2026-01-02"}),
        actor=CIVIL_REGISTRAR,
    )
    registry.event_validate(event_id=event.pk, actor=CIVIL_REGISTRAR)
    registry.event_register(event_id=event.pk, actor=CIVIL_REGISTRAR)
    deliveries_run()
    opened = Transaction.objects.get(kind="inheritance")
    assert opened.state == TransactionState.LODGED and sorted(opened.parcels) == sorted([sole, joint])
    assert opened.lodged_by == "land-register (events)"
    # It cannot be checked before the heirs are named, then is completed by a registrar.
    with pytest.raises(DomainError) as refused:
        services.transaction_check(number=opened.number, actor=CHECKER)
    assert refused.value.code == "heirs_required"
    services.inheritance_heirs_set(number=opened.number, heirs=[OwnerShare(party=ref(heir))], actor=CLERK)
    with pytest.raises(DomainError):
        services.transaction_check(number=opened.number, actor=CLERK)  # who named the heirs does not check
    complete(opened)
    from gov21.land.selectors import parcel_title
    from tests.land.test_services import READER

    assert parcel_title(number=sole, actor=READER, purpose="test").ownership[0].holder.identifier == heir.uin
    shares = {
        m.identifier: m.share
        for m in parcel_title(number=joint, actor=READER, purpose="test").ownership[0].holder.members
    }
    assert shares == {partner.uin: "1/2", heir.uin: "1/2"}
    assert Transaction.objects.filter(kind="inheritance").count() == 1


def test_a_redelivered_event_is_handled_once_and_a_death_without_land_lodges_nothing() -> None:
    owner = person()
    first_register(square(9, 0), owners((owner, "1/1")))
    event = {"event_type": "death.registered", "seq": 9001, "payload": {"uin": owner.uin, "number": "D-2026-000009"}}
    assert event_receive(event=event).startswith("handled: L-")
    assert event_receive(event=event) == "duplicate"
    landless = {"event_type": "death.registered", "seq": 9002, "payload": {"uin": person().uin, "number": "D-2026-1"}}
    assert event_receive(event=landless) == "handled: no land"
    assert Transaction.objects.filter(kind="inheritance").count() == 1


def test_transfer_logged_for_seller_and_buyer() -> None:
    seller, buyer = person(), person()
    number = first_register(square(10, 0), owners((seller, "1/1")))
    complete(lodge(TransferFacts(parcel=number, applicant=ref(seller), buyers=owners((buyer, "1/1")))))
    from gov21.audit.contracts import access_records_for

    for who in (seller, buyer):
        actions = {r["action"] for r in access_records_for(subject=who.uin)}
        assert {"land.lodge", "land.register"} <= actions
    assert REGISTRAR.name in {r["actor"] for r in access_records_for(subject=buyer.uin)}
