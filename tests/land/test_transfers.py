"""A sale lodged through the exchange by the one-stop shop: only a registered owner sells, never to
themselves, never a parcel with a transaction waiting; each refusal a problem that names the field,
nothing lodged. The decision is published for the shop, with the rejection's reason."""

from __future__ import annotations

from typing import Any

import orjson
import pytest

from gov21.core.errors import DomainError
from gov21.exchange.contracts import agency_client, agency_service, exchange_call
from gov21.exchange.models import Event
from gov21.land import services
from gov21.land.models import Transaction
from gov21.land.records import TransferFacts
from tests.land.helpers import CHECKER, REGISTRAR, first_register, lodge, owners, person, ref, square

pytestmark = pytest.mark.django_db
PARCELS = agency_service("LRA", "land-register", "parcels")
SHOP = agency_client("PORTAL", "services")


def _post(body: dict[str, Any], client: str = SHOP) -> Any:
    return exchange_call(
        client=client,
        service=PARCELS,
        path="/transfers",
        method="POST",
        body=orjson.dumps(body),
        content_type="application/json",
        issue="A-TEST0001",
    )


def _sale(parcel: str, seller: str, buyer: str) -> dict[str, Any]:
    return {
        "parcel": parcel,
        "seller": {"kind": "person", "identifier": seller},
        "buyers": [{"party": {"kind": "person", "identifier": buyer}, "share": "1/1"}],
        "price_cents": 18_000_000,
        "sold_on": "2026-11-30",
        "reference": "A-TEST0001",
    }


def test_the_shop_lodges_a_sale_and_the_registration_is_published() -> None:
    seller, buyer = person(), person()
    parcel = first_register(square(20, 0), owners((seller, "1/1")))
    answer = _post(_sale(parcel, seller.uin, buyer.uin))
    assert answer.status == 201, answer.body
    number = answer.json()["number"]
    tx = Transaction.objects.get(number=number)
    assert (tx.kind, tx.state, tx.parcels) == ("transfer", "lodged", [parcel])
    assert tx.lodged_by.startswith("exchange:")
    services.transaction_check(number=number, actor=CHECKER)
    services.transaction_register(number=number, actor=REGISTRAR)
    (event,) = [e for e in Event.objects.filter(event_type__code="land.registered") if e.payload["number"] == number]
    assert event.payload["number"] == number and event.payload["parcels"] == [parcel]
    assert not any(seller.uin in str(v) or buyer.uin in str(v) for v in event.payload.values())


def test_a_rejection_is_published_with_its_reason() -> None:
    seller, buyer = person(), person()
    parcel = first_register(square(22, 0), owners((seller, "1/1")))
    number = _post(_sale(parcel, seller.uin, buyer.uin)).json()["number"]
    services.transaction_reject(number=number, reason="No stamp duty receipt.", actor=CHECKER)
    (event,) = [e for e in Event.objects.filter(event_type__code="land.rejected") if e.payload["number"] == number]
    assert event.payload["reason"] == "No stamp duty receipt."


def test_someone_elses_parcel_the_seller_as_buyer_and_a_pending_parcel_are_refused() -> None:
    seller, buyer, stranger = person(), person(), person()
    parcel = first_register(square(24, 0), owners((seller, "1/1")))
    not_owner = _post(_sale(parcel, stranger.uin, buyer.uin))
    assert not_owner.status == 422 and not_owner.json()["code"] == "not_registered_owner"
    to_self = _post(_sale(parcel, seller.uin, seller.uin))
    assert to_self.status == 422 and to_self.json()["field"] == "buyers"
    assert not Transaction.objects.filter(kind="transfer").exists()
    assert _post(_sale(parcel, seller.uin, buyer.uin)).status == 201
    again = _post(_sale(parcel, seller.uin, stranger.uin))
    assert again.status == 409 and again.json()["code"] == "parcel_pending"
    assert Transaction.objects.filter(kind="transfer").count() == 1
    malformed = _post({"parcel": parcel})
    assert malformed.status in (400, 422)


def test_a_pending_parcel_is_listed_for_its_owner_and_a_clerk_may_still_lodge_a_competing_deed() -> None:
    from gov21.land.records import PartyRef
    from gov21.land.selectors import parcels_of_party

    seller, buyer = person(), person()
    parcel = first_register(square(26, 0), owners((seller, "1/1")))
    first = lodge(TransferFacts(parcel=parcel, applicant=ref(seller), buyers=owners((buyer, "1/1"))))
    owned = parcels_of_party(party=PartyRef(kind="person", identifier=seller.uin), actor=CHECKER, purpose="test")
    assert owned.pending == [parcel]
    # In the office a competing deed is lodged; registering checks the title again (first wins).
    second = lodge(TransferFacts(parcel=parcel, applicant=ref(seller), buyers=owners((person(), "1/1"))))
    assert second.number != first.number
    with pytest.raises(DomainError) as to_self:
        lodge(TransferFacts(parcel=parcel, applicant=ref(seller), buyers=owners((seller, "1/1"))))
    assert to_self.value.code == "buyer_is_seller"


def test_an_agency_without_the_right_cannot_lodge_a_sale() -> None:
    seller, buyer = person(), person()
    parcel = first_register(square(28, 0), owners((seller, "1/1")))
    refused = _post(_sale(parcel, seller.uin, buyer.uin), client=agency_client("MSD", "benefits"))
    assert refused.status == 403 or refused.error
    assert not Transaction.objects.filter(kind="transfer").exists()
