"""Writes of the land register: transactions lodged, checked by someone other than who lodged them,
then registered (or rejected with a reason), each action one database transaction.

Registering closes the versions a transaction replaces (``valid_to``) and opens the new ones
(``valid_from``) at the same instant, so the register reads as of any moment. The facts are checked
when a transaction is lodged and again when it is registered: the register may have changed between.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Final

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop
from shapely.geometry import Polygon

from gov21.audit.contracts import Access, access_action_declare, access_record_all
from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.geo import area_m2
from gov21.core.geography import parish_name, parishes
from gov21.core.principal import Principal
from gov21.core.spatial import bbox_filter, geometries_intersecting
from gov21.exchange.contracts import agency_client, event_publish
from gov21.geo.contracts import collection_changed
from gov21.land.geometry import TOLERANCE_M2, merged_geometry, neighbours_check, parcel_geometry, parts_check
from gov21.land.models import (
    Building,
    Counter,
    Parcel,
    Party,
    PartyKind,
    Right,
    RightKind,
    Source,
    SourceKind,
    Transaction,
    TransactionKind,
    TransactionState,
    TransactionStep,
)
from gov21.land.parties import holder_for, party_confirm, party_matches, party_members, persons_of, shares_check
from gov21.land.records import (
    DischargeFacts,
    EasementFacts,
    Facts,
    FactsOf,
    FirstRegistrationFacts,
    InheritanceFacts,
    LeaseFacts,
    MergerFacts,
    MortgageFacts,
    OwnerShare,
    PartyRef,
    SubdivisionFacts,
    TransferFacts,
)

logger = logging.getLogger(__name__)
LODGE_ACTION = access_action_declare("land.lodge", gettext_lazy("Lodged a land transaction that names you"))
REGISTER_ACTION = access_action_declare("land.register", gettext_lazy("Registered a land transaction that names you"))
TITLE_KINDS: Final = (RightKind.OWNERSHIP, RightKind.STATE_LAND)
PURPOSE: Final = gettext_noop("land registration")

# Which states each action moves a transaction from.
_ALLOWED: Final[dict[str, tuple[str, ...]]] = {
    "check": (TransactionState.LODGED,),
    "register": (TransactionState.CHECKED,),
    "reject": (TransactionState.LODGED, TransactionState.CHECKED),
    "heirs": (TransactionState.LODGED,),
}


# --- numbers ---------------------------------------------------------------------------------------


def _next(series: str) -> int:
    """The next number of ``series``, taken under the counter row's lock in the caller's transaction:
    unique under concurrency, and gap-free (a rolled-back transaction gives its number back)."""
    table = Counter._meta.db_table
    with connection.cursor() as cursor:
        for _attempt in range(2):
            cursor.execute(f"UPDATE {table} SET last = last + 1 WHERE series = %s RETURNING last", [series])  # noqa: S608
            row = cursor.fetchone()
            if row is not None:
                return int(row[0])
            Counter.objects.bulk_create([Counter(series=series, last=0)], ignore_conflicts=True)
    raise RuntimeError(f"no counter {series}")


def transaction_number(year: int, sequence: int) -> str:
    return f"L-{year}-{sequence:06d}"


def _parcel_number(parish: str) -> str:
    return f"{parish}-{_next(f'parcel:{parish}'):06d}"


# --- reading the register as it stands, for a write ------------------------------------------------


def current_parcel(number: str, *, lock: bool = False, field: str = "parcel") -> Parcel:
    rows = Parcel.objects.filter(number=number, valid_to__isnull=True)
    if lock:
        rows = rows.select_for_update(of=("self",))
    parcel = rows.first()
    if parcel is None:
        raise NotFound(
            "parcel_not_found", _("No current parcel has the number %(number)s.") % {"number": number}, field=field
        )
    return parcel


def current_title(number: str) -> Right:
    right = (
        Right.objects.select_related("party")
        .filter(parcel_number=number, kind__in=TITLE_KINDS, valid_to__isnull=True)
        .first()
    )
    if right is None:
        raise Conflict("no_title", _("Parcel %(number)s has no registered owner.") % {"number": number})
    return right


def _applicant_check(number: str, applicant: PartyRef, represents: PartyRef | None, sources: Sequence[Source]) -> None:
    """The applicant is a registered owner of parcel ``number``, or the representative of one, with
    the power of attorney among the transaction's documents."""
    title = current_title(number)
    owner = represents or applicant
    if not party_matches(title.party, owner):
        raise DomainError(
            "not_registered_owner",
            _(
                "%(who)s is not a registered owner of parcel %(number)s;"
                " only an owner or their representative may ask this."
            )
            % {"who": f"{owner.kind} {owner.identifier}", "number": number},
            field="represents" if represents else "applicant",
        )
    if represents is not None and not any(s.kind == SourceKind.POWER_OF_ATTORNEY for s in sources):
        raise DomainError(
            "power_of_attorney_needed",
            _("A representative lodges with the owner's power of attorney among the documents."),
            field="sources",
        )


