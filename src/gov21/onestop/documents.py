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
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gov21.core.credentials import (
    NAME_LABEL,
    SERIAL_LABEL,
    UIN_LABEL,
    VALID_UNTIL_LABEL,
    DocumentKind,
    code_from_text,
    document_kind,
    document_kind_register,
    translated,
    translated_facts,
    verification_url,
)
from gov21.core.crypto import KeyStore, verify_compact
from gov21.core.errors import DomainError
from gov21.core.pdf import render_document_pdf
from gov21.onestop.models import Application, Business, Document, Licence

QR_PREFIX = "GOV21D:"
DOCUMENT_TYP = "gov21-doc+jwt"

# The issuing authorities of the agencies the service engine issues documents for, by the agency
# code of a service definition, as printed at the head of their documents.
AUTHORITIES: dict[str, str] = {
    "civil-registry": gettext_noop("Civil Registry"),
    "licensing": gettext_noop("Licensing and Transport Authority"),
    "business-register": gettext_noop("Business Registration Authority"),
    "benefits": gettext_noop("Ministry of Social Development"),
}
# What each kind of document is called and which of its facts is its number. A document of a kind
# not listed here is printed under the title its service gives it, numbered by its serial.
DOCUMENT_KINDS: dict[str, DocumentKind] = {
    "driving-licence": DocumentKind(
        title=gettext_noop("Driving licence"),
        authority=AUTHORITIES["licensing"],
        number_label=gettext_noop("Licence number"),
        number_fact=gettext_noop("Licence number"),
    ),
    "business-registration": DocumentKind(
        title=gettext_noop("Certificate of registration of a business name"),
        authority=AUTHORITIES["business-register"],
        number_label=gettext_noop("Business registration number"),
        number_fact=gettext_noop("Business registration number"),
    ),
    "child-benefit-award": DocumentKind(
        title=gettext_noop("Child benefit award"), authority=AUTHORITIES["benefits"], number_label=SERIAL_LABEL
    ),
    "marriage-notice": DocumentKind(
        title=gettext_noop("Notice of intended marriage"),
        authority=AUTHORITIES["civil-registry"],
        number_label=SERIAL_LABEL,
    ),
}


def document_kinds_register() -> None:
    for kind, description in DOCUMENT_KINDS.items():
        document_kind_register(kind, description)


def authority_name(agency: str) -> str:
    return AUTHORITIES.get(agency, agency)


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
    title: str = ""
    # The holder a look-up by serial and date of birth matched, for the access log; never shown.
    subject: str = ""


def document_title(document: Document) -> str:
    """The document's title in the reader's language."""
    kind = document_kind(document.kind)
    return translated(kind.title) if kind is not None else document.title


def document_subject_name(document: Document) -> str:
    """The name of the person a document is about when that is not its holder (a parent's copy of
    a child's birth certificate), from the document's own facts; empty otherwise."""
    facts = {str(fact[0]): str(fact[1]) for fact in document.facts if len(fact) == 2}
    uin = facts.get(UIN_LABEL, "")
    return facts.get(NAME_LABEL, "") if uin and uin != document.holder_uin else ""


def _verdict(document: Document, *, looked_up: bool = False) -> DocumentCheck:
    """What the register says of one of its documents, in the reader's language."""
    facts = [list(fact) for fact in translated_facts(document.facts)]
    if document.valid_until is not None and not any(fact[0] == VALID_UNTIL_LABEL for fact in document.facts):
        facts.append([translated(VALID_UNTIL_LABEL), document.valid_until.isoformat()])
    title = document_title(document)
    subject = document.holder_uin if looked_up else ""
    if document.status == Document.Status.REVOKED:
        message = _("This document was withdrawn: %(reason)s") % {"reason": document.status_reason}
        return DocumentCheck("revoked", message, facts, document.serial, title, subject)
    if document.valid_until is not None and document.valid_until < timezone.localdate():
        message = _("This document expired on %(date)s.") % {"date": document.valid_until.isoformat()}
        return DocumentCheck("expired", message, facts, document.serial, title, subject)
    return DocumentCheck("valid", _("This document is genuine and valid."), facts, document.serial, title, subject)


