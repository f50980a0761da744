"""Title extracts as signed documents: what the register said of a parcel at a moment, signed with
the land register's key (Ed25519, compact JWS), verifiable offline against the published keys and
online at /verify, which asks the kernel's table of verifiers (``core.credentials``) and so needs to
know nothing of land."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import date, datetime
from functools import cache
from typing import Any, Final

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gov21.core.credentials import SERIAL_LABEL, DocumentKind, translated, translated_facts, verification_url
from gov21.core.crypto import KeyStore, verify_compact
from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.land.models import Extract
from gov21.land.records import RightRecord, TitleRecord
from gov21.land.selectors import parcel_title

QR_PREFIX: Final = "GOV21L:"
EXTRACT_TYP: Final = "gov21-land+jwt"
KIND: Final = "land-title-extract"
DOCUMENT: Final = DocumentKind(
    title=gettext_noop("Extract of title from the land register"),
    authority=gettext_noop("Land Registry"),
    number_label=SERIAL_LABEL,
)
PARCEL_LABEL: Final = gettext_noop("Parcel number")
PARISH_LABEL: Final = gettext_noop("Parish")
AREA_LABEL: Final = gettext_noop("Area (m²)")
AS_OF_LABEL: Final = gettext_noop("Title as it stood at")
OWNER_LABEL: Final = gettext_noop("Owner")
ENCUMBRANCE_LABEL: Final = gettext_noop("Encumbrance")


@cache
def land_keys() -> KeyStore:
    """The land register's signing keys, made on first use under the data directory's keys (and so
    in every backup)."""
    return KeyStore(settings.DATA_DIR / "keys", purpose="land")


def _holder(right: RightRecord) -> str:
    holder = right.holder
    if holder.members:
        return "; ".join(f"{m.name or m.identifier} ({m.kind} {m.identifier}) {m.share}" for m in holder.members)
    return f"{holder.name or holder.identifier} ({holder.kind} {holder.identifier})"


def extract_facts(title: TitleRecord) -> list[tuple[str, str]]:
    """The facts an extract states, labelled in English as signed."""
    facts = [
        (PARCEL_LABEL, title.parcel.number),
        (PARISH_LABEL, title.parcel.parish),
        (AREA_LABEL, f"{title.parcel.area_m2:.0f}"),
        (AS_OF_LABEL, title.as_of.isoformat(timespec="seconds")),
    ]
    facts += [(OWNER_LABEL, f"{_holder(r)} [{r.kind}]") for r in title.ownership]
    for right in title.encumbrances:
        amount = f" {right.amount_cents / 100:.2f}" if right.amount_cents is not None else ""
        facts.append((ENCUMBRANCE_LABEL, f"{right.kind}{amount}: {_holder(right)}"))
    return facts


@dataclass(frozen=True, slots=True)
class IssuedExtract:
    serial: str
    code: str
    verify_url: str
    title: TitleRecord


@transaction.atomic
def extract_issue(
    *, number: str, actor: Principal, purpose: str | None, as_of: date | datetime | None = None
) -> IssuedExtract:
    """Sign the title of parcel ``number`` (now or at ``as_of``) and record the extract."""
    title = parcel_title(number=number, actor=actor, purpose=purpose, as_of=as_of)
    now = timezone.now()
    serial = f"LT-{now:%Y}-{secrets.token_hex(5).upper()}"
    claims: dict[str, Any] = {
        "iss": f"{settings.GOV21_INSTANCE}/land",
        "dt": KIND,
        "sn": serial,
        "p": title.parcel.number,
        "at": title.as_of.isoformat(),
        "iat": int(now.timestamp()),
        "f": [[label, value] for label, value in extract_facts(title)],
    }
    code = QR_PREFIX + land_keys().sign(claims, typ=EXTRACT_TYP)
    Extract.objects.create(
        serial=serial, parcel_number=number, as_of=title.as_of, credential=code, issued_by=actor.name, issued_at=now
    )
    return IssuedExtract(serial=serial, code=code, verify_url=verification_url(code), title=title)


@dataclass(frozen=True, slots=True)
class ExtractCheck:
    """The verdict /verify shows: ``status`` valid, tampered or unknown."""

    status: str
    message: str
    facts: list[tuple[str, str]] = field(default_factory=list)
    serial: str | None = None
    title: str = ""


def extract_verify(payload: str) -> ExtractCheck:
    """Check an extract's code: its signature against the land register's keys, and that the land
    register issued it (an extract states the title at a moment; a later change does not unmake it)."""
    token = payload.strip()
    if token.upper().startswith(QR_PREFIX):
        token = token[len(QR_PREFIX) :]
    try:
        claims = verify_compact(token, land_keys().public_jwks(), typ=EXTRACT_TYP)
    except (DomainError, ValueError):
        return ExtractCheck(status="tampered", message=_("The signature does not match: this extract is not genuine."))
    serial = str(claims.get("sn", ""))
    if not Extract.objects.filter(serial=serial).exists():
        return ExtractCheck(
            status="unknown", message=_("The land register has no record of this extract."), serial=serial
        )
    raw = claims.get("f") or []
    facts = translated_facts(
        [(str(pair[0]), str(pair[1])) for pair in raw if isinstance(pair, list) and len(pair) == 2]
    )
    return ExtractCheck(
        status="valid",
        message=_("Signed by the land register. It states the title as it stood at the moment it names."),
        facts=facts,
        serial=serial,
        title=translated(DOCUMENT.title),
    )