def _owners(owners: Sequence[OwnerShare], *, purpose: str, field: str) -> list[tuple[Party, Fraction]]:
    shares_check(owners, field=field)
    return [
        (party_confirm(owner.party, purpose=purpose, field=f"{field}.{index}"), owner.fraction)
        for index, owner in enumerate(owners)
    ]


def _neighbours(geometry: Polygon, *, excluding: Sequence[str] = ()) -> list[tuple[str, Polygon]]:
    rows = bbox_filter(Parcel.objects.filter(valid_to__isnull=True).exclude(number__in=excluding), geometry)
    return [(p.number, p.geometry) for p in geometries_intersecting(rows, geometry)]  # type: ignore[misc]


@dataclass
class _Checked:
    """What checking a transaction's facts found, for registering it."""

    parcels: list[str]
    owners: list[tuple[Party, Fraction]]
    party: Party | None = None
    geometries: list[Polygon] | None = None


def _check(facts: Facts, *, number: str, sources: Sequence[Source], lock: bool) -> _Checked:
    """Check ``facts`` against the register as it stands (locking the parcels when registering)."""
    purpose = f"{PURPOSE} {number}"
    if isinstance(facts, FirstRegistrationFacts):
        if facts.parish not in dict(parishes()):
            raise DomainError(
                "unknown_parish", _("%(parish)s is not a parish.") % {"parish": facts.parish}, field="parish"
            )
        geometry = parcel_geometry(facts.geometry)
        neighbours_check(geometry, _neighbours(geometry), field="geometry")
        footprints = [parcel_geometry(b, field=f"buildings.{i}") for i, b in enumerate(facts.buildings)]
        for index, footprint in enumerate(footprints):
            if area_m2(footprint.difference(geometry)) > TOLERANCE_M2:
                raise DomainError(
                    "building_outside_parcel",
                    _("Building %(index)d reaches outside the parcel.") % {"index": index + 1},
                    field=f"buildings.{index}",
                )
        owners = _owners(facts.owners, purpose=purpose, field="owners")
        return _Checked(parcels=[], owners=owners, geometries=[geometry, *footprints])
    if isinstance(facts, TransferFacts):
        current_parcel(facts.parcel, lock=lock)
        _applicant_check(facts.parcel, facts.applicant, facts.represents, sources)
        buyers = {(b.party.kind, b.party.identifier) for b in facts.buyers}
        if (facts.applicant.kind, facts.applicant.identifier) in buyers:
            raise DomainError(
                "buyer_is_seller", _("The buyer cannot be the seller: name someone else."), field="buyers"
            )
        return _Checked(parcels=[facts.parcel], owners=_owners(facts.buyers, purpose=purpose, field="buyers"))
    if isinstance(facts, InheritanceFacts):
        deceased = facts.deceased
        for index, parcel in enumerate(facts.parcels):
            current_parcel(parcel, lock=lock, field=f"parcels.{index}")
            if not party_matches(current_title(parcel).party, deceased):
                raise DomainError(
                    "not_registered_owner",
                    _("The deceased is not a registered owner of parcel %(number)s.") % {"number": parcel},
                    field=f"parcels.{index}",
                )
        heirs = _owners(facts.heirs, purpose=purpose, field="heirs") if facts.heirs else []
        return _Checked(parcels=list(facts.parcels), owners=heirs)
    if isinstance(facts, MortgageFacts):
        current_parcel(facts.parcel, lock=lock)
        _applicant_check(facts.parcel, facts.applicant, facts.represents, sources)
        lender = party_confirm(facts.lender, purpose=purpose, field="lender")
        return _Checked(parcels=[facts.parcel], owners=[], party=lender)
    if isinstance(facts, DischargeFacts):
        current_parcel(facts.parcel, lock=lock)
        mortgage = Right.objects.filter(
            pk=facts.mortgage, parcel_number=facts.parcel, kind=RightKind.MORTGAGE, valid_to__isnull=True
        ).first()
        if mortgage is None:
            raise NotFound(
                "mortgage_not_found",
                _("Parcel %(number)s has no such mortgage.") % {"number": facts.parcel},
                field="mortgage",
            )
        releasing = facts.represents or facts.applicant
        if not party_matches(mortgage.party, releasing):
            raise DomainError(
                "not_the_lender", _("Only the lender, or its representative, discharges a mortgage."), field="applicant"
            )
        if facts.represents is not None and not any(s.kind == SourceKind.POWER_OF_ATTORNEY for s in sources):
            raise DomainError(
                "power_of_attorney_needed",
                _("A representative lodges with the lender's power of attorney among the documents."),
                field="sources",
            )
        return _Checked(parcels=[facts.parcel], owners=[])
    if isinstance(facts, LeaseFacts | EasementFacts):
        current_parcel(facts.parcel, lock=lock)
        _applicant_check(facts.parcel, facts.applicant, facts.represents, sources)
        holder = facts.lessee if isinstance(facts, LeaseFacts) else facts.beneficiary
        field = "lessee" if isinstance(facts, LeaseFacts) else "beneficiary"
        if facts.ends_on is not None and facts.ends_on <= timezone.localdate():
            raise DomainError("ends_in_the_past", _("The end must be a day after today."), field="ends_on")
        return _Checked(parcels=[facts.parcel], owners=[], party=party_confirm(holder, purpose=purpose, field=field))
    if isinstance(facts, SubdivisionFacts):
        parent = current_parcel(facts.parcel, lock=lock)
        _applicant_check(facts.parcel, facts.applicant, facts.represents, sources)
        parts = [parcel_geometry(part.geometry, field=f"parts.{i}") for i, part in enumerate(facts.parts)]
        parts_check(parent.geometry, parts)
        for index, part in enumerate(parts):
            neighbours_check(part, _neighbours(part, excluding=[facts.parcel]), field=f"parts.{index}")
        return _Checked(parcels=[facts.parcel], owners=[], geometries=parts)
    return _check_merger(facts, sources=sources, lock=lock)