def document_verify(*, payload: str) -> DocumentCheck:
    """Signature first, as an offline verifier would, then the register's current status."""
    token = code_from_text(payload)
    if token.upper().startswith(QR_PREFIX):
        token = token[len(QR_PREFIX) :]
    try:
        claims = verify_compact(token, services_keys().public_jwks(), typ=DOCUMENT_TYP)
    except DomainError:
        message = _("This code was not signed by a government agency, or it was changed after it was signed.")
        return DocumentCheck(status="tampered", message=message, facts=[], serial=None)
    serial = str(claims.get("sn", ""))
    document = Document.objects.filter(serial=serial).first()
    if document is None:
        message = _("The signature is genuine but no register holds this document.")
        return DocumentCheck("unknown", message, [], serial)
    return _verdict(document)


def _numbered_document(number: str) -> Document | None:
    """The newest document printed under a register's own number (a licence number, a business
    registration number): people type the number they see largest on the page."""
    holders = (
        ("driving-licence", Licence.objects.filter(number=number).values_list("holder_uin", flat=True)),
        ("business-registration", Business.objects.filter(number=number).values_list("owner_uin", flat=True)),
    )
    for kind, found in holders:
        holder = found.first()
        if holder is None:
            continue
        number_fact = DOCUMENT_KINDS[kind].number_fact
        for document in Document.objects.filter(kind=kind, holder_uin=holder).order_by("-issued_at")[:20]:
            if [number_fact, number] in document.facts:
                return document
    return None


def document_lookup(serial: str, birth_date: date) -> DocumentCheck | None:
    """The document with this serial, or with this licence or business registration number, if
    its holder was born on ``birth_date``, as the application that produced it fetched the holder's
    record; None otherwise, whichever part is wrong. A civil registry certificate kept here is
    answered by the registry itself."""
    typed = "".join(serial.split()).upper()
    if not typed or len(typed) > 24:
        return None
    if typed.startswith("D-"):
        document = Document.objects.select_related("application").filter(serial=typed).first()
    else:
        document = _numbered_document(typed)
    if document is None or document.application is None:
        return None
    person = document.application.verified.get("person") or {}
    if str(person.get("birth_date", "")) != birth_date.isoformat():
        return None
    return _verdict(document, looked_up=True)


# The label of a document's status on its PDF (its facts come with their own labels).
STATUS_LABEL = gettext_noop("Status")


def document_pdf(*, document: Document) -> bytes:
    """The printable document, in the layout every issued document shares, with its QR code: headed
    by the issuing authority, numbered as its kind is (a licence by its licence number), each fact
    once; in the active language (the signed credential keeps its English labels)."""
    authority = translated(authority_name(document.agency))
    issuer = f"{settings.GOV21_COUNTRY_NAME} — {authority}"
    kind = document_kind(document.kind)
    facts = [(str(k), str(v)) for k, v in document.facts if str(k) != VALID_UNTIL_LABEL]
    number_label, number = SERIAL_LABEL, document.serial
    if kind is not None and kind.number_fact:
        found = [value for label, value in facts if label == kind.number_fact]
        if found:
            number_label, number = kind.number_label, found[0]
            facts = [(label, value) for label, value in facts if label != kind.number_fact]
    if number != document.serial:
        facts.append((SERIAL_LABEL, document.serial))
    if document.valid_until is not None:
        facts.append((VALID_UNTIL_LABEL, document.valid_until.isoformat()))
    shown = [*translated_facts(facts), (translated(STATUS_LABEL), str(document.get_status_display()))]
    return render_document_pdf(
        header=issuer,
        title=document_title(document),
        number_label=translated(number_label),
        number=number,
        facts=shown,
        qr_payload=verification_url(QR_PREFIX + document.credential),
        issued_on=timezone.localdate(document.issued_at),
        issuer=issuer,
        verify_url=f"{settings.BASE_URL}/verify",
    )
