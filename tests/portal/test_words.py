"""What a person reads about their account, profile and sharing is in words, in their language,
never the platform's codes."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from gov21.onestop import definitions, registers
from tests.identity.flows import citizen, idp_sign_in, portal_sign_in

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _services() -> None:
    definitions.definitions_load()


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", re.sub(r"<details>.*?</details>", " ", html, flags=re.S)))


def _activity(html: str) -> str:
    found = re.search(r"Recent activity|Actividad reciente|Activité récente|Recente activiteit", html)
    assert found, html[-2000:]
    return _text(html[found.start() :])


def test_account_activity_is_told_as_sentences(client: Client) -> None:
    person = citizen()
    client.post("/auth/sign-in", {"identifier": person.identifier, "password": "not the password at all"})
    idp_sign_in(client, person)

    said = _activity(client.get("/auth/account").content.decode())

    assert "You signed in" in said
    assert "Someone tried to sign in to your account and failed" in said
    assert "Your digital ID was activated" in said
    assert "An officer gave out a code to activate your digital ID" in said
    for code in ("sign_in", "sign_in_failed", "account_activated", "activation_code_issued", "factor_added"):
        assert code not in said


def test_account_activity_and_level_are_in_the_persons_language(client: Client) -> None:
    person = citizen()
    idp_sign_in(client, person)
    client.cookies["django_language"] = "es"

    html = client.get("/auth/account", HTTP_ACCEPT_LANGUAGE="es").content.decode()

    assert "sustancial: inició sesión" in html and "substantial" not in html
    assert "Ha iniciado sesión" in _activity(html)


def test_profile_values_and_sources_are_words_in_the_persons_language(client: Client) -> None:
    person = citizen(born=date(1985, 6, 1))
    registers.licence_issue(uin=person.identifier, issued_on=date(2020, 6, 1))
    portal_sign_in(client, person)

    english = _text(client.get("/my/profile").content.decode())
    client.cookies["django_language"] = "es"
    spanish = _text(client.get("/my/profile", HTTP_ACCEPT_LANGUAGE="es").content.decode())

    assert "Never married" in english and "single" not in english
    assert "1 June 1985" in english and "1985-06-01" not in english
    assert "Source: Civil Registration Office" in english and "CRO/civil-registry" not in english
    assert "Nunca ha estado casado/a" in spanish and "Never married" not in spanish
    assert "Autoridad de Licencias y Transporte" in spanish and "Oficina del Registro Civil" in spanish
    licence = spanish.split("DL-")[1].split("Fuente")[0]
    assert "Válido" in licence and "valid" not in licence and "2030-06-01" not in licence
    assert "1 junio 2030" in licence


def test_what_the_person_shares_with_the_portal_is_told_in_their_language(client: Client) -> None:
    person = citizen()
    portal_sign_in(client, person)
    client.cookies["django_language"] = "fr"

    html = client.get("/my/", HTTP_ACCEPT_LANGUAGE="fr").content.decode()
    table = re.search(r'<table id="consents"[^>]*>(.*?)</table>', html, re.S)
    assert table is not None
    said = _text(table.group(1))

    assert "Portail des services publics" in said
    assert "Vous connecter au portail des services publics et vous montrer votre compte" in said
    assert "Votre nom, votre date de naissance et votre sexe" in said
    assert "openid" not in said  # the scopes themselves stay behind the technical details
    assert "<code>openid, profile</code>" in table.group(1)


def test_my_consents_names_the_facts_and_the_data_shared_in_words(client: Client) -> None:
    person = citizen(born=date(1985, 6, 1))
    registers.licence_issue(uin=person.identifier, issued_on=date(2020, 6, 1))
    portal_sign_in(client, person)
    reference = str(client.post("/services/renew-driving-licence/start")["Location"]).split("/apply/")[1].split("/")[0]
    client.post(f"/apply/{reference}/consent", {"agree": "yes"})
    client.cookies["django_language"] = "nl"

    said = _text(client.get("/my/consents", HTTP_ACCEPT_LANGUAGE="nl").content.decode())

    assert "Uw naam, geboortedatum en adres uit de burgerlijke stand" in said
    assert "Uw rijbewijzen bij de Dienst Vergunningen en Vervoer" in said
    assert "Portaal voor overheidsdiensten" in said and "Uw naam, geboortedatum en geslacht" in said
    for code in ("person, licences", "openid", "profile"):
        assert code not in said


def test_a_purpose_the_platform_wrote_is_read_in_the_readers_language() -> None:
    from django.utils import translation

    from gov21.portal.uses import purpose_words

    with translation.override("es"):
        assert purpose_words("Offer the parents the services a birth brings (B-2026-000001)") == (
            "Ofrecer a los padres los servicios que trae un nacimiento (B-2026-000001)"
        )
        # The state's name too: the agency of gov21's own portal.
        assert (
            purpose_words("Republic of XA: Show you your own profile") == "República de XA: Mostrarle su propio perfil"
        )
        assert purpose_words("Benefit claim 17") == "Benefit claim 17"  # an agency's own words, as sent
        assert purpose_words("") == "No se indicó ningún motivo"