def _check_merger(facts: MergerFacts, *, sources: Sequence[Source], lock: bool) -> _Checked:
    if len(set(facts.parcels)) != len(facts.parcels):
        raise DomainError("parcel_twice", _("A parcel is named twice."), field="parcels")
    parcels = [current_parcel(n, lock=lock, field=f"parcels.{i}") for i, n in enumerate(facts.parcels)]
    holders = {current_title(n).party_id for n in facts.parcels}
    if len(holders) != 1:
        raise DomainError("owners_differ", _("Only parcels with the same owners can be merged."), field="parcels")
    if len({p.parish for p in parcels}) != 1:
        raise DomainError("parishes_differ", _("Parcels in different parishes cannot be merged."), field="parcels")
    _applicant_check(facts.parcels[0], facts.applicant, facts.represents, sources)
    return _Checked(parcels=list(facts.parcels), owners=[], geometries=[merged_geometry([p.geometry for p in parcels])])


def _facts_of(tx: Transaction) -> Facts:
    return FactsOf.model_validate({"facts": tx.facts}).facts


def _people(facts: Facts, checked: _Checked, tx: Transaction) -> list[str]:
    """The UINs of the persons a transaction names (owners before and after, applicants, heirs)."""
    uins: list[str] = []
    refs = [getattr(facts, name, None) for name in ("applicant", "represents", "deceased", "lender")]
    uins += [ref.identifier for ref in refs if isinstance(ref, PartyRef) and ref.kind == "person"]
    uins += [p.identifier for p, _share in checked.owners if p.kind == PartyKind.PERSON]
    if checked.party is not None and checked.party.kind == PartyKind.PERSON:
        uins.append(checked.party.identifier)
    for parcel in tx.parcels:
        title = (
            Right.objects.select_related("party")
            .filter(parcel_number=parcel, kind__in=TITLE_KINDS)
            .order_by("-valid_from")
            .first()
        )
        if title is not None:
            uins += persons_of(title.party)
    return list(dict.fromkeys(uins))


