"""A document is read in the language of the person who downloads it: a parent who declared a
birth in the portal gets the certificate's PDF in Spanish (title, labels, authority, fixed texts and
the coded values spelt out), its code still verifies, and the list of documents says whose
certificate each one is."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone, translation

from gov21.core.principal import Principal
from gov21.exchange.pubsub import deliveries_run
from gov21.onestop import definitions
from gov21.onestop.models import Application, Document
from gov21.registry import services as registry
from gov21.registry.certificates import place_words, sex_words
from gov21.registry.models import Certificate, LifeEvent
from gov21.registry.selectors import certificate_verify
from tests.identity.flows import citizen, portal_sign_in
from tests.portal.test_journeys import _answer, _day, _start
from tests.registry.test_certificates_pdf import _decode, _pdf_text, _qr_modules_from_pdf, _rasterise

pytestmark = pytest.mark.django_db
REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))


@pytest.fixture
def parent(client: Client) -> str:
    """A mother signed in whose declared daughter is registered: the serial of the certificate the
    registry gave her."""
    definitions.definitions_load()
    mother = citizen(born=date(1994, 2, 2))
    portal_sign_in(client, mother)
    reference = _start(client, "declare-birth")
    answers: dict[str, str | dict[str, str]] = {
        "given_names": "Aline",
        "family_name": "Charles",
        "sex": "F",
        "birth_date": _day(timezone.localdate() - timedelta(days=2)),
        "birth_parish": "XA-04",
        "birth_settlement": "",
        "parent_role": "mother",
        "other_parent_uin": "",
        "email": "",
    }
    _answer(client, reference, answers)
    client.post(f"/apply/{reference}/check")
    event = LifeEvent.objects.get(pk=int(Application.objects.get(reference=reference).external_ref))
    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    registry.event_register(event_id=event.pk, actor=REGISTRAR)
    deliveries_run()
    return Document.objects.get(holder_uin=mother.identifier, kind="birth-certificate").serial


def test_the_certificate_pdf_is_in_spanish_and_its_code_still_verifies(client: Client, parent: str) -> None:
    client.cookies["django_language"] = "es"
    pdf = client.get(f"/my/documents/{parent}/pdf", HTTP_ACCEPT_LANGUAGE="es")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    text = _pdf_text(pdf.content)
    for spanish in (
        "Certificado de nacimiento",
        "Registro Civil",
        "Número de inscripción",
        "Sexo",
        "Femenino",
        "Lugar de nacimiento",
        "Windward",  # the parish, named rather than coded (XA-04)
        "Número de serie",
        "Expedido el",
        "página 1 de 1",
    ):
        assert spanish in text, f"{spanish!r} not in {text}"
    for english in ("Certificate of Birth", "Registration number", "Date of birth", "Female", "Issued on", "XA-04"):
        assert english not in text, f"{english!r} in {text}"
    assert b"/Lang (es)" in pdf.content

    # What was signed holds codes, not words: the code printed on the Spanish copy verifies.
    scanned = _decode(_rasterise(_qr_modules_from_pdf(pdf.content)))
    certificate = Certificate.objects.get(serial=parent)
    assert scanned.endswith(f"code=GOV21:{certificate.credential}")
    assert ["Sex", "F"] in certificate.facts
    with translation.override("en"):
        verdict = certificate_verify(payload=scanned)
    assert verdict.status == "valid" and verdict.serial == parent
    assert ["Sex", "Female"] in verdict.facts and ["Place of birth", "Windward"] in verdict.facts

    client.cookies["django_language"] = "en"
    english = _pdf_text(client.get(f"/my/documents/{parent}/pdf", HTTP_ACCEPT_LANGUAGE="en").content)
    assert "Certificate of Birth" in english and "Female" in english and "Certificado" not in english


def test_my_documents_says_whose_certificate_each_is(client: Client, parent: str) -> None:
    listed = client.get("/my/documents").content.decode()
    assert "Certificate of Birth — Aline Charles" in listed
    page = client.get(f"/my/documents/{parent}").content.decode()
    assert "Certificate of Birth — Aline Charles" in page


def test_a_certificate_issued_before_codes_were_stored_reads_in_the_readers_words_too() -> None:
    with translation.override("es"):
        assert sex_words("F") == sex_words("Female") == "Femenino"
        assert place_words("Rosehall, XA-01") == "Rosehall, Port Clement" and place_words("—") == "—"
        assert sex_words("not a sex") == "not a sex"
