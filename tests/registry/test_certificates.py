from __future__ import annotations

import io
import json
from datetime import date
from pathlib import Path

import pytest
import zxingcpp
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from PIL import Image

from gov21.core.credentials import verification_url
from gov21.core.pdf import render_qr_png
from gov21.core.principal import Principal
from gov21.registry import selectors, services
from gov21.registry.certificates import QR_PREFIX
from gov21.registry.keys import registry_keys
from gov21.registry.models import LifeEvent
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _birth_certificate(
    registrar: Principal, given: str = "Ophelia", born: date = date(2001, 4, 5)
) -> tuple[LifeEvent, str]:
    person = register_person(registrar, given=given, born=born)
    event = LifeEvent.objects.get(subject=person, kind="birth")
    certificate = services.certificate_issue(event_id=event.pk, actor=registrar)
    return event, certificate.credential


def test_qr_verifies_offline_with_only_the_published_jwks(registrar: Principal, tmp_path: Path) -> None:
    _, credential = _birth_certificate(registrar)
    png = render_qr_png(verification_url(QR_PREFIX + credential), scale=4)
    (tmp_path / "qr.png").write_bytes(png)
    scanned = zxingcpp.read_barcodes(Image.open(tmp_path / "qr.png"))[0].text
    jwks = Client().get("/.well-known/jwks.json").json()
    (tmp_path / "jwks.json").write_text(json.dumps(jwks))
    out = io.StringIO()
    call_command("verify_certificate", scanned, jwks=tmp_path / "jwks.json", stdout=out)
    assert "GENUINE" in out.getvalue() and "Ophelia" in out.getvalue()
    tampered = scanned[:-10] + ("x" if scanned[-10] != "x" else "y") + scanned[-9:]
    with pytest.raises(CommandError, match="NOT GENUINE"):
        call_command("verify_certificate", tampered, jwks=tmp_path / "jwks.json", stdout=io.StringIO())


def test_revoked_and_superseded_certificates_say_so(registrar: Principal) -> None:
    event, first = _birth_certificate(registrar)
    second = services.certificate_issue(event_id=event.pk, actor=registrar)
    assert selectors.certificate_verify(payload=first).status == "superseded"
    assert selectors.certificate_verify(payload=second.credential).status == "valid"
    services.certificate_revoke(serial=second.serial, reason="Issued in error", actor=registrar)
    result = selectors.certificate_verify(payload=second.credential)
    assert result.status == "revoked" and "Issued in error" in result.message


def test_rotated_keys_keep_old_certificates_verifiable(registrar: Principal) -> None:
    _, before = _birth_certificate(registrar)
    registry_keys().rotate()
    _, after = _birth_certificate(registrar, given="Leopold", born=date(1999, 9, 9))
    assert selectors.certificate_verify(payload=before).status == "valid"
    assert selectors.certificate_verify(payload=after).status == "valid"
    kids = {k["kid"] for k in Client().get("/.well-known/jwks.json").json()["keys"]}
    assert len(kids) >= 2


def test_verify_page_shows_valid_and_tampered(registrar: Principal) -> None:
    _, credential = _birth_certificate(registrar)
    client = Client()
    page = client.post("/verify", {"payload": QR_PREFIX + credential})
    assert page.status_code == 200 and b'data-status="valid"' in page.content
    broken = credential[:30] + ("Q" if credential[30] != "Q" else "R") + credential[31:]
    page = client.post("/verify", {"payload": broken})
    assert b'data-status="tampered"' in page.content
    empty = client.post("/verify", {"payload": ""})
    assert empty.status_code == 200 and b"Paste the text" in empty.content
    garbled = client.post("/verify", {"payload": QR_PREFIX + "\x1b" + credential})
    assert b"characters we cannot accept" in garbled.content and b"data-status" not in garbled.content


def test_uin_pool_task_refills_the_pool() -> None:
    from gov21.registry.tasks import uin_pool_top_up
    from gov21.registry.uin_pool import uin_pool_size

    assert uin_pool_size() == 0
    added = uin_pool_top_up.call()
    assert added > 0 and uin_pool_size() == added


def test_reading_a_certificate_is_recorded_against_the_person(registrar: Principal) -> None:
    from gov21.audit.models import AccessRecord

    event, _ = _birth_certificate(registrar, given="Theodora", born=date(1995, 2, 3))
    serial = event.certificates.get().serial
    selectors.certificate_get(serial=serial, actor=registrar)
    assert event.subject is not None
    record = AccessRecord.objects.filter(action="certificate.read", subject=event.subject.uin).get()
    assert record.actor == registrar.name and record.detail == {"serial": serial}