def _audit(tx: Transaction, uins: Sequence[str], *, action: str, actor: Principal) -> None:
    access_record_all(
        [
            Access(
                actor.name,
                actor.kind,
                action,
                uin,
                f"{PURPOSE} {tx.number}",
                {"transaction": tx.number, "kind": tx.kind},
            )
            for uin in uins
        ]
    )


def _step(tx: Transaction, *, to: str, actor: Principal, reason: str = "") -> None:
    TransactionStep.objects.create(
        transaction=tx, from_state=tx.state, to_state=to, actor=actor.name, at=timezone.now(), reason=reason
    )
    tx.state = to


# --- the workflow ----------------------------------------------------------------------------------


@transaction.atomic
def transaction_lodge(*, facts: Facts, actor: Principal, sources: Sequence[str] = ()) -> Transaction:
    """Lodge a transaction: its facts checked against the register, its number given, its source
    documents (by SHA-256) attached."""
    actor.require("land.lodge")
    documents = list(Source.objects.filter(sha256__in=list(sources)))
    if len(documents) != len(set(sources)):
        raise NotFound(
            "source_not_found", _("A source document named is not stored; upload it first."), field="sources"
        )
    now = timezone.now()
    number = transaction_number(now.year, _next(f"transaction:{now.year}"))
    checked = _check(facts, number=number, sources=documents, lock=False)
    tx = Transaction.objects.create(
        number=number,
        kind=facts.kind,
        state=TransactionState.LODGED,
        parcels=checked.parcels,
        facts=facts.model_dump(mode="json"),
        lodged_by=actor.name,
        lodged_at=now,
    )
    tx.sources.set(documents)
    TransactionStep.objects.create(
        transaction=tx, from_state="", to_state=TransactionState.LODGED, actor=actor.name, at=now
    )
    _audit(tx, _people(facts, checked, tx), action=LODGE_ACTION, actor=actor)
    return tx


def _for_action(number: str, action: str) -> Transaction:
    tx = Transaction.objects.select_for_update().filter(number=number).first()
    if tx is None:
        raise NotFound(
            "transaction_not_found", _("No land transaction has the number %(number)s.") % {"number": number}
        )
    if tx.state not in _ALLOWED[action]:
        raise Conflict(
            "invalid_transition",
            _("Transaction %(number)s is %(state)s; it cannot be %(action)s now.")
            % {"number": number, "state": TransactionState(tx.state).label.lower(), "action": _ACTION_WORDS[action]},
            extra={"state": tx.state},
        )
    return tx


_ACTION_WORDS: Final = {"check": "checked", "register": "registered", "reject": "rejected", "heirs": "given heirs"}


def _four_eyes(tx: Transaction, actor: Principal, *, also: str = "") -> None:
    if actor.name in {tx.lodged_by, also} - {""}:
        raise DomainError(
            "four_eyes",
            _(
                "Someone other than the person who lodged or completed transaction %(number)s"
                " must check and register it."
            )
            % {"number": tx.number},
            status=409,
            title="Conflict",
        )


