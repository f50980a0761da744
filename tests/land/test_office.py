"""The land registry's office pages through the test client, signed in as staff through OpenID
Connect: lodging a transfer, checking and registering it by two others, a parcel's page with its
map, title as of a date and history, and the refusals and error messages."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.land.models import Transaction, TransactionState
from tests.identity.flows import portal_sign_in, staff
from tests.land.helpers import first_register, owners, person, square

pytestmark = pytest.mark.django_db


def _signed_in(username: str, *roles: str, next_url: str = "/office/land/") -> Client:
    client = Client()
    portal_sign_in(client, staff(username, *roles), next_url=next_url)
    return client


def test_a_transfer_lodged_checked_and_registered_through_the_pages() -> None:
    seller, buyer = person(), person()
    number = first_register(square(0, 0), owners((seller, "1/1")))
    clerk = _signed_in("land.clerk2", "clerk")
    page = clerk.get("/office/land/lodge/transfer/")
    assert page.status_code == 200 and b"Buyers and their shares" in page.content
    response = clerk.post(
        "/office/land/lodge/transfer/",
        {"parcel": number, "applicant": seller.uin, "buyers": f"{buyer.uin} 1/1"},
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    tx = Transaction.objects.get(kind="transfer")
    assert response["Location"] == f"/office/land/transactions/{tx.number}/"
    # The clerk may not decide; a registrar checks, another registers.
    assert b"Mark as checked" not in clerk.get(response["Location"]).content
    first = _signed_in("land.reg1", "registrar")
    assert first.post(response["Location"], {"action": "check"}).status_code == 302
    # The one who checked may register too, but not the one who lodged: the queue lists it for anyone.
    second = _signed_in("land.reg2", "registrar")
    home = second.get("/office/land/")
    assert tx.number.encode() in home.content
    assert second.post(response["Location"], {"action": "register"}).status_code == 302
    assert Transaction.objects.get(pk=tx.pk).state == TransactionState.REGISTERED
    parcel = second.get(f"/office/land/parcels/{number}/")
    assert parcel.status_code == 200
    assert b"<svg" in parcel.content and buyer.uin.encode() in parcel.content and tx.number.encode() in parcel.content
    before = (timezone.localdate() - timedelta(days=1)).isoformat()
    earlier = second.get(f"/office/land/parcels/{number}/", {"as_of": before})
    assert earlier.status_code == 404  # the parcel was not yet registered then


def test_lodging_errors_are_shown_on_the_form() -> None:
    owner, stranger = person(), person()
    number = first_register(square(2, 0), owners((owner, "1/1")))
    clerk = _signed_in("land.clerk3", "clerk")
    bad = clerk.post(
        "/office/land/lodge/transfer/", {"parcel": number, "applicant": owner.uin, "buyers": "nonsense here now"}
    )
    assert bad.status_code == 422 and b"Line 1 is not an owner and a share" in bad.content
    wrong = clerk.post(
        "/office/land/lodge/transfer/", {"parcel": number, "applicant": stranger.uin, "buyers": f"{owner.uin} 1/2"}
    )
    assert wrong.status_code == 422 and b"is not a registered owner" in wrong.content
    halves = clerk.post(
        "/office/land/lodge/transfer/",
        {"parcel": number, "applicant": owner.uin, "buyers": f"{stranger.uin} 1/2"},
    )
    assert halves.status_code == 422 and b"add up to 1/2" in halves.content
    assert not Transaction.objects.filter(kind="transfer").exists()


def test_four_eyes_on_the_page_and_rejection_needs_a_reason() -> None:
    owner, buyer = person(), person()
    number = first_register(square(4, 0), owners((owner, "1/1")))
    registrar = _signed_in("land.reg3", "registrar")
    lodged = registrar.post(
        "/office/land/lodge/transfer/", {"parcel": number, "applicant": owner.uin, "buyers": f"{buyer.uin} 1/1"}
    )
    own = registrar.post(lodged["Location"], {"action": "check"})
    assert own.status_code == 409 and b"Someone other than the person who lodged" in own.content
    other = _signed_in("land.reg4", "registrar")
    no_reason = other.post(lodged["Location"], {"action": "reject", "reason": ""})
    assert no_reason.status_code == 422 and b"Give the reason for rejecting." in no_reason.content
    assert other.post(lodged["Location"], {"action": "reject", "reason": "Unsigned deed"}).status_code == 302
    assert Transaction.objects.get(kind="transfer").state == TransactionState.REJECTED


def test_who_may_enter() -> None:
    reader = _signed_in("land.reader2", "reader")
    assert reader.get("/office/land/").status_code == 200
    refused = reader.get("/office/land/lodge/transfer/")
    assert refused.status_code == 403 and b"land.lodge" not in refused.content
    assert Client().get("/office/land/").status_code == 302
    assert reader.get("/office/land/", {"number": "XA-01-999999"}).status_code == 302
    assert reader.get("/office/land/parcels/XA-01-999999/").status_code == 404
