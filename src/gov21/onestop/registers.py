"""The agency registers the service engine keeps for the demo nation's agencies: driving licences
(licensing authority), benefit awards (social development) and business names (business
registration). Each answers on the exchange as its agency's service (``exchange_routes``)."""

from __future__ import annotations

import re
import secrets
import unicodedata
from datetime import date
from typing import TypedDict

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.onestop.models import Application, Benefit, Business, Licence, LicenceStatus

LICENCE_YEARS = 10
CHILD_BENEFIT_WEEKLY = 1500  # cents
# Words that do not make a business name different from another.
_NAME_NOISE = re.compile(r"\b(ltd|limited|inc|co|company|the|and|&)\b")


class LicenceJson(TypedDict):
    """A driving licence as the licensing authority's service shows it."""

    number: str
    holder_uin: str
    classes: str
    status: str
    issued_on: str
    expires_on: str


class BenefitJson(TypedDict):
    """A benefit award as the social development service shows it (``closed_on`` None while it runs)."""

    id: int
    kind: str
    claimant_uin: str
    beneficiary_uin: str
    status: str
    weekly_amount: int
    started_on: str
    closed_on: str | None


class BusinessJson(TypedDict):
    """A registered business as the business registration service shows it."""

    number: str
    name: str
    activity: str
    address: str
    status: str
    registered_on: str


def add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


# --- licences -------------------------------------------------------------------------------------


def licence_json(licence: Licence) -> LicenceJson:
    return {
        "number": licence.number,
        "holder_uin": licence.holder_uin,
        "classes": licence.classes,
        "status": licence.current_status(),
        "issued_on": licence.issued_on.isoformat(),
        "expires_on": licence.expires_on.isoformat(),
    }


def licences_of(*, uin: str) -> list[LicenceJson]:
    return [licence_json(x) for x in Licence.objects.filter(holder_uin=uin).order_by("number")]


def licence_issue(*, uin: str, classes: str = "B", issued_on: date | None = None) -> Licence:
    issued_on = issued_on or timezone.localdate()
    for _attempt in range(5):
        number = f"DL-{secrets.randbelow(10**7):07d}"
        if not Licence.objects.filter(number=number).exists():
            break
    return Licence.objects.create(
        number=number,
        holder_uin=uin,
        classes=classes,
        issued_on=issued_on,
        expires_on=add_years(issued_on, LICENCE_YEARS),
    )


@transaction.atomic
def demo_driver(*, uin: str) -> None:
    """Give the demo citizen a driving licence, so the renewal can be tried at once."""
    if not Licence.objects.filter(holder_uin=uin).exists():
        licence_issue(uin=uin, issued_on=date(2016, 11, 1))


def licence_renew(*, uin: str, number: str) -> Licence:
    licence = Licence.objects.select_for_update().filter(number=number, holder_uin=uin).first()
    if licence is None:
        detail = _("No licence %(number)s is held by this person.") % {"number": number}
        raise NotFound("licence_not_found", detail, field="licence_number")
    if licence.status in ("suspended", "closed"):
        status = str(LicenceStatus(licence.status).label).lower()
        raise Conflict(
            "licence_not_renewable",
            _("Licence %(number)s is %(status)s and cannot be renewed.") % {"number": number, "status": status},
        )
    today = timezone.localdate()
    licence.expires_on = add_years(max(today, licence.expires_on), LICENCE_YEARS)
    licence.status = "valid"
    licence.save(update_fields=["expires_on", "status"])
    return licence


def licences_close(*, uin: str, reason: str) -> list[str]:
    closed = []
    for licence in Licence.objects.select_for_update().filter(holder_uin=uin).exclude(status="closed"):
        licence.status = "closed"
        licence.closed_reason = reason[:200]
        licence.save(update_fields=["status", "closed_reason"])
        closed.append(licence.number)
    return closed


# --- benefits -------------------------------------------------------------------------------------


def benefit_json(benefit: Benefit) -> BenefitJson:
    return {
        "id": benefit.pk,
        "kind": benefit.kind,
        "claimant_uin": benefit.claimant_uin,
        "beneficiary_uin": benefit.beneficiary_uin,
        "status": benefit.status,
        "weekly_amount": benefit.weekly_amount,
        "started_on": benefit.started_on.isoformat(),
        "closed_on": benefit.closed_on.isoformat() if benefit.closed_on else None,
    }