@transaction.atomic
def inheritance_heirs_set(*, number: str, heirs: Sequence[OwnerShare], actor: Principal) -> Transaction:
    """Complete an inheritance with the heirs and their shares (from the will or the court's order)."""
    actor.require("land.lodge")
    tx = _for_action(number, "heirs")
    facts = _facts_of(tx)
    if not isinstance(facts, InheritanceFacts):
        raise Conflict("not_inheritance", _("Only an inheritance is completed with heirs."))
    if not heirs:
        raise DomainError("heirs_required", _("Name at least one heir."), field="heirs")
    completed = facts.model_copy(update={"heirs": list(heirs)})
    checked = _check(completed, number=number, sources=list(tx.sources.all()), lock=False)
    tx.facts = completed.model_dump(mode="json")
    tx.save(update_fields=["facts"])
    TransactionStep.objects.create(
        transaction=tx,
        from_state=tx.state,
        to_state=tx.state,
        actor=actor.name,
        at=timezone.now(),
        reason="heirs named",
    )
    _audit(tx, _people(completed, checked, tx), action=LODGE_ACTION, actor=actor)
    return tx


def _completer(tx: Transaction) -> str:
    step = tx.steps.filter(reason="heirs named").order_by("-at").first()
    return step.actor if step is not None else ""


@transaction.atomic
def transaction_check(*, number: str, actor: Principal) -> Transaction:
    actor.require("land.decide")
    tx = _for_action(number, "check")
    _four_eyes(tx, actor, also=_completer(tx))
    facts = _facts_of(tx)
    if isinstance(facts, InheritanceFacts) and not facts.heirs:
        raise Conflict("heirs_required", _("Name the heirs before the inheritance is checked."))
    _check(facts, number=number, sources=list(tx.sources.all()), lock=False)
    tx.checked_by, tx.checked_at = actor.name, timezone.now()
    _step(tx, to=TransactionState.CHECKED, actor=actor)
    tx.save()
    return tx


@transaction.atomic
def transaction_reject(*, number: str, reason: str, actor: Principal) -> Transaction:
    actor.require("land.decide")
    reason = reason.strip()
    if not reason:
        raise DomainError("reason_required", _("Give the reason for rejecting, for the applicant."), field="reason")
    tx = _for_action(number, "reject")
    _four_eyes(tx, actor)
    tx.rejection_reason = reason[:500]
    _step(tx, to=TransactionState.REJECTED, actor=actor, reason=reason[:500])
    tx.save()
    transaction_publish(tx, "land.rejected", reason=tx.rejection_reason)
    return tx


@transaction.atomic
def transaction_register(*, number: str, actor: Principal) -> Transaction:
    """Register a checked transaction: its facts checked once more with the parcels locked, the
    versions it replaces closed and the new ones opened at one instant."""
    actor.require("land.decide")
    tx = _for_action(number, "register")
    _four_eyes(tx, actor, also=_completer(tx))
    facts = _facts_of(tx)
    checked = _check(facts, number=number, sources=list(tx.sources.all()), lock=True)
    people = _people(facts, checked, tx)
    now = timezone.now()
    tx.made = _APPLY[facts.kind](tx, facts, checked, now)
    tx.registered_by, tx.registered_at = actor.name, now
    _step(tx, to=TransactionState.REGISTERED, actor=actor)
    tx.save()
    _audit(tx, list(dict.fromkeys(people + _people(facts, checked, tx))), action=REGISTER_ACTION, actor=actor)
    transaction_publish(tx, "land.registered")
    return tx


# What the register tells subscribed agencies through the exchange when it decides a transaction:
# the number, its kind, the parcels and the day (and a rejection's reason), never who holds them.
def transaction_publish(
    tx: Transaction, event_type: str, *, reason: str = "", extra: dict[str, str | int] | None = None
) -> None:
    """Publish ``event_type`` of ``tx`` in the caller's transaction (an outbox: both commit or neither)."""
    payload: dict[str, object] = {
        "number": tx.number,
        "kind": tx.kind,
        "parcels": [*tx.parcels, *tx.made],
        "date": timezone.localdate().isoformat(),
        **(extra or {}),
    }
    if reason:
        payload["reason"] = reason
    try:
        event_publish(
            publisher=agency_client("LRA", "land-register"),
            event_type=event_type,
            payload=payload,
            idempotency_key=f"{tx.number}:{event_type}",
        )
    except NotFound as error:
        if error.code != "unknown_event_type":
            raise
        # The exchange of this deployment is not set up: the register works without it.
        logger.warning("event type %s is not registered; %s not published", event_type, tx.number)


