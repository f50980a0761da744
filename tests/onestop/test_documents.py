"""The documents the service engine issues, as their holder and the person checking them see them:
each headed by its issuing authority and numbered as its kind is, each fact once, checkable from
its QR code or by serial number and date of birth, titled and labelled in the reader's language."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone, translation

from gov21.core.principal import Principal
from gov21.onestop import definitions, documents, registers
from gov21.onestop import services as engine
from gov21.onestop.models import Application, Document
from tests.identity.flows import citizen, portal_sign_in
from tests.registry.factories import register_person
from tests.registry.test_certificates_pdf import _decode, _pdf_text, _qr_modules_from_pdf, _rasterise

pytestmark = pytest.mark.django_db
REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))
BORN = date(1980, 5, 1)


@pytest.fixture(autouse=True)
def _nation(exchange: None) -> None:
    definitions.definitions_load()


def _renewed_licence(uin: str) -> tuple[Document, str]:
    licence = registers.licence_issue(uin=uin, issued_on=date(2016, 1, 1))
    application = engine.application_start(service="renew-driving-licence", uin=uin, user_id=None)
    application = engine.application_consent(application=application, uin=uin)
    for question, value in {"licence_number": licence.number, "health": "no"}.items():
        application = engine.application_answer(application=application, uin=uin, question_id=question, raw=value)
    application = engine.application_submit(application=application, uin=uin)
    assert application.state == Application.State.COMPLETED
    return Document.objects.get(application=application), licence.number


def _lookup(client: Client, serial: str, born: date) -> str:
    form = {"serial": serial, "birth_date_day": born.day, "birth_date_month": born.month, "birth_date_year": born.year}
    return client.post("/verify", form).content.decode()


def test_the_licence_is_headed_by_the_licensing_authority_and_numbered_by_its_licence_number() -> None:
    driver = register_person(REGISTRAR, given="Delroy", born=BORN)
    document, number = _renewed_licence(driver.uin)
    text = _pdf_text(documents.document_pdf(document=document))
    assert f"{settings.GOV21_COUNTRY_NAME} — Licensing and Transport Authority" in text
    assert "Civil Registry" not in text and "Registration number" not in text and "licensing." not in text
    assert "Driving licence" in text and f"Licence number {number}" in text
    assert text.count(number) == 2  # under the title, and in the footer; not again among the facts
    assert text.count("Valid until") == 1 and f"Serial number\n{document.serial}" in text
    assert "Holder" in text and "Delroy" in text


def test_the_licence_is_printed_in_the_language_of_its_reader_and_its_code_is_the_same() -> None:
    driver = register_person(REGISTRAR, given="Delroy", born=BORN)
    document, number = _renewed_licence(driver.uin)
    with translation.override("fr"):
        pdf = documents.document_pdf(document=document)
    text = _pdf_text(pdf)
    assert f"{settings.GOV21_COUNTRY_NAME} — Autorité des permis et des transports" in text
    assert "Permis de conduire" in text and f"Numéro de permis {number}" in text
    assert "Valable jusqu'au" in text and "Statut" in text and "Délivré le" in text
    for english in ("Driving licence", "Licensing and Transport Authority", "Valid until", "Issued on", "Status"):
        assert english not in text, english
    english = documents.document_pdf(document=document)
    scanned = {_decode(_rasterise(_qr_modules_from_pdf(copy))) for copy in (pdf, english)}
    assert scanned == {f"{settings.BASE_URL}/verify?code={documents.QR_PREFIX}{document.credential}"}


def test_the_licence_qr_opens_the_verification_page_filled_in() -> None:
    driver = register_person(REGISTRAR, born=BORN)
    document, _ = _renewed_licence(driver.uin)
    scanned = _decode(_rasterise(_qr_modules_from_pdf(documents.document_pdf(document=document))))
    assert scanned == f"{settings.BASE_URL}/verify?code=GOV21D:{document.credential}"
    page = Client().get("/verify", {"code": f"GOV21D:{document.credential}"}).content.decode()
    assert 'data-status="valid"' in page and "Driving licence" in page and document.serial in page


@pytest.mark.parametrize(
    ("kind", "agency", "title", "authority"),
    [
        ("driving-licence", "licensing", "Driving licence", "Licensing and Transport Authority"),
        (
            "business-registration",
            "business-register",
            "Certificate of registration of a business name",
            "Business Registration Authority",
        ),
        ("child-benefit-award", "benefits", "Child benefit award", "Ministry of Social Development"),
        ("marriage-notice", "civil-registry", "Notice of intended marriage", "Civil Registry"),
    ],
)
def test_every_kind_of_document_is_headed_by_its_authority_with_each_fact_once(
    kind: str, agency: str, title: str, authority: str
) -> None:
    facts = [("Holder", "Ann Joseph"), ("National identity number", "2345678901")]
    facts += {
        "driving-licence": [("Licence number", "DL-123456"), ("Classes", "B")],
        "business-registration": [("Business name", "Ann's Bakery"), ("Business registration number", "BN-2026-7")],
        "child-benefit-award": [("Child", "Lea Joseph"), ("Weekly amount", "25.00")],
        "marriage-notice": [("Partner", "3456789012"), ("Intended date", "2027-01-02")],
    }[kind]
    document = documents.document_issue(
        application=None,
        kind=kind,
        title="whatever the service called it",
        holder_uin="2345678901",
        agency=agency,
        facts=facts,
        valid_until=timezone.localdate() + timedelta(days=365),
    )
    text = _pdf_text(documents.document_pdf(document=document))
    assert f"{settings.GOV21_COUNTRY_NAME} — {authority}" in text and title in text
    assert "whatever the service called it" not in text
    labels = [label for label, _ in facts] + ["Serial number", "Valid until", "Status"]
    for label in labels:
        assert len(re.findall(rf"^{re.escape(label)}$", text, re.MULTILINE)) <= 1, label
    numbered = {
        "driving-licence": "Licence number DL-123456",
        "business-registration": "Business registration number BN-2026-7",
    }
    assert numbered.get(kind, f"Serial number {document.serial}") in text


def test_a_licence_is_checked_by_serial_number_and_date_of_birth_in_spanish() -> None:
    driver = register_person(REGISTRAR, given="Delroy", born=BORN)
    document, number = _renewed_licence(driver.uin)
    client = Client(HTTP_ACCEPT_LANGUAGE="es")
    page = _lookup(client, document.serial, BORN)
    assert 'data-status="valid"' in page and "Auténtico y válido" in page
    assert "Permiso de conducir" in page and "Titular" in page and "Número de permiso" in page and number in page
    wrong = _lookup(client, document.serial, BORN + timedelta(days=1))
    assert 'data-status="not_found"' in wrong and "Delroy" not in wrong
    # The licence number, printed largest, finds the same document.
    by_number = _lookup(client, number.lower(), BORN)
    assert 'data-status="valid"' in by_number and document.serial in by_number
    assert 'data-status="not_found"' in _lookup(client, number, BORN + timedelta(days=1))


def test_an_expired_document_says_so_with_what_it_stated() -> None:
    document = documents.document_issue(
        application=None,
        kind="marriage-notice",
        title="Notice of intended marriage",
        holder_uin="2345678901",
        agency="civil-registry",
        facts=[("Holder", "Ann Joseph")],
        valid_until=timezone.localdate() - timedelta(days=1),
    )
    page = Client().get("/verify", {"code": f"GOV21D:{document.credential}"}).content.decode()
    assert 'data-status="expired"' in page and "Genuine, but expired" in page and "Ann Joseph" in page


def test_the_holders_page_shows_each_fact_once_with_the_title_in_their_language(client: Client) -> None:
    person = citizen(born=BORN)
    document, _ = _renewed_licence(person.identifier)
    portal_sign_in(client, person)
    page = client.get(f"/my/documents/{document.serial}").content.decode()
    assert page.count("Valid until") == 1
    french = Client(HTTP_ACCEPT_LANGUAGE="fr")
    portal_sign_in(french, person)
    page = french.get(f"/my/documents/{document.serial}").content.decode()
    assert "Permis de conduire" in page and "Titulaire" in page and "Driving licence" not in page
