"""Certificate documents: the printable PDF with its QR code, in the layout every issued document
shares (``gov21.core.pdf``) under the civil registry's own header and titles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from django.conf import settings
from django.utils import timezone

from gov21.core.pdf import render_document_pdf
from gov21.registry.models import Certificate

QR_PREFIX = "GOV21:"
COUNTRY_LINE: Final = "Republic of XA — Civil Registry"
TITLES: Final = {
    "birth": "Certificate of Birth",
    "marriage": "Certificate of Marriage",
    "death": "Certificate of Death",
}


def render_certificate_pdf(
    *,
    kind: str,
    number: str,
    facts: Sequence[tuple[str, str]],
    qr_payload: str,
    issued_on: date,
    issuer: str,
    verify_url: str,
) -> bytes:
    """A civil-status certificate; ``kind`` is "birth", "marriage" or "death" and gives its title."""
    title = TITLES.get(kind.strip().lower())
    if title is None:
        raise ValueError(f"kind must be one of {sorted(TITLES)}, got {kind!r}")
    return render_document_pdf(
        header=COUNTRY_LINE,
        title=title,
        number=number,
        facts=facts,
        qr_payload=qr_payload,
        issued_on=issued_on,
        issuer=issuer,
        verify_url=verify_url,
    )


def certificate_pdf(certificate: Certificate) -> bytes:
    return render_certificate_pdf(
        kind=certificate.kind,
        number=certificate.event.number or certificate.serial,
        facts=[(str(label), str(value)) for label, value in certificate.facts]
        + [("Certificate serial", certificate.serial)],
        qr_payload=QR_PREFIX + certificate.credential,
        issued_on=timezone.localdate(certificate.issued_at),
        issuer=f"{settings.GOV21_COUNTRY_NAME} — Civil Registry",
        verify_url=f"{settings.BASE_URL}/verify",
    )