# --- what registering does, by kind ----------------------------------------------------------------


def _close(rows: Sequence[Parcel | Right | Building], tx: Transaction, now: datetime) -> None:
    for row in rows:
        row.valid_to, row.closed_by = now, tx
        row.save(update_fields=["valid_to", "closed_by"])
    # A parcel or building closed leaves the map: the tiles kept of its collection are not served again.
    for collection, model in (("parcels", Parcel), ("buildings", Building)):
        if any(isinstance(row, model) for row in rows):
            collection_changed(collection)


def _open_parcel(tx: Transaction, now: datetime, *, geometry: Polygon, parish: str, land_use: str) -> Parcel:
    parcel = Parcel(
        number=_parcel_number(parish),
        parish=parish,
        area_m2=round(area_m2(geometry), 2),
        land_use=land_use,
        valid_from=now,
        opened_by=tx,
    )
    parcel.geometry_set(geometry)
    parcel.save()
    collection_changed("parcels")
    return parcel


def _copy_right(right: Right, *, parcel: str, tx: Transaction, now: datetime, party: Party | None = None) -> Right:
    return Right.objects.create(
        parcel_number=parcel,
        kind=right.kind,
        party=party or right.party,
        amount_cents=right.amount_cents,
        ends_on=right.ends_on,
        description=right.description,
        valid_from=now,
        opened_by=tx,
    )


def _title_kind(holder: Party) -> str:
    return RightKind.STATE_LAND if holder.kind == PartyKind.AGENCY else RightKind.OWNERSHIP


def _apply_first(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, FirstRegistrationFacts) and checked.geometries
    parcel = _open_parcel(tx, now, geometry=checked.geometries[0], parish=facts.parish, land_use=facts.land_use)
    holder = holder_for(checked.owners)
    Right.objects.create(
        parcel_number=parcel.number, kind=_title_kind(holder), party=holder, valid_from=now, opened_by=tx
    )
    for footprint in checked.geometries[1:]:
        building = Building(parcel_number=parcel.number, valid_from=now, opened_by=tx)
        building.geometry_set(footprint)
        building.save()
        collection_changed("buildings")
    return [parcel.number]


def _new_owner(tx: Transaction, parcel: str, owners: list[tuple[Party, Fraction]], now: datetime) -> None:
    title = current_title(parcel)
    _close([title], tx, now)
    holder = holder_for(owners)
    Right.objects.create(parcel_number=parcel, kind=_title_kind(holder), party=holder, valid_from=now, opened_by=tx)


def _apply_transfer(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, TransferFacts)
    _new_owner(tx, facts.parcel, checked.owners, now)
    return []


def inherited_shares(
    holders: Sequence[tuple[Party, Fraction]], deceased: PartyRef, heirs: Sequence[tuple[Party, Fraction]]
) -> list[tuple[Party, Fraction]]:
    """The owners after ``deceased`` passes their share to ``heirs`` (each heir's share of the
    estate): the other owners keep theirs, exactly."""
    passing = sum(
        (s for p, s in holders if p.kind == deceased.kind and p.identifier == deceased.identifier), Fraction(0)
    )
    result: dict[int, tuple[Party, Fraction]] = {}
    for party, share in [
        *((p, s) for p, s in holders if not (p.kind == deceased.kind and p.identifier == deceased.identifier)),
        *((heir, passing * part) for heir, part in heirs),
    ]:
        known = result.get(party.pk)
        result[party.pk] = (party, share + (known[1] if known else 0))
    return list(result.values())


def _holdings(holder: Party) -> list[tuple[Party, Fraction]]:
    if holder.kind != PartyKind.GROUP:
        return [(holder, Fraction(1))]
    return [(m.member, m.share) for m in holder.members.select_related("member").order_by("id")]


def _apply_inheritance(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, InheritanceFacts)
    for parcel in facts.parcels:
        owners = inherited_shares(_holdings(current_title(parcel).party), facts.deceased, checked.owners)
        _new_owner(tx, parcel, owners, now)
    return []


