"""'My property': the parcels a citizen owns, read from the land register through the exchange with
the citizen as the data subject, each with their share, its encumbrances and its map; nobody else's;
an empty register and a refusing exchange each said in words, never a server error."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gov21.exchange import node
from gov21.exchange.contracts import agency_client, agency_service, data_uses_for
from gov21.exchange.services import right_revoke
from gov21.land.records import MortgageFacts, PartyRef
from tests.identity.flows import citizen, citizen_of, portal_sign_in
from tests.land.helpers import complete, first_register, lodge, owners, person, ref, square

pytestmark = pytest.mark.django_db


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _section(html: str, number: str) -> str:
    found = re.search(rf'<section class="parcel" id="parcel-{re.escape(number)}".*?</section>', html, re.S)
    assert found, html[-2000:]
    return found.group(0)


def test_an_owner_sees_their_parcels_with_share_encumbrances_and_map_and_the_read_is_logged(
    client: Client,
) -> None:
    registered, partner = person(), person()
    alone = first_register(square(40, 0), owners((registered, "1/1")))
    shared = first_register(square(42, 0), owners((registered, "1/3"), (partner, "2/3")))
    bank = PartyRef(kind="agency", identifier="MSD")
    complete(lodge(MortgageFacts(parcel=shared, applicant=ref(registered), lender=bank, amount_cents=25_000_000)))
    owner = citizen_of(registered.uin)
    portal_sign_in(client, owner, next_url="/my/property")

    page = client.get("/my/property")

    assert page.status_code == 200
    html = page.content.decode()
    first, second = _text(_section(html, alone)), _text(_section(html, shared))
    assert "All of it (1/1)" in first and "No mortgage, lease or easement" in first
    assert "Your share 1/3" in second and "Mortgage" in second and "250,000.00" in second
    assert "Port Clement" in first or "XA-01" not in first  # the parish in words
    # Each parcel's map: the server-drawn SVG of its boundary, and the MapLibre hook where script runs.
    for number in (alone, shared):
        section = _section(html, number)
        assert '<div class="geo-figure"' in section and "<svg" in section
    assert "The land register records no property" not in html
    # The reads were made for the owner, with the portal's purpose, and are listed in "Who used my data".
    uses = [u for u in data_uses_for(subject=owner.identifier) if u["service"].endswith("/parcels")]
    assert {u["path"] for u in uses} >= {f"/owners/person/{owner.identifier}", f"/parcels/{shared}/title"}
    assert all(u["purpose"] == "Show you the land you own" for u in uses)
    assert all(u["client"].endswith("PORTAL/portal") for u in uses)
    listed = _text(client.get("/my/data-uses").content.decode())
    assert "Show you the land you own" in listed and "The land you own, from the land register" in listed
    # The co-owner's data was used too (their share is on the title the owner reads): logged for them.
    assert any(u["path"] == f"/parcels/{shared}/title" for u in data_uses_for(subject=partner.uin))
    # The account page leads to it.
    assert 'href="/my/property"' in client.get("/my/").content.decode()


def test_another_citizen_does_not_see_the_parcel(client: Client) -> None:
    owner = person()
    number = first_register(square(44, 0), owners((owner, "1/1")))
    other = citizen()
    portal_sign_in(client, other, next_url="/my/property")

    html = client.get("/my/property").content.decode()

    assert number not in html and "parcel-" not in html
    assert "The land register records no property in your name." in html
    assert not [u for u in data_uses_for(subject=owner.uin) if u["user_id"] == other.identifier]


def test_the_empty_state_in_another_language(client: Client) -> None:
    portal_sign_in(client, citizen(), next_url="/my/property")

    page = client.get("/my/property", HTTP_ACCEPT_LANGUAGE="es")

    assert page.status_code == 200
    assert 'id="property-empty"' in page.content.decode()


def test_a_refusing_exchange_is_said_in_words_never_a_server_error(client: Client) -> None:
    registered = person()
    first_register(square(46, 0), owners((registered, "1/1")))
    owner = citizen_of(registered.uin)
    portal_sign_in(client, owner, next_url="/my/property")
    right_revoke(
        service=agency_service("LRA", "land-register", "parcels"),
        subject=agency_client("PORTAL", "portal"),
        method="GET",
        path="/owners/person/*",
    )
    node.CONFS.clear()  # the published configuration, as the exchange's next refresh would have it

    page = client.get("/my/property")

    assert page.status_code == 502
    html = page.content.decode()
    assert 'id="property-error"' in html and 'role="alert"' in html
    assert "The land register could not be reached to show your property" in html
    assert "Traceback" not in html and "AccessDenied" not in html


def test_signed_out_visitors_are_sent_to_sign_in(client: Client) -> None:
    page = client.get("/my/property")
    assert page.status_code == 302 and "/sign-in" in page["Location"]


def test_the_owner_gets_a_signed_extract_that_verifies_and_nobody_else_does(client: Client) -> None:
    from gov21.land.models import Extract

    registered = person()
    number = first_register(square(48, 0), owners((registered, "1/1")))
    owner, other = citizen_of(registered.uin), citizen()
    portal_sign_in(client, owner, next_url="/my/property")
    assert f'action="/my/property/{number}/extract"' in client.get("/my/property").content.decode()

    issued = client.post(f"/my/property/{number}/extract")

    assert issued.status_code == 201, issued.content.decode()[-1500:]
    html = issued.content.decode()
    serial = re.search(r'id="extract-serial">([^<]+)<', html)
    assert serial and Extract.objects.filter(serial=serial.group(1), parcel_number=number).exists()
    code = re.search(r'<textarea id="payload"[^>]*>([^<]+)</textarea>', html)
    assert code and code.group(1).startswith("GOV21L:")
    assert b'data-status="valid"' in Client().post("/verify", {"payload": code.group(1)}).content
    signed = [u for u in data_uses_for(subject=registered.uin) if u["path"] == f"/parcels/{number}/extracts"]
    assert signed and signed[0]["purpose"] == "Give you a signed extract of the title of your land"

    stranger = Client()
    portal_sign_in(stranger, other, next_url="/my/property")
    assert stranger.post(f"/my/property/{number}/extract").status_code == 404
    assert stranger.get(f"/my/property/{number}/extract").status_code == 405
    assert Extract.objects.filter(parcel_number=number).count() == 1
