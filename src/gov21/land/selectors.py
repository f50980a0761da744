"""Reads of the land register: a party's parcels, a parcel's title (now or as of a moment), its
encumbrances and its history. A read that shows who holds land is personal data: the caller needs
``land.read``, states a purpose, and each person it names gets an access record with that purpose."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gov21.audit.contracts import Access, access_action_declare, access_record_all
from gov21.core.errors import DomainError, NotFound
from gov21.core.ids import uin_check
from gov21.core.principal import Principal
from gov21.land.models import Parcel, Party, PartyKind, Right, RightKind, Source, Transaction, TransactionState
from gov21.land.parties import party_view, persons_of
from gov21.land.records import (
    EncumbrancesRecord,
    HistoryRecord,
    OwnedParcels,
    ParcelRecord,
    PartyRef,
    RightRecord,
    TitleRecord,
    TransactionRecord,
)

TITLE_READ = access_action_declare("land.title.read", gettext_lazy("Read the title of land you hold a right in"))
PARCELS_READ = access_action_declare("land.parcels.read", gettext_lazy("Listed the land you own"))
TITLE_KINDS = (RightKind.OWNERSHIP, RightKind.STATE_LAND)


def purpose_check(purpose: str | None) -> str:
    value = (purpose or "").strip()
    if len(value) < 3:
        raise DomainError(
            "purpose_required",
            _("State why you need this data (the purpose); it is shown to the people it concerns."),
            field="purpose",
        )
    return value[:300]


def moment_of(as_of: date | datetime | None) -> datetime:
    """The moment a date stands for (the end of that day in the instance's time zone); now for None."""
    if as_of is None:
        return timezone.now()
    if isinstance(as_of, datetime):
        return as_of
    zone = ZoneInfo(settings.TIME_ZONE)
    return datetime.combine(as_of + timedelta(days=1), time.min, tzinfo=zone) - timedelta(microseconds=1)


def valid_at(moment: datetime) -> Q:
    """The versions that held at ``moment``."""
    return Q(valid_from__lte=moment) & (Q(valid_to__isnull=True) | Q(valid_to__gt=moment))


def parcel_record(parcel: Parcel) -> ParcelRecord:
    return ParcelRecord(
        number=parcel.number,
        parish=parcel.parish,
        area_m2=parcel.area_m2,
        land_use=parcel.land_use,
        valid_from=parcel.valid_from,
        valid_to=parcel.valid_to,
    )


def right_record(right: Right) -> RightRecord:
    return RightRecord(
        id=right.pk,
        kind=right.kind,
        holder=party_view(right.party),
        amount_cents=right.amount_cents,
        ends_on=right.ends_on,
        description=right.description,
        valid_from=right.valid_from,
        valid_to=right.valid_to,
        transaction=right.opened_by.number,
    )


def transaction_record(tx: Transaction) -> TransactionRecord:
    return TransactionRecord(
        number=tx.number,
        kind=tx.kind,
        state=tx.state,
        parcels=list(tx.parcels),
        lodged_by=tx.lodged_by,
        lodged_at=tx.lodged_at,
        checked_by=tx.checked_by,
        registered_by=tx.registered_by,
        registered_at=tx.registered_at,
        rejection_reason=tx.rejection_reason,
    )


def _log(actor: Principal, action: str, rights: Sequence[Right], *, purpose: str, detail: str) -> None:
    uins = list(dict.fromkeys(uin for right in rights for uin in persons_of(right.party)))
    access_record_all([Access(actor.name, actor.kind, action, uin, purpose, {"parcel": detail}) for uin in uins])


def parcel_at(number: str, moment: datetime) -> Parcel:
    parcel = Parcel.objects.filter(valid_at(moment), number=number).first()
    if parcel is None:
        if Parcel.objects.filter(number=number).exists():
            raise NotFound(
                "parcel_not_current", _("Parcel %(number)s did not exist at that time.") % {"number": number}
            )
        raise NotFound("parcel_not_found", _("No parcel has the number %(number)s.") % {"number": number})
    return parcel


def _rights_at(number: str, moment: datetime) -> QuerySet[Right]:
    return (
        Right.objects.filter(valid_at(moment), parcel_number=number)
        .select_related("party", "opened_by")
        .order_by("valid_from", "id")
    )


def parcel_title(
    *, number: str, actor: Principal, purpose: str | None, as_of: date | datetime | None = None
) -> TitleRecord:
    """The title of parcel ``number``: now, or as it stood at ``as_of`` (a date: at the end of it)."""
    actor.require("land.read")
    why = purpose_check(purpose)
    moment = moment_of(as_of)
    parcel = parcel_at(number, moment)
    rights = list(_rights_at(number, moment))
    _log(actor, TITLE_READ, rights, purpose=why, detail=number)
    return TitleRecord(
        parcel=parcel_record(parcel),
        as_of=moment,
        ownership=[right_record(r) for r in rights if r.kind in TITLE_KINDS],
        encumbrances=[right_record(r) for r in rights if r.kind not in TITLE_KINDS],
    )


def parcel_encumbrances(
    *, number: str, actor: Principal, purpose: str | None, as_of: date | datetime | None = None
) -> EncumbrancesRecord:
    actor.require("land.read")
    why = purpose_check(purpose)
    moment = moment_of(as_of)
    parcel_at(number, moment)
    rights = [r for r in _rights_at(number, moment) if r.kind not in TITLE_KINDS]
    _log(actor, TITLE_READ, rights, purpose=why, detail=number)
    return EncumbrancesRecord(parcel=number, as_of=moment, encumbrances=[right_record(r) for r in rights])


def pending_parcels(numbers: Sequence[str]) -> dict[str, str]:
    """Which of ``numbers`` a transaction lodged and not yet decided concerns: parcel → transaction."""
    wanted, found = set(numbers), {}
    open_states = (TransactionState.LODGED, TransactionState.CHECKED)
    for tx_number, parcels in Transaction.objects.filter(state__in=open_states).values_list("number", "parcels"):
        for parcel in set(parcels) & wanted:
            found[parcel] = tx_number
    return found


def parcels_of_party(
    *, party: PartyRef, actor: Principal, purpose: str | None, as_of: date | datetime | None = None
) -> OwnedParcels:
    """The parcels ``party`` owns (alone or jointly), now or at ``as_of``."""
    actor.require("land.read")
    why = purpose_check(purpose)
    identifier = uin_check(party.identifier, field="uin") if party.kind == "person" else party.identifier
    moment = moment_of(as_of)
    holders = Party.objects.filter(
        Q(kind=party.kind, identifier=identifier)
        | Q(kind=PartyKind.GROUP, members__member__kind=party.kind, members__member__identifier=identifier)
    )
    numbers = (
        Right.objects.filter(valid_at(moment), kind__in=TITLE_KINDS, party__in=holders)
        .order_by("parcel_number")
        .values_list("parcel_number", flat=True)
    )
    parcels = list(Parcel.objects.filter(valid_at(moment), number__in=list(numbers)).order_by("number"))
    if party.kind == "person":
        access_record_all([Access(actor.name, actor.kind, PARCELS_READ, identifier, why, {"parcels": len(parcels)})])
    pending = sorted(pending_parcels([p.number for p in parcels])) if as_of is None else []
    return OwnedParcels(
        party=PartyRef(kind=party.kind, identifier=identifier),
        parcels=[parcel_record(p) for p in parcels],
        pending=pending,
    )


def parcel_history(*, number: str, actor: Principal, purpose: str | None) -> HistoryRecord:
    """Every version of parcel ``number`` and of its rights, and the transactions that touched it."""
    actor.require("land.read")
    why = purpose_check(purpose)
    versions = list(Parcel.objects.filter(number=number).order_by("valid_from", "id"))
    if not versions:
        raise NotFound("parcel_not_found", _("No parcel has the number %(number)s.") % {"number": number})
    rights = list(
        Right.objects.filter(parcel_number=number).select_related("party", "opened_by").order_by("valid_from", "id")
    )
    opened = {v.opened_by_id for v in versions} | {r.opened_by_id for r in rights}
    closed = {v.closed_by_id for v in versions} | {r.closed_by_id for r in rights}
    transactions = list(Transaction.objects.filter(pk__in=(opened | closed) - {None}).order_by("registered_at", "id"))
    _log(actor, TITLE_READ, rights, purpose=why, detail=number)
    return HistoryRecord(
        parcel=number,
        versions=[parcel_record(v) for v in versions],
        rights=[right_record(r) for r in rights],
        transactions=[transaction_record(t) for t in transactions],
    )


def sources_kept(digests: Sequence[str]) -> list[Source]:
    """The stored source documents with these SHA-256 digests, in the order they were uploaded (a
    lodging form shows the documents it already holds from a refused attempt)."""
    return list(Source.objects.filter(sha256__in=digests).order_by("uploaded_at"))


def transaction_get(*, number: str, actor: Principal) -> Transaction:
    actor.require("land.read")
    tx = Transaction.objects.prefetch_related("steps", "sources").filter(number=number).first()
    if tx is None:
        raise NotFound(
            "transaction_not_found", _("No land transaction has the number %(number)s.") % {"number": number}
        )
    return tx


def transactions_open(*, actor: Principal, limit: int = 100) -> list[Transaction]:
    actor.require("land.read")
    return list(Transaction.objects.filter(state__in=("lodged", "checked")).order_by("lodged_at")[:limit])


def parcel_geometry_at(number: str, moment: datetime) -> Parcel:
    """The parcel row (with its geometry) for the office's map: no owner in it, so no access record."""
    return parcel_at(number, moment)


def parcels_near(parcel: Parcel, *, limit: int = 50) -> list[Parcel]:
    """The current parcels whose boxes meet ``parcel``'s, for drawing its neighbourhood."""
    from gov21.core.spatial import bbox_filter

    rows = bbox_filter(Parcel.objects.filter(valid_to__isnull=True), parcel.geometry.buffer(0.0005))
    return list(rows.exclude(pk=parcel.pk).order_by("number")[:limit])
