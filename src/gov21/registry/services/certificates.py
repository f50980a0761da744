"""Certificates of births, marriages and deaths: the facts shown and signed, issue and revocation."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from gov21.audit.contracts import access_action_declare, access_record
from gov21.core.credentials import NAME_LABEL, UIN_LABEL, document_lookup
from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.identity.contracts import THROTTLE_ADDRESS, THROTTLE_IDENTIFIER, address_key, attempt_begin, throttle_key
from gov21.registry import rules
from gov21.registry.keys import registry_keys
from gov21.registry.models import Certificate, CertificateStatus, EventKind, EventState, LifeEvent
from gov21.registry.services.events import CERTIFIABLE, event_for_action, event_transition


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    title: str
    facts: list[tuple[str, str]]
    claims: dict[str, Any]


CERTIFICATE_ISSUE = access_action_declare("certificate.issue", gettext_lazy("Issued a certificate that names you"))


def certificate_facts(event: LifeEvent) -> CertificateFacts:
    """The facts a certificate states, labelled in English and valued with codes (a sex, a parish),
    the same in every language; pages and PDFs put them in the reader's words
    (``core.credentials.translated_facts``)."""
    d = event.data
    if event.kind == EventKind.BIRTH:
        child = event.subject
        assert child is not None
        mother = child.mother
        father = child.father
        facts = [
            (NAME_LABEL, f"{child.given_names} {child.family_name}"),
            (UIN_LABEL, child.uin),
            # Codes, not words: the reader's language is chosen when the certificate is shown.
            (gettext_noop("Sex"), child.sex),
            (gettext_noop("Date of birth"), child.birth_date.isoformat()),
            (gettext_noop("Place of birth"), ", ".join(p for p in (child.birth_settlement, child.birth_parish) if p)),
            (gettext_noop("Mother"), f"{mother.given_names} {mother.family_name}" if mother else "—"),
            (gettext_noop("Father"), f"{father.given_names} {father.family_name}" if father else "—"),
        ]
        claims = {
            "n": f"{child.given_names} {child.family_name}",
            "uin": child.uin,
            "sx": child.sex,
            "dob": child.birth_date.isoformat(),
            "pob": child.birth_parish,
            "mo": f"{mother.given_names} {mother.family_name}" if mother else None,
            "fa": f"{father.given_names} {father.family_name}" if father else None,
        }
        return CertificateFacts("Certificate of Birth", facts, claims)
    if event.kind == EventKind.DEATH:
        person = event.subject
        assert person is not None
        facts = [
            (NAME_LABEL, f"{person.given_names} {person.family_name}"),
            (UIN_LABEL, person.uin),
            (gettext_noop("Date of birth"), person.birth_date.isoformat()),
            (gettext_noop("Date of death"), d["death_date"]),
            (gettext_noop("Place of death"), d.get("place_parish") or "—"),
        ]
        claims = {
            "n": f"{person.given_names} {person.family_name}",
            "uin": person.uin,
            "dob": person.birth_date.isoformat(),
            "dod": d["death_date"],
        }
        return CertificateFacts("Certificate of Death", facts, claims)
    a = event.subject
    b = event.partner
    assert a is not None and b is not None
    names = [f"{a.given_names} {a.family_name}", f"{b.given_names} {b.family_name}"]
    facts = [
        (gettext_noop("First party"), f"{names[0]} ({a.uin})"),
        (gettext_noop("Second party"), f"{names[1]} ({b.uin})"),
        (gettext_noop("Date of marriage"), d["date"]),
        (gettext_noop("Parish"), d.get("parish") or "—"),
    ]
    claims = {"p1": names[0], "u1": a.uin, "p2": names[1], "u2": b.uin, "dom": d["date"], "par": d.get("parish")}
    return CertificateFacts("Certificate of Marriage", facts, claims)


@transaction.atomic
def certificate_issue(*, event_id: int, actor: Principal, supersede: bool = True) -> Certificate:
    """Sign a new certificate of a registration. A registrar's issue (``supersede``, the default)
    replaces the certificates in circulation, as after a correction; a certified copy ordered
    through the exchange (``supersede=False``) is one more valid certificate beside them, because
    the holder of the earlier one did nothing to lose it."""
    actor.require("certificate.issue")
    event = event_for_action(event_id, "certify")
    if event.kind not in CERTIFIABLE:
        raise DomainError(
            "not_certifiable", "Certificates are issued for births, marriages and deaths.", status=409, field="kind"
        )
    event = LifeEvent.objects.select_related("subject__mother", "subject__father", "partner").get(pk=event.pk)
    content = certificate_facts(event)
    now = timezone.now()
    serial = f"{rules.REGISTRATION_PREFIX[event.kind]}C-{now:%Y}-{secrets.token_hex(5).upper()}"
    claims = {
        "iss": f"{settings.GOV21_INSTANCE}/registry",
        "ct": event.kind,
        "sn": serial,
        "no": event.number,
        "iat": int(now.timestamp()),
        **{k: v for k, v in content.claims.items() if v is not None},
    }
    credential = registry_keys().sign(claims)
    previous = (
        list(Certificate.objects.select_for_update().filter(event=event, status=CertificateStatus.VALID))
        if supersede
        else []
    )
    certificate = Certificate.objects.create(
        serial=serial,
        event=event,
        kind=event.kind,
        issued_at=now,
        issued_by=actor.name,
        facts=[list(f) for f in content.facts],
        credential=credential,
    )
    for old in previous:
        old.status = CertificateStatus.SUPERSEDED
        old.status_reason = f"Replaced by {serial}"
        old.superseded_by = certificate
        old.save()
    if event.state != EventState.CERTIFIED:
        event_transition(event, to=EventState.CERTIFIED, actor=actor, reason=f"Certificate {serial} issued")
        event.save()
    access_record(
        actor=actor.name,
        actor_kind=actor.kind,
        action=CERTIFICATE_ISSUE,
        subject=event.subject.uin if event.subject else "",
        purpose="certificate issued",
        detail={"serial": serial, "event": event.number},
    )
    return certificate


@transaction.atomic
def certificate_revoke(*, serial: str, reason: str, actor: Principal) -> Certificate:
    actor.require("certificate.issue")
    if not reason.strip():
        raise DomainError("required", "Give the reason for revoking.", field="reason")
    certificate = one_or_none(Certificate.objects.select_for_update().filter(serial=serial))
    if certificate is None:
        raise NotFound("certificate_not_found", f"No certificate with serial {serial}.")
    if certificate.status != CertificateStatus.VALID:
        raise Conflict("certificate_not_valid", f"This certificate is already {certificate.status}.")
    certificate.status = CertificateStatus.REVOKED
    certificate.status_reason = reason.strip()[:300]
    certificate.save()
    return certificate


@dataclass(frozen=True, slots=True)
class LookupVerdict:
    """The answer to a serial number and date of birth: the issuer's verdict, or None for "no such
    document" (the same whichever half was wrong)."""

    verdict: Any | None


def document_lookup_check(*, serial: str, birth_date: date, source: str) -> LookupVerdict:
    """Look a printed document up by its serial number and its holder's date of birth, for someone
    who cannot scan its code. Wrong pairs are limited per serial and per client address as wrong
    passwords are (identity's windows), so the date of birth of a known serial cannot be guessed;
    every lookup, found or not, is written in the access log, against the holder when found."""
    typed = "".join(serial.split()).upper()[:40]
    attempt = attempt_begin(
        [(THROTTLE_IDENTIFIER, throttle_key("document-serial", typed)), (THROTTLE_ADDRESS, address_key(source))],
        detail=gettext("Too many documents were looked up from here. Wait {wait} seconds, then try again."),
    )
    verdict = document_lookup(typed, birth_date)
    if verdict is not None:
        attempt.succeeded()
    access_record(
        actor=f"public:{source}"[:150],
        actor_kind="public",
        action="document.lookup",
        subject=str(getattr(verdict, "subject", "") or ""),
        purpose="document checked by serial number",
        detail={"serial": typed, "found": verdict is not None},
    )
    return LookupVerdict(verdict)
