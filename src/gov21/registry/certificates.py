"""Certificate documents: the printable PDF with its QR code, in the layout every issued document
shares (``gov21.core.pdf``) under the civil registry's own header and titles, printed in the
language of the person who asks for it. The signed credential holds codes, dates and names, the
same in every language, so a copy in any language verifies."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from typing import Final

from django.conf import settings
from django.utils import timezone, translation
from django.utils.translation import gettext_noop

from gov21.core.credentials import (
    SERIAL_LABEL,
    DocumentKind,
    document_kind_register,
    fact_words_register,
    translated,
    translated_facts,
    verification_url,
)
from gov21.core.geography import parish_name
from gov21.core.pdf import render_document_pdf
from gov21.registry.models import Certificate, Sex

QR_PREFIX = "GOV21:"
AUTHORITY: Final = gettext_noop("Civil Registry")
NUMBER_LABEL: Final = gettext_noop("Registration number")
TITLES: Final = {
    "birth": gettext_noop("Certificate of Birth"),
    "marriage": gettext_noop("Certificate of Marriage"),
    "death": gettext_noop("Certificate of Death"),
}
SEX_LABEL: Final = gettext_noop("Sex")
# Facts whose value names a place as "settlement, parish code" (or the parish code alone).
PLACE_LABELS: Final = (gettext_noop("Place of birth"), gettext_noop("Place of death"), gettext_noop("Parish"))


def sex_words(value: str) -> str:
    """The sex a certificate states, in the reader's words: stored as its code ("F"), or, on
    certificates issued before codes were stored, as the English word ("Female")."""
    if value in Sex.values:
        return str(Sex(value).label)
    with translation.override(None):
        english = {str(label): code for code, label in Sex.choices}
    return str(Sex(english[value]).label) if value in english else value


def place_words(value: str) -> str:
    """A place with its parish named rather than coded ("Rosehall, XA-01" → "Rosehall, Port Clement")."""
    return ", ".join(parish_name(part) for part in value.split(", "))


def document_kinds_register() -> None:
    """The registry's certificates, under the names every page and PDF gives them; a certified copy
    the one-stop shop keeps for its holder is the same certificate (``birth-certificate``)."""
    for kind, title in TITLES.items():
        description = DocumentKind(title=title, authority=AUTHORITY, number_label=NUMBER_LABEL)
        document_kind_register(kind, description)
        document_kind_register(f"{kind}-certificate", description)
    fact_words_register(SEX_LABEL, sex_words)
    for label in PLACE_LABELS:
        fact_words_register(label, place_words)


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
    """A civil-status certificate in the active language; ``kind`` is "birth", "marriage" or "death"
    and gives its title; ``facts`` are labelled and valued as stored (English labels, codes)."""
    title = TITLES.get(kind.strip().lower())
    if title is None:
        raise ValueError(f"kind must be one of {sorted(TITLES)}, got {kind!r}")
    return render_document_pdf(
        header=f"{settings.GOV21_COUNTRY_NAME} — {translated(AUTHORITY)}",
        title=translated(title),
        number_label=translated(NUMBER_LABEL),
        number=number,
        facts=translated_facts(facts),
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
        issuer=f"{settings.GOV21_COUNTRY_NAME} — {translated(AUTHORITY)}",
        verify_url=f"{settings.BASE_URL}/verify",
    )
