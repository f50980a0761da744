"""The citizen's pages list every use of their data that an agency received through the exchange."""

from __future__ import annotations

import re

from django.test import Client

from gov21.exchange.contracts import exchange_call
from gov21.identity.services import account_activate, activation_code_issue
from gov21.wiring.up import DEMO_OFFICER
from tests.identity.flows import OFFICER, PASSWORD, Person, citizen, portal_sign_in, with_totp
from tests.registry.factories import register_person

PERSONS = "XA/GOV/CRO/civil-registry/persons"


def _rows(html: str) -> list[str]:
    table = re.search(r'<table id="exchange-uses"[^>]*>(.*?)</table>', html, re.S)
    assert table, html[-1500:]
    rows = re.findall(r"<tbody>(.*)</tbody>", table.group(1), re.S)[0].split("</tr>")
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row)).strip() for row in rows if row.strip()]


def _said(html: str) -> list[str]:
    """The rows as a person reads them before opening any technical details."""
    return _rows(re.sub(r"<details>.*?</details>", " ", html, flags=re.S))


def test_a_read_by_an_agency_is_listed_for_the_citizen_newest_first(db: None, client: Client) -> None:
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
    said_newest, said_sign_in, said_counter = _said(html)
    assert "Ministry of Social Development" in newest
    assert "Official XA-officer-3" in newest and "Benefit claim 17" in newest
    what = "Your record in the civil registry: name, date of birth, address and family status"
    assert f"{what}, from the Civil Registration Office" in said_newest
    assert "National Identity Agency" in sign_in and "No official: you signed in to a service" in said_sign_in
    assert "Sign you in to the public services portal" in said_sign_in
    assert "National Identity Agency" in counter and "Identity check at the counter" in counter
    # The identifiers stay one click away, in a disclosure that works without JavaScript.
    for row in (said_newest, said_sign_in, said_counter):
        for raw in ("oidc:", f"GET /{person.identifier}", "XA/GOV/", "uses:"):
            assert raw not in row, (raw, row)
    assert f"GET /{person.identifier}" in newest.split("Technical details")[1]
    assert "oidc:gov21-portal" in sign_in.split("Technical details")[1]
    assert html.count("<details>") == 3 and "<summary>Technical details</summary>" in html


def test_the_access_log_on_the_account_page_says_what_was_done_in_words(db: None, client: Client) -> None:
    person = citizen()
    portal_sign_in(client, person)

    table = re.search(r'<table id="data-use"[^>]*>(.*?)</table>', client.get("/my/").content.decode(), re.S)
    assert table is not None
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", table.group(1)))
    said = re.sub(
        r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<details>.*?</details>", " ", table.group(1), flags=re.S))
    )

    assert "National Identity Agency" in said and "Read your record in the civil registry" in said
    assert "person.read" not in said and "exchange:" not in said
    assert "Registered a birth that names you" in text and "register.birth" in text


def test_the_uses_are_told_in_the_persons_language(db: None, client: Client) -> None:
    person = citizen()
    portal_sign_in(client, person)
    client.cookies["django_language"] = "es"

    said = _said(client.get("/my/data-uses", HTTP_ACCEPT_LANGUAGE="es").content.decode())

    # The sign-in's read, then the counter's identity check, each in Spanish words.
    assert "Agencia Nacional de Identidad" in said[0] and "Oficina del Registro Civil" in said[0]
    assert "Su registro en el registro civil" in said[0]
    assert "Iniciar su sesión en el portal de servicios públicos" in said[0]
    assert "Comprobación de identidad en la ventanilla para activar una identidad digital" in said[1]


def test_a_citizen_whose_data_no_agency_received_since_activation_sees_only_the_counters_check(
    db: None,
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


def test_the_page_asks_for_sign_in_first(db: None, client: Client) -> None:
    response = client.get("/my/data-uses")

    assert response.status_code == 302 and response["Location"].startswith("/sign-in?")


def test_the_demo_counter_is_named_in_words_in_the_persons_language(db: None, client: Client) -> None:
    uin = register_person(OFFICER).uin
    code = activation_code_issue(uin=uin, officer=DEMO_OFFICER)
    person = with_totp(Person(uin, PASSWORD, "", account_activate(uin=uin, code=code, password=PASSWORD, source="t")))
    portal_sign_in(client, person)
    assert "Civil registry counter (demo)" in _said(client.get("/my/data-uses").content.decode())[-1]

    client.cookies["django_language"] = "es"
    html = client.get("/my/data-uses", HTTP_ACCEPT_LANGUAGE="es").content.decode()
    assert "Ventanilla del registro civil (demostración)" in _said(html)[-1]
    assert "demo counter" not in html and "gov21 up" not in html