def benefits_of(*, uin: str) -> list[BenefitJson]:
    """Benefits a person claims or is the beneficiary of."""
    from django.db.models import Q

    rows = Benefit.objects.filter(Q(claimant_uin=uin) | Q(beneficiary_uin=uin)).order_by("pk")
    return [benefit_json(b) for b in rows]


@transaction.atomic
def benefit_award(
    *, kind: str, claimant: str, beneficiary: str, started_on: date, application: Application | None
) -> Benefit:
    if Benefit.objects.select_for_update().filter(kind=kind, beneficiary_uin=beneficiary, status="active").exists():
        raise Conflict("already_awarded", _("Someone already receives this benefit for this person."))
    return Benefit.objects.create(
        kind=kind,
        claimant_uin=claimant,
        beneficiary_uin=beneficiary,
        weekly_amount=CHILD_BENEFIT_WEEKLY,
        started_on=started_on,
        application=application,
    )


def benefits_close(*, uin: str, reason: str) -> list[str]:
    """Close the benefits a person claims or receives (on their death)."""
    from django.db.models import Q

    closed = []
    today = timezone.localdate()
    for benefit in Benefit.objects.select_for_update().filter(
        Q(claimant_uin=uin) | Q(beneficiary_uin=uin), status="active"
    ):
        benefit.status = "closed"
        benefit.closed_on = today
        benefit.closed_reason = reason[:200]
        benefit.save(update_fields=["status", "closed_on", "closed_reason"])
        closed.append(benefit.kind)
    return closed


# --- business names -------------------------------------------------------------------------------


def business_name_key(name: str) -> str:
    """What makes two business names the same: case, accents, punctuation, spacing and words like
    "Ltd" do not count."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    plain = _NAME_NOISE.sub(" ", re.sub(r"[^a-z0-9& ]+", " ", plain))
    return " ".join(plain.split())


def business_json(business: Business) -> BusinessJson:
    return {
        "number": business.number,
        "name": business.name,
        "activity": business.activity,
        "address": business.address,
        "status": business.status,
        "registered_on": business.registered_on.isoformat(),
    }


def businesses_search(*, name: str = "", query: str = "", limit: int = 50) -> list[BusinessJson]:
    if name:
        key = business_name_key(name)
        rows = Business.objects.filter(name_key=key) if key else Business.objects.none()
    else:
        rows = Business.objects.filter(name__icontains=query.strip()[:100]) if query.strip() else Business.objects.all()
    return [business_json(b) for b in rows.order_by("name")[:limit]]


@transaction.atomic
def business_register(*, name: str, owner: str, activity: str, address: str) -> Business:
    key = business_name_key(name)
    if not key:
        raise DomainError("invalid_name", _("The business name needs letters or digits."), field="business_name")
    today = timezone.localdate()
    try:
        with transaction.atomic():
            return Business.objects.create(
                number=f"BN-{today:%Y}-{secrets.token_hex(3).upper()}",
                name=name.strip(),
                name_key=key,
                owner_uin=owner,
                activity=activity,
                address=address,
                registered_on=today,
            )
    except IntegrityError as exc:
        detail = _("A business is already registered under a name too like “%(name)s”.") % {"name": name}
        raise Conflict("name_taken", detail, field="business_name") from exc


def licences_by_number(*, number: str) -> list[LicenceJson]:
    return [licence_json(x) for x in Licence.objects.filter(number=number.upper()[:16])]


def businesses_of(*, uin: str) -> list[BusinessJson]:
    return [business_json(b) for b in Business.objects.filter(owner_uin=uin).order_by("name")]


def business_get(*, number: str) -> BusinessJson | None:
    business = Business.objects.filter(number=number[:16]).first()
    return business_json(business) if business is not None else None


def licence_restore(*, number: str, expires_on: date) -> None:
    """Put back the expiry a renewal changed (the renewal was overturned)."""
    Licence.objects.filter(number=number).update(expires_on=expires_on)


def benefit_cancel(*, application: Application, reason: str) -> None:
    Benefit.objects.filter(application=application, status="active").update(
        status="closed", closed_on=timezone.localdate(), closed_reason=reason[:200]
    )


def business_cancel(*, number: str) -> None:
    """Strike a registration off; its name becomes free again."""
    business = Business.objects.select_for_update().filter(number=number).first()
    if business is not None:
        business.status = "cancelled"
        business.name_key = f"{business.name_key} #{business.number}"[:120]
        business.save(update_fields=["status", "name_key"])
