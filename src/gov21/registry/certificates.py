"""Certificate documents: the printable PDF with its QR code."""

from __future__ import annotations

from django.conf import settings
from django.utils import timezone

from gov21.registry.certificates_pdf import render_certificate_pdf
from gov21.registry.models import Certificate

QR_PREFIX = "GOV21:"


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
