"""The public verification page as a person checking a document uses it: a phone's camera opens it
from the QR code already filled in; someone without a camera types the printed serial number and
the holder's date of birth; the verdict is in the reader's language."""

from __future__ import annotations

import io
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
import zxingcpp
from django.conf import settings
from django.test import Client
from django.utils import timezone
from PIL import Image

from gov21.audit.models import AccessRecord
from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import Certificate, LifeEvent
from tests.identity.flows import portal_sign_in, staff
from tests.registry.factories import register_person
from tests.registry.test_certificates_pdf import _decode, _pdf_text, _qr_modules_from_pdf, _rasterise

pytestmark = pytest.mark.django_db
BORN = date(2001, 4, 5)


def _certificate(registrar: Principal, given: str = "Ophelia", born: date = BORN) -> Certificate:
    person = register_person(registrar, given=given, family="Auguste", born=born)
    event = LifeEvent.objects.get(subject=person, kind="birth")
    return services.certificate_issue(event_id=event.pk, actor=registrar)


def _lookup(client: Client, serial: str, born: date) -> tuple[int, str]:
    form = {"serial": serial, "birth_date_day": born.day, "birth_date_month": born.month, "birth_date_year": born.year}
    response = client.post("/verify", form)
    return response.status_code, response.content.decode()


def _verdict(page: str) -> str:
    start = page.index('id="verdict"')
    return page[start : page.index("</div>", start)]


def test_the_qr_code_opens_the_page_filled_in_and_the_check_is_made_without_javascript(
    client: Client, registrar: Principal
) -> None:
    certificate = _certificate(registrar)
    portal_sign_in(client, staff("desk.one", "registrar"), next_url="/office/registry/")
    png = client.get(f"/office/registry/certificates/{certificate.serial}/qr.png").content
    scanned = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))[0].text
    assert scanned.startswith(f"{settings.BASE_URL}/verify?code=GOV21:")
    address = urlsplit(scanned)
    page = Client().get(f"{address.path}?{address.query}").content.decode()
    verdict = _verdict(page)
    assert 'data-status="valid"' in verdict and "Genuine and valid" in verdict
    assert "Certificate of Birth" in verdict and "Ophelia Auguste" in verdict and certificate.serial in verdict
    assert "<script" not in page


def test_the_printed_certificate_holds_the_same_address(registrar: Principal) -> None:
    from gov21.registry.certificates import certificate_pdf

    certificate = _certificate(registrar)
    pdf = certificate_pdf(certificate)
    scanned = _decode(_rasterise(_qr_modules_from_pdf(pdf)))
    assert scanned == f"{settings.BASE_URL}/verify?code=GOV21:{certificate.credential}"
    text = _pdf_text(pdf)
    assert "Serial number" in text and certificate.serial in text and "date of birth" in text


def test_a_pasted_address_or_code_is_checked_and_a_changed_one_is_not_genuine(registrar: Principal) -> None:
    certificate = _certificate(registrar)
    client = Client()
    pasted = client.post(
        "/verify", {"payload": f"https://elsewhere.example/verify?code=GOV21:{certificate.credential}"}
    )
    assert 'data-status="valid"' in pasted.content.decode()
    broken = (
        certificate.credential[:-5] + ("A" if certificate.credential[-5] != "A" else "B") + certificate.credential[-4:]
    )
    page = client.get("/verify", {"code": f"GOV21:{broken}"}).content.decode()
    assert 'data-status="tampered"' in page and "Not genuine" in page and "Ophelia" not in page


def test_the_hint_names_the_prefixes_documents_really_carry(client: Client) -> None:
    page = client.get("/verify").content.decode()
    assert "GOV21:" in page and "GOV21D:" in page


def test_a_serial_typed_into_the_code_box_is_answered_with_the_way_to_check_it(
    client: Client, registrar: Principal
) -> None:
    certificate = _certificate(registrar)
    page = client.post("/verify", {"payload": certificate.serial}).content.decode()
    assert "Not genuine" not in page and "data-status" not in page
    assert "This is a serial number, not the code" in page
    assert f'value="{certificate.serial}"' in page  # carried into the serial number form


def test_the_serial_number_and_date_of_birth_check_a_certificate_without_a_camera(
    client: Client, registrar: Principal
) -> None:
    certificate = _certificate(registrar)
    status, page = _lookup(client, certificate.serial.lower(), BORN)
    assert status == 200
    verdict = _verdict(page)
    assert 'data-status="valid"' in verdict and "Ophelia Auguste" in verdict
    # The registration number printed under the title finds the same certificate.
    _, by_number = _lookup(client, str(certificate.event.number), BORN)
    assert certificate.serial in _verdict(by_number)


