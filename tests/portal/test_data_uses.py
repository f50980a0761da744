"""The citizen's pages list every use of their data that an agency received through the exchange."""

from __future__ import annotations

import re

from django.test import Client

from gov21.exchange.contracts import exchange_call
from tests.identity.flows import citizen, portal_sign_in

PERSONS = "XA/GOV/CRO/civil-registry/persons"


def _rows(html: str) -> list[str]:
    table = re.search(r'<table id="exchange-uses"[^>]*>(.*?)</table>', html, re.S)
    assert table, html[-1500:]
    rows = re.findall(r"<tbody>(.*)</tbody>", table.group(1), re.S)[0].split("</tr>")
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows if row.strip()]


def test_a_read_by_an_agency_is_listed_for_the_citizen_newest_first(client: Client) -> None:
    person = citizen()
    portal_sign_in(client, person)
    result = exchange_call(
        client="XA/GOV/MSD/benefits",
        service=PERSONS,
        path=f"/{person.identifier}",
        issue="Benefit claim 17",
        user_id="XA-officer-3",
    )
    assert result.status == 200

    account = client.get("/my/").content.decode()
    page = client.get("/my/data-uses")

    assert 'href="/my/data-uses"' in account
    assert "Ministry of Social Development" in _rows(account)[0]
    assert page.status_code == 200
    html = page.content.decode()
    assert "<caption>" in html and '<th scope="col">' in html
    # Newest first: the agency's read, the sign-in, and the counter's identity check at activation.
    newest, sign_in, counter = _rows(html)
    assert "Ministry of Social Development" in newest
    assert "XA-officer-3" in newest and "Benefit claim 17" in newest
    assert "Persons in the civil registry" in newest and f"GET /{person.identifier}" in newest
    assert "National Identity Agency" in sign_in and "oidc:gov21-portal" in sign_in
    assert "National Identity Agency" in counter and "Identity check at the counter" in counter


def test_a_citizen_whose_data_no_agency_received_since_activation_sees_only_the_counters_check(
    client: Client,
) -> None:
    person = citizen()
    client.force_login(person.account.user)
    session = client.session
    session["gov21_rp"] = {"sub": "x", "acr": "", "id_token": "", "name": ""}
    session.save()

    rows = _rows(client.get("/my/data-uses").content.decode())

    # The officer who handed over the activation code read the record through the exchange, and says why.
    assert len(rows) == 1 and "Identity check at the counter to activate a digital ID" in rows[0]


def test_the_page_asks_for_sign_in_first(client: Client) -> None:
    response = client.get("/my/data-uses")

    assert response.status_code == 302 and response["Location"].startswith("/sign-in?")
