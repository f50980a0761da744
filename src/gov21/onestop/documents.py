"""Documents the services issue (licences, registrations, awards, notices): a record and a signed
credential that anyone can check offline against the published keys, and online at /verify."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from functools import cache
from typing import Any

from django.conf import settings
from django.utils import timezone

from gov21.core.crypto import KeyStore, verify_compact
from gov21.core.errors import DomainError
from gov21.core.pdf import render_document_pdf
from gov21.onestop.models import Application, Document

QR_PREFIX = "GOV21D:"
DOCUMENT_TYP = "gov21-doc+jwt"


@cache
def services_keys() -> KeyStore:
    """The service engine's signing keys, generated on first use under the data directory."""
    return KeyStore(settings.DATA_DIR / "keys", purpose="services")


def document_issue(
    *,
    application: Application | None,
    kind: str,
    title: str,
    holder_uin: str,
    agency: str,
    facts: list[tuple[str, str]],
    valid_until: date | None = None,
    serial: str = "",
    credential: str = "",
) -> Document:
    """Record a document; sign it unless ``credential`` comes from the issuing registry itself."""
    now = timezone.now()
    serial = serial or f"D-{now:%Y}-{secrets.token_hex(5).upper()}"
    if not credential:
        claims: dict[str, Any] = {
            "iss": f"{settings.GOV21_INSTANCE}/services",
            "dt": kind,
            "sn": serial,
            "h": holder_uin,
            "iat": int(now.timestamp()),
            "f": [[k, v] for k, v in facts],
        }
        if valid_until is not None:
            claims["vu"] = valid_until.isoformat()
        credential = services_keys().sign(claims, typ=DOCUMENT_TYP)
    return Document.objects.create(
        serial=serial,
        kind=kind,
        title=title[:200],
        holder_uin=holder_uin,
        agency=agency,
        application=application,
        facts=[[k, v] for k, v in facts],
        credential=credential,
        issued_at=now,
        valid_until=valid_until,
    )


def document_revoke(*, document: Document, reason: str) -> None:
    document.status = Document.Status.REVOKED
    document.status_reason = reason[:300]
    document.save(update_fields=["status", "status_reason"])


@dataclass(frozen=True, slots=True)
class DocumentCheck:
    status: str  # valid | revoked | expired | tampered | unknown
    message: str
    facts: list[list[str]]
    serial: str | None


def document_verify(*, payload: str) -> DocumentCheck:
    """Signature first, as an offline verifier would, then the register's current status."""
    token = "".join(payload.split())
    if token.upper().startswith(QR_PREFIX):
        token = token[len(QR_PREFIX) :]
    try:
        claims = verify_compact(token, services_keys().public_jwks(), typ=DOCUMENT_TYP)
    except DomainError as error:
        return DocumentCheck(status="tampered", message=error.detail, facts=[], serial=None)
    serial = str(claims.get("sn", ""))
    document = Document.objects.filter(serial=serial).first()
    if document is None:
        return DocumentCheck("unknown", "The signature is genuine but no register holds this document.", [], serial)
    if document.status == Document.Status.REVOKED:
        return DocumentCheck(
            "revoked", f"This document was withdrawn: {document.status_reason}", document.facts, serial
        )
    if document.valid_until is not None and document.valid_until < timezone.localdate():
        return DocumentCheck("expired", f"This document expired on {document.valid_until}.", document.facts, serial)
    return DocumentCheck("valid", "This document is genuine and valid.", document.facts, serial)


def document_pdf(*, document: Document) -> bytes:
    """The printable document, in the layout every issued document shares, with its QR code; its
    header names the issuing agency."""
    issuer = f"{settings.GOV21_COUNTRY_NAME} — {document.agency}"
    return render_document_pdf(
        header=issuer,
        title=document.title,
        number=document.serial,
        facts=[(str(k), str(v)) for k, v in document.facts] + [("Status", document.get_status_display())],
        qr_payload=QR_PREFIX + document.credential,
        issued_on=timezone.localdate(document.issued_at),
        issuer=issuer,
        verify_url=f"{settings.BASE_URL}/verify",
    )