def test_a_wrong_pair_says_only_no_such_document(client: Client, registrar: Principal) -> None:
    certificate = _certificate(registrar)
    _, wrong_birth = _lookup(client, certificate.serial, date(2001, 4, 6))
    _, unknown_serial = _lookup(client, "BC-2026-0000000000", BORN)
    assert 'data-status="not_found"' in wrong_birth and "No such document" in wrong_birth
    assert _verdict(wrong_birth) == _verdict(unknown_serial)
    assert "Ophelia" not in wrong_birth and "Ophelia" not in unknown_serial


def test_every_lookup_is_logged_against_the_holder_when_found(client: Client, registrar: Principal) -> None:
    certificate = _certificate(registrar)
    holder = certificate.event.subject
    assert holder is not None
    _lookup(client, certificate.serial, BORN)
    _lookup(client, certificate.serial, date(1999, 1, 1))
    records = list(AccessRecord.objects.filter(action="document.lookup").order_by("pk"))
    assert [(r.subject, r.detail["found"]) for r in records] == [(holder.uin, True), ("", False)]
    assert all(r.detail["serial"] == certificate.serial for r in records)


def test_guessing_the_date_of_birth_is_stopped(client: Client, registrar: Principal) -> None:
    certificate = _certificate(registrar)
    statuses = [_lookup(client, certificate.serial, date(1990, 1, day))[0] for day in range(1, 7)]
    assert statuses == [200] * 5 + [429]
    status, page = _lookup(client, certificate.serial, BORN)  # even the right date waits now
    assert status == 429 and "Wait" in page and "Ophelia" not in page


def test_a_revoked_certificate_says_so_by_serial_too(client: Client, registrar: Principal) -> None:
    certificate = _certificate(registrar)
    services.certificate_revoke(serial=certificate.serial, reason="Issued in error", actor=registrar)
    _, page = _lookup(client, certificate.serial, BORN)
    verdict = _verdict(page)
    assert 'data-status="revoked"' in verdict and "Issued in error" in verdict


def test_missing_answers_are_listed_next_to_their_fields(client: Client) -> None:
    response = client.post("/verify", {"serial": ""})
    page = response.content.decode()
    assert response.status_code == 200 and "There is a problem" in page
    assert "Enter the serial number printed on the document" in page
    assert 'href="#serial"' in page and "data-status" not in page


@pytest.mark.parametrize(
    ("language", "heading", "label"),
    [
        ("es", "Auténtico y válido", "Fecha de nacimiento"),
        ("fr", "Authentique et valide", "Date de naissance"),
        ("nl", "Echt en geldig", "Geboortedatum"),
    ],
)
def test_the_verdict_title_and_labels_are_in_the_readers_language(
    registrar: Principal, language: str, heading: str, label: str
) -> None:
    certificate = _certificate(registrar)
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    page = client.get("/verify", {"code": f"GOV21:{certificate.credential}"}).content.decode()
    verdict = _verdict(page)
    assert heading in verdict and label in verdict and "Certificate of Birth" not in verdict


def _registered(registrar: Principal, kind: str, data: dict[str, str]) -> LifeEvent:
    event = services.event_declare(declaration=services.declaration_parse(kind=kind, data=data), actor=registrar)
    services.event_validate(event_id=event.pk, actor=registrar)
    return services.event_register(event_id=event.pk, actor=registrar)


def test_every_certificate_is_headed_by_the_registry_and_names_each_fact_once(registrar: Principal) -> None:
    from gov21.registry.certificates import certificate_pdf

    a = register_person(registrar, given="Ruth", born=date(1990, 1, 1))
    b = register_person(registrar, given="Jon", sex="M", born=date(1988, 6, 6))
    old = register_person(registrar, given="Albert", sex="M", born=date(1930, 3, 3))
    recently = (timezone.localdate() - timedelta(days=3)).isoformat()
    events = {
        "Certificate of Birth": LifeEvent.objects.get(subject=a, kind="birth"),
        "Certificate of Marriage": _registered(
            registrar, "marriage", {"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": recently, "parish": "XA-01"}
        ),
        "Certificate of Death": _registered(registrar, "death", {"uin": old.uin, "death_date": recently}),
    }
    for title, event in events.items():
        certificate = services.certificate_issue(event_id=event.pk, actor=registrar)
        text = _pdf_text(certificate_pdf(certificate))
        assert "Republic of XA — Civil Registry" in text and title in text
        assert f"Registration number {event.number}" in text
        labels = [str(label) for label, _ in certificate.facts]
        assert len(labels) == len(set(labels)), labels
        assert text.count("Serial number") == 1
    marriage = Certificate.objects.get(kind="marriage")
    assert [label for label, _ in marriage.facts][:2] == ["First party", "Second party"]