def _apply_mortgage(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, MortgageFacts) and checked.party is not None
    Right.objects.create(
        parcel_number=facts.parcel,
        kind=RightKind.MORTGAGE,
        party=checked.party,
        amount_cents=facts.amount_cents,
        valid_from=now,
        opened_by=tx,
    )
    return []


def _apply_discharge(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, DischargeFacts)
    _close(list(Right.objects.filter(pk=facts.mortgage)), tx, now)
    return []


def _apply_encumbrance(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, LeaseFacts | EasementFacts) and checked.party is not None
    Right.objects.create(
        parcel_number=facts.parcel,
        kind=RightKind.LEASE if isinstance(facts, LeaseFacts) else RightKind.EASEMENT,
        party=checked.party,
        ends_on=facts.ends_on,
        description=facts.description,
        valid_from=now,
        opened_by=tx,
    )
    return []


def _replace(tx: Transaction, olds: Sequence[Parcel], news: Sequence[Parcel], now: datetime) -> None:
    """Close ``olds`` with their rights and buildings; give each of ``news`` the rights, and the
    buildings standing on it (by the footprint's centre)."""
    numbers = [p.number for p in olds]
    rights = list(Right.objects.filter(parcel_number__in=numbers, valid_to__isnull=True).order_by("id"))
    buildings = list(Building.objects.filter(parcel_number__in=numbers, valid_to__isnull=True).order_by("id"))
    _close(list(olds), tx, now)
    _close(rights, tx, now)
    _close(buildings, tx, now)
    title = next(r for r in rights if r.kind in TITLE_KINDS)
    for new in news:
        _copy_right(title, parcel=new.number, tx=tx, now=now)
        for right in rights:
            if right.kind not in TITLE_KINDS:
                _copy_right(right, parcel=new.number, tx=tx, now=now)
    for building in buildings:
        footprint = building.geometry
        home = next((n for n in news if n.geometry.contains(footprint.representative_point())), news[0])
        moved = Building(
            parcel_number=home.number, use=building.use, storeys=building.storeys, valid_from=now, opened_by=tx
        )
        moved.geometry_set(footprint)
        moved.save()
        collection_changed("buildings")


def _apply_subdivision(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, SubdivisionFacts) and checked.geometries
    parent = current_parcel(facts.parcel)
    news = [
        _open_parcel(tx, now, geometry=geometry, parish=parent.parish, land_use=part.land_use)
        for geometry, part in zip(checked.geometries, facts.parts, strict=True)
    ]
    _replace(tx, [parent], news, now)
    return [p.number for p in news]


def _apply_merger(tx: Transaction, facts: Facts, checked: _Checked, now: datetime) -> list[str]:
    assert isinstance(facts, MergerFacts) and checked.geometries
    olds = [current_parcel(n) for n in facts.parcels]
    merged = _open_parcel(tx, now, geometry=checked.geometries[0], parish=olds[0].parish, land_use=facts.land_use)
    _replace(tx, olds, [merged], now)
    return [merged.number]


_APPLY: Final[dict[str, Callable[[Transaction, Facts, _Checked, datetime], list[str]]]] = {
    TransactionKind.FIRST_REGISTRATION: _apply_first,
    TransactionKind.TRANSFER: _apply_transfer,
    TransactionKind.INHERITANCE: _apply_inheritance,
    TransactionKind.MORTGAGE: _apply_mortgage,
    TransactionKind.DISCHARGE: _apply_discharge,
    TransactionKind.LEASE: _apply_encumbrance,
    TransactionKind.EASEMENT: _apply_encumbrance,
    TransactionKind.SUBDIVISION: _apply_subdivision,
    TransactionKind.MERGER: _apply_merger,
}


def parish_label(code: str) -> str:
    return parish_name(code) or code


__all__ = [
    "current_parcel",
    "current_title",
    "inheritance_heirs_set",
    "inherited_shares",
    "party_members",
    "transaction_check",
    "transaction_lodge",
    "transaction_publish",
    "transaction_register",
    "transaction_reject",
]
