"""Certificate documents: the printable PDF with its QR code, in the layout every issued document
shares (``gov21.core.pdf``) under the civil registry's own header and titles."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_noop

from gov21.core.credentials import SERIAL_LABEL, DocumentKind, document_kind_register, verification_url
from gov21.core.pdf import render_document_pdf
from gov21.registry.models import Certificate

QR_PREFIX = "GOV21:"
AUTHORITY: Final = gettext_noop("Civil Registry")
COUNTRY_LINE: Final = f"Republic of XA — {AUTHORITY}"
NUMBER_LABEL: Final = gettext_noop("Registration number")
TITLES: Final = {
    "birth": gettext_noop("Certificate of Birth"),
    "marriage": gettext_noop("Certificate of Marriage"),
    "death": gettext_noop("Certificate of Death"),
}


def document_kinds_register() -> None:
    """The registry's certificates, under the names every page and PDF gives them; a certified copy
    the one-stop shop keeps for its holder is the same certificate (``birth-certificate``)."""
    for kind, title in TITLES.items():
        description = DocumentKind(title=title, authority=AUTHORITY, number_label=NUMBER_LABEL)
        document_kind_register(kind, description)
        document_kind_register(f"{kind}-certificate", description)


def certificate_code(certificate: Certificate) -> str:
    """The text a person pastes at /verify: the prefix and the signed credential."""
    return QR_PREFIX + certificate.credential


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
        number_label=NUMBER_LABEL,
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
        facts=[(str(label), str(value)) for label, value in certificate.facts] + [(SERIAL_LABEL, certificate.serial)],
        qr_payload=verification_url(certificate_code(certificate)),
        issued_on=timezone.localdate(certificate.issued_at),
        issuer=f"{settings.GOV21_COUNTRY_NAME} — {AUTHORITY}",
        verify_url=f"{settings.BASE_URL}/verify",
    )
