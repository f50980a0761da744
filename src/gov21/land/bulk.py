"""A whole history of registrations written into an empty land register at once (the demo nation's
seed): the same rows the services write when each transaction is lodged, checked and registered on
its day, but checked in bulk and written in large batches (executemany on SQLite, COPY on
PostgreSQL) instead of one database transaction per action (decision 0076).

What the services check, the bulk path checks over the whole history before it writes a row: every
parcel one valid polygon of at least 1 m² in a known parish, overlapping no parcel registered before
it by more than the tolerance (an STRtree over all of them), every footprint within its parcel; the
owners distinct with shares adding up to one; a transfer lodged by a registered owner for other
buyers; an inheritance naming a registered owner as the deceased and leaving the others' shares as
they were. A history that breaks one is refused with the services' error, and nothing is written.

What it writes is what registering writes: each transaction with its facts, its three steps
(lodged, checked, registered) and its numbers, in the register's yearly series; parcels numbered in
their parish's series in the order of their first registration, with their areas measured in the
projected CRS; buildings; titles opened and closed at the registration's instant; parties and groups
of joint owners; the counters advanced; the map's collections told that they changed. The spatial
index follows the rows (SQLite's triggers, PostGIS's generated column). It does not write what
registering tells others (the exchange's events, the access log): no officer registered this
history and no agency should act on it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fractions import Fraction
from typing import Any, Final, Literal

import numpy as np
import orjson
import shapely
from django.db import connection
from django.utils.translation import gettext as _
from numpy.typing import NDArray
from shapely import STRtree
from shapely.geometry import Polygon, mapping
from shapely.geometry.base import BaseGeometry

from gov21.core.errors import DomainError
from gov21.core.geo import to_projected
from gov21.core.geography import parishes
from gov21.core.ids import uin_check
from gov21.geo.contracts import collection_changed
from gov21.land.geometry import TOLERANCE_M2, tolerance_m2
from gov21.land.models import (
    Building,
    Counter,
    GroupMember,
    Parcel,
    Party,
    PartyKind,
    Right,
    RightKind,
    Transaction,
    TransactionState,
    TransactionStep,
)
from gov21.land.parties import MEMBER_CODE
from gov21.land.records import FirstRegistrationFacts, InheritanceFacts, TransferFacts
from gov21.land.services import transaction_number

BulkKind = Literal["first_registration", "transfer", "inheritance"]
_IDENTIFIER: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9/.-]{0,39}")


@dataclass(frozen=True, slots=True)
class BulkParty:
    """A person (UIN), business (registration number) or agency (member code), with the name the
    register that holds it gives it."""

    kind: str
    identifier: str
    name: str


@dataclass(frozen=True, slots=True)
class BulkHolding:
    kind: str
    identifier: str
    share: Fraction


@dataclass(frozen=True, slots=True)
class BulkBuilding:
    geometry: Polygon
    use: str = "dwelling"
    storeys: int = 1


@dataclass(frozen=True, slots=True)
class BulkParcel:
    """A parcel as surveyed: ``key`` names it among the transactions (the register gives its number)."""

    key: str
    parish: str
    land_use: str
    geometry: Polygon
    buildings: tuple[BulkBuilding, ...] = ()


@dataclass(frozen=True, slots=True)
class BulkTransaction:
    """A registration of ``parcel`` (a parcel's key) at ``at``: the owners before and after it. A first
    registration has no owners before; an inheritance's deceased is the owner before who is not
    among the owners after."""

    parcel: str
    at: datetime
    kind: BulkKind
    before: tuple[BulkHolding, ...]
    after: tuple[BulkHolding, ...]


def _fault(code: str, detail: str) -> DomainError:
    return DomainError(code, detail, status=422, title=_("The history does not fit the register"))


def _share(fraction: Fraction) -> str:
    return f"{fraction.numerator}/{fraction.denominator}"


def _ref(h: BulkHolding) -> dict[str, str]:
    return {"kind": h.kind, "identifier": h.identifier}


def _owners(holdings: Sequence[BulkHolding]) -> list[dict[str, Any]]:
    return [{"party": _ref(h), "share": _share(h.share)} for h in holdings]


def _leaving(tx: BulkTransaction) -> BulkHolding:
    """The first owner before who is not among the owners after: a sale's applicant (the one who
    lodges it; a joint owner buying the others out lodges nothing), an inheritance's deceased."""
    after = {(h.kind, h.identifier) for h in tx.after}
    return next((h for h in tx.before if (h.kind, h.identifier) not in after), tx.before[0])


_deceased = _leaving


def _heirs(tx: BulkTransaction) -> list[dict[str, Any]]:
    """Each heir's share of the estate: what they gained over the share that passed."""
    before = {(h.kind, h.identifier): h.share for h in tx.before}
    passing = _deceased(tx).share
    heirs = []
    for h in tx.after:
        gained = h.share - before.get((h.kind, h.identifier), Fraction(0))
        if gained > 0:
            heirs.append({"party": _ref(h), "share": _share(gained / passing)})
    return heirs


def bulk_facts(tx: BulkTransaction, *, number: str, parcel: BulkParcel) -> dict[str, Any]:
    """The facts of ``tx`` as a clerk would lodge them, in the shape ``model_dump(mode="json")`` of the
    kind's record gives (built by hand: the records' validation costs more than the whole write)."""
    if tx.kind == "first_registration":
        return {
            "kind": "first_registration",
            "parish": parcel.parish,
            "land_use": parcel.land_use,
            "geometry": mapping(parcel.geometry),
            "owners": _owners(tx.after),
            "buildings": [mapping(b.geometry) for b in parcel.buildings],
        }
    if tx.kind == "transfer":
        return {
            "kind": "transfer",
            "parcel": number,
            "applicant": _ref(_leaving(tx)),
            "represents": None,
            "buyers": _owners(tx.after),
            "price_cents": None,
        }
    return {
        "kind": "inheritance",
        "parcels": [number],
        "deceased": _ref(_deceased(tx)),
        "death_registration": "",
        "heirs": _heirs(tx),
    }


def bulk_facts_record(
    tx: BulkTransaction, *, number: str, parcel: BulkParcel
) -> FirstRegistrationFacts | TransferFacts | InheritanceFacts:
    """The same facts as the record the services take (to lodge the history one transaction at a time)."""
    data = orjson.loads(orjson.dumps(bulk_facts(tx, number=number, parcel=parcel)))
    if tx.kind == "first_registration":
        return FirstRegistrationFacts.model_validate(data)
    if tx.kind == "transfer":
        return TransferFacts.model_validate(data)
    return InheritanceFacts.model_validate(data)


# --- checks over the whole history -------------------------------------------------------------------


def _projected_areas(geometries: Sequence[BaseGeometry]) -> NDArray[np.float64]:
    """Areas in square metres of CRS84 geometries, in one transformation of all their coordinates
    (the same numbers ``core.geo.area_m2`` gives one at a time)."""
    if not len(geometries):
        return np.zeros(0)
    projected = to_projected(shapely.GeometryCollection(list(geometries)))
    assert isinstance(projected, shapely.GeometryCollection)
    return np.asarray(shapely.area(list(projected.geoms)), dtype=np.float64)


def _parcels_check(parcels: Sequence[BulkParcel], order: dict[str, int]) -> NDArray[np.float64]:
    """Every parcel and footprint valid, no parcel overlapping one registered before it, every
    footprint within its parcel (``land.geometry``'s rules and tolerances); the parcels' areas."""
    known = dict(parishes())
    for p in parcels:
        if p.parish not in known:
            raise _fault("unknown_parish", _("%(parish)s is not a parish.") % {"parish": p.parish})
    geometries = np.asarray([p.geometry for p in parcels], dtype=object)
    kinds = shapely.get_type_id(geometries)
    valid = shapely.is_valid(geometries)
    for index in np.flatnonzero((kinds != 3) | ~valid).tolist():
        raise _fault(
            "invalid_geometry",
            _("The boundary of parcel %(key)s is not one valid polygon.") % {"key": parcels[index].key},
        )
    areas = _projected_areas(list(geometries))
    for index in np.flatnonzero(areas < TOLERANCE_M2).tolist():
        raise _fault("invalid_geometry", _("Parcel %(key)s is smaller than 1 m².") % {"key": parcels[index].key})
    # Overlaps: each pair whose interiors may meet, measured against the later parcel's tolerance.
    tree = STRtree(geometries)
    left, right = tree.query(geometries, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    shared = shapely.intersection(geometries[left], geometries[right])
    some = shapely.area(shared) > 0
    left, right, shared = left[some], right[some], shared[some]
    overlaps = _projected_areas(list(shared))
    for i, j, overlap in zip(left.tolist(), right.tolist(), overlaps.tolist(), strict=True):
        first, later = (i, j) if order[parcels[i].key] < order[parcels[j].key] else (j, i)
        if overlap > tolerance_m2(float(areas[later])):
            raise _fault(
                "overlaps_neighbour",
                _("Parcel %(key)s overlaps parcel %(other)s by %(area).1f m².")
                % {"key": parcels[later].key, "other": parcels[first].key, "area": overlap},
            )
    # Footprints: valid, and reaching outside their parcel by no more than the tolerance.
    owners, footprints = [], []
    for position, p in enumerate(parcels):
        for b in p.buildings:
            owners.append(position)
            footprints.append(b.geometry)
    if footprints:
        feet = np.asarray(footprints, dtype=object)
        bad = (shapely.get_type_id(feet) != 3) | ~shapely.is_valid(feet)
        bad |= _projected_areas(footprints) < TOLERANCE_M2
        for index in np.flatnonzero(bad).tolist():
            raise _fault(
                "invalid_geometry",
                _("A building on parcel %(key)s is not a valid polygon of 1 m² or more.")
                % {"key": parcels[owners[index]].key},
            )
        outside = shapely.difference(feet, geometries[np.asarray(owners)])
        some = ~shapely.is_empty(outside)
        for index, area in zip(np.flatnonzero(some).tolist(), _projected_areas(list(outside[some])), strict=True):
            if area > TOLERANCE_M2:
                raise _fault(
                    "building_outside_parcel",
                    _("A building reaches outside parcel %(key)s.") % {"key": parcels[owners[index]].key},
                )
    return areas


def _party_check(kind: str, identifier: str) -> None:
    if kind == PartyKind.PERSON:
        uin_check(identifier, field="owners")
    elif kind == PartyKind.AGENCY:
        if not MEMBER_CODE.fullmatch(identifier):
            raise _fault("invalid_party", _("An agency is named by its exchange member code, such as LRA."))
    elif kind != PartyKind.BUSINESS or not _IDENTIFIER.fullmatch(identifier):
        raise _fault(
            "invalid_party",
            _("%(kind)s %(identifier)s is not a party the register knows.") % {"kind": kind, "identifier": identifier},
        )


def _shares_check(holdings: Sequence[BulkHolding], key: str) -> None:
    if not holdings:
        raise _fault("owners_required", _("A registration of parcel %(key)s names no owner after it.") % {"key": key})
    if len({(h.kind, h.identifier) for h in holdings}) != len(holdings):
        raise _fault("owner_twice", _("A party is named twice among the owners."))
    total = sum((h.share for h in holdings), Fraction(0))
    if total != 1 or any(h.share <= 0 for h in holdings):
        raise _fault(
            "shares_do_not_add_up",
            _("The owners' shares add up to %(total)s; they must add up to exactly 1.") % {"total": str(total)},
        )


def _holdings_key(holdings: Sequence[BulkHolding]) -> frozenset[tuple[str, str, Fraction]]:
    return frozenset((h.kind, h.identifier, h.share) for h in holdings)


def _history_check(transactions: Sequence[BulkTransaction], parcels: dict[str, BulkParcel]) -> None:
    """Each registration fits the register as the ones before it left it."""
    holding: dict[str, frozenset[tuple[str, str, Fraction]]] = {}
    last: datetime | None = None
    for tx in transactions:
        if last is not None and tx.at < last:
            raise _fault(
                "history_out_of_order",
                _("A registration of parcel %(key)s comes before the one listed above it.") % {"key": tx.parcel},
            )
        last = tx.at
        if tx.parcel not in parcels:
            raise _fault("parcel_not_found", _("No current parcel has the number %(number)s.") % {"number": tx.parcel})
        _shares_check(tx.after, tx.parcel)
        for h in (*tx.before, *tx.after):
            _party_check(h.kind, h.identifier)
        current = holding.get(tx.parcel)
        if tx.kind == "first_registration":
            if current is not None or tx.before:
                raise _fault(
                    "parcel_registered",
                    _("Parcel %(key)s is registered for the first time twice.") % {"key": tx.parcel},
                )
        elif current is None:
            raise _fault("no_title", _("Parcel %(number)s has no registered owner.") % {"number": tx.parcel})
        elif _holdings_key(tx.before) != current:
            raise _fault(
                "not_registered_owner",
                _("The owners before a registration of parcel %(key)s are not its registered owners.")
                % {"key": tx.parcel},
            )
        elif tx.kind == "transfer":
            applicant = _leaving(tx)
            if (applicant.kind, applicant.identifier) in {(h.kind, h.identifier) for h in tx.after}:
                raise _fault("buyer_is_seller", _("The buyer cannot be the seller: name someone else."))
        elif tx.kind == "inheritance":
            # The services give the deceased's share to the heirs and leave the others' as they were.
            deceased = _deceased(tx)
            expected: dict[tuple[str, str], Fraction] = defaultdict(Fraction)
            for h in tx.before:
                if (h.kind, h.identifier) != (deceased.kind, deceased.identifier):
                    expected[(h.kind, h.identifier)] += h.share
            for heir in _heirs(tx):
                party = heir["party"]
                numerator, denominator = heir["share"].split("/")
                expected[(party["kind"], party["identifier"])] += deceased.share * Fraction(
                    int(numerator), int(denominator)
                )
            if dict(expected) != {(h.kind, h.identifier): h.share for h in tx.after}:
                raise _fault(
                    "inheritance_shares",
                    _("An inheritance of parcel %(key)s changes the shares of the other owners.") % {"key": tx.parcel},
                )
        else:
            raise _fault("unknown_kind", _("%(kind)s is not a registration a history holds.") % {"kind": tx.kind})
        holding[tx.parcel] = _holdings_key(tx.after)
    missing = set(parcels) - set(holding)
    if missing:
        raise _fault(
            "parcel_without_title",
            _("%(count)d parcels have no first registration, such as %(key)s.")
            % {"count": len(missing), "key": min(missing)},
        )


# --- writing -----------------------------------------------------------------------------------------


def _next_id(model: type[Any]) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {model._meta.db_table}")  # noqa: S608
        row = cursor.fetchone()
    return int(row[0]) + 1


def _write(model: type[Any], columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
    """Rows into ``model``'s table: COPY on PostgreSQL, one executemany on SQLite (the ORM's bulk
    insert spends more time building its SQL than the database spends on the rows)."""
    if not rows:
        return
    table = model._meta.db_table
    cols = ", ".join(columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            marks = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)  # noqa: S608


def _sequence_reset(model: type[Any]) -> None:
    if connection.vendor != "postgresql":
        return
    table = model._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
            f"COALESCE((SELECT MAX(id) FROM {table}), 1))"
        )


class _Load:
    def __init__(self, parties: Sequence[BulkParty], *, lodged_by: str, registered_by: str) -> None:
        self.names = {(p.kind, p.identifier): p.name for p in parties}
        self.lodged_by, self.registered_by = lodged_by, registered_by
        self.sqlite = connection.vendor != "postgresql"
        self.party_ids: dict[tuple[str, str], int] = {
            (kind, identifier): pk for pk, kind, identifier in Party.objects.values_list("pk", "kind", "identifier")
        }
        self.next_party = _next_id(Party)
        self.next_tx = _next_id(Transaction)
        self.parties: list[tuple[Any, ...]] = []
        self.members: list[tuple[Any, ...]] = []
        self.series: dict[str, int] = {
            c.series: c.last
            for c in Counter.objects.filter(series__startswith="transaction:")
            | Counter.objects.filter(series__startswith="parcel:")
        }
        self.used: dict[str, int] = {}
        self.instants: dict[datetime, Any] = {}

    def at(self, moment: datetime) -> Any:
        if not self.sqlite:
            return moment
        # Many registrations share a day's instant: adapt each instant once.
        adapted = self.instants.get(moment)
        if adapted is None:
            adapted = self.instants[moment] = connection.ops.adapt_datetimefield_value(moment)
        return adapted

    def json(self, value: object) -> str:
        return orjson.dumps(value).decode()

    def next_number(self, series: str) -> int:
        self.series[series] = self.series.get(series, 0) + 1
        self.used[series] = self.series[series]
        return self.series[series]

    def party(self, kind: str, identifier: str, moment: datetime) -> int:
        pk = self.party_ids.get((kind, identifier))
        if pk is None:
            name = self.names.get((kind, identifier))
            if name is None:
                raise _fault(
                    "party_not_found",
                    _("No %(kind)s is known by %(identifier)s.") % {"kind": kind, "identifier": identifier},
                )
            pk = self.party_ids[(kind, identifier)] = self.next_party
            self.next_party += 1
            self.parties.append((pk, kind, identifier, name[:300], self.at(moment)))
        return pk

    def holder(self, holdings: Sequence[BulkHolding], moment: datetime) -> tuple[int, str]:
        """The party that holds the title (as ``land.parties.holder_for``) and its kind."""
        ids = [(self.party(h.kind, h.identifier, moment), h) for h in holdings]
        if len(ids) == 1:
            return ids[0][0], ids[0][1].kind
        ordered = sorted(ids, key=lambda pair: (pair[1].kind, pair[1].identifier))
        key = ";".join(f"{h.kind}:{h.identifier}={_share(h.share)}" for _pk, h in ordered)[:400]
        group = self.party_ids.get((PartyKind.GROUP, key))
        if group is None:
            group = self.party_ids[(PartyKind.GROUP, key)] = self.next_party
            self.next_party += 1
            self.parties.append((group, PartyKind.GROUP.value, key, "", self.at(moment)))
            self.members += [(group, pk, h.share.numerator, h.share.denominator) for pk, h in ordered]
        return group, PartyKind.GROUP.value


def land_history_load(
    *,
    parties: Sequence[BulkParty],
    parcels: Sequence[BulkParcel],
    transactions: Sequence[BulkTransaction],
    lodged_by: str,
    registered_by: str,
) -> dict[str, Any]:
    """Write ``transactions`` (in the order of their instants) into an empty land register, as if each
    had been lodged by ``lodged_by``, then checked and registered by ``registered_by`` at its instant.

    Runs in the caller's database transaction. Returns the rows written by kind and, under
    ``numbers``, the number the register gave each parcel, by its key."""
    if lodged_by == registered_by:
        raise _fault("four_eyes", _("Someone other than the person who lodged a transaction must register it."))
    if Parcel.objects.exists():
        raise DomainError(
            "land_register_not_empty",
            _("The land register already holds parcels; a history is loaded into an empty one only."),
        )
    by_key = {p.key: p for p in parcels}
    if len(by_key) != len(parcels):
        raise _fault("parcel_twice", _("A parcel is named twice."))
    _history_check(transactions, by_key)
    order = {tx.parcel: i for i, tx in enumerate(transactions) if tx.kind == "first_registration"}
    areas = dict(zip((p.key for p in parcels), _parcels_check(parcels, order).tolist(), strict=True))

    load = _Load(parties, lodged_by=lodged_by, registered_by=registered_by)
    numbers: dict[str, str] = {}
    txs: list[tuple[Any, ...]] = []
    steps: list[tuple[Any, ...]] = []
    parcel_rows: list[tuple[Any, ...]] = []
    building_rows: list[tuple[Any, ...]] = []
    # Titles: the open one of each parcel, closed in place when a later registration replaces it.
    rights: list[list[Any]] = []
    title: dict[str, int] = {}
    lodged, checked, registered = (
        TransactionState.LODGED.value,
        TransactionState.CHECKED.value,
        TransactionState.REGISTERED.value,
    )
    for tx in transactions:
        tx_id = load.next_tx
        load.next_tx += 1
        at = load.at(tx.at)
        tx_number = transaction_number(
            tx.at.astimezone(UTC).year, load.next_number(f"transaction:{tx.at.astimezone(UTC).year}")
        )
        parcel = by_key[tx.parcel]
        if tx.kind == "first_registration":
            number = f"{parcel.parish}-{load.next_number(f'parcel:{parcel.parish}'):06d}"
            numbers[tx.parcel] = number
            box = parcel.geometry.bounds
            parcel_rows.append(
                (
                    number,
                    parcel.parish,
                    round(areas[tx.parcel], 2),
                    parcel.land_use,
                    at,
                    None,
                    tx_id,
                    None,
                    shapely.to_wkb(parcel.geometry, hex=False),
                    *box,
                )
            )
            for b in parcel.buildings:
                building_rows.append(
                    (
                        number,
                        b.use,
                        b.storeys,
                        at,
                        None,
                        tx_id,
                        None,
                        shapely.to_wkb(b.geometry, hex=False),
                        *b.geometry.bounds,
                    )
                )
            concerned, made = [], [number]
        else:
            number = numbers[tx.parcel]
            old = rights[title[tx.parcel]]
            old[5], old[7] = at, tx_id
            concerned, made = [number], []
        facts = bulk_facts(tx, number=number, parcel=parcel)
        txs.append(
            (
                tx_id,
                tx_number,
                tx.kind,
                registered,
                load.json(concerned),
                load.json(facts),
                load.lodged_by,
                at,
                load.registered_by,
                at,
                load.registered_by,
                at,
                "",
                load.json(made),
            )
        )
        steps += [
            (tx_id, "", lodged, load.lodged_by, at, ""),
            (tx_id, lodged, checked, load.registered_by, at, ""),
            (tx_id, checked, registered, load.registered_by, at, ""),
        ]
        holder, kind = load.holder(tx.after, tx.at)
        right_kind = RightKind.STATE_LAND.value if kind == PartyKind.AGENCY else RightKind.OWNERSHIP.value
        title[tx.parcel] = len(rights)
        rights.append([number, right_kind, holder, None, None, None, at, None, tx_id, ""])
        # (columns: parcel_number, kind, party_id, amount_cents, ends_on, valid_to, valid_from,
        # closed_by_id, opened_by_id, description; valid_to and closed_by_id are set in place above)

    _write(Party, ("id", "kind", "identifier", "name", "created_at"), load.parties)
    _write(GroupMember, ("group_id", "member_id", "share_numerator", "share_denominator"), load.members)
    _write(
        Transaction,
        (
            "id",
            "number",
            "kind",
            "state",
            "parcels",
            "facts",
            "lodged_by",
            "lodged_at",
            "checked_by",
            "checked_at",
            "registered_by",
            "registered_at",
            "rejection_reason",
            "made",
        ),
        txs,
    )
    _write(TransactionStep, ("transaction_id", "from_state", "to_state", "actor", "at", "reason"), steps)
    box_cols = ("geometry_wkb", "min_lon", "min_lat", "max_lon", "max_lat")
    versioned = ("valid_from", "valid_to", "opened_by_id", "closed_by_id")
    _write(Parcel, ("number", "parish", "area_m2", "land_use", *versioned, *box_cols), parcel_rows)
    _write(Building, ("parcel_number", "use", "storeys", *versioned, *box_cols), building_rows)
    _write(
        Right,
        (
            "parcel_number",
            "kind",
            "party_id",
            "amount_cents",
            "ends_on",
            "valid_to",
            "valid_from",
            "closed_by_id",
            "opened_by_id",
            "description",
        ),
        [tuple(r) for r in rights],
    )
    for model in (Party, Transaction):
        _sequence_reset(model)
    _counters_advance(load.used)
    if parcel_rows:
        collection_changed("parcels")
    if building_rows:
        collection_changed("buildings")
    return {
        "transactions": len(txs),
        "parcels": len(parcel_rows),
        "buildings": len(building_rows),
        "rights": len(rights),
        "parties": len(load.parties),
        "numbers": numbers,
    }


def _counters_advance(used: dict[str, int]) -> None:
    """Each series' counter at the last number given, so the services' next number is free."""
    known = {c.series: c for c in Counter.objects.filter(series__in=list(used))}
    Counter.objects.bulk_create([Counter(series=s, last=n) for s, n in used.items() if s not in known])
    for name, counter in known.items():
        counter.last = max(counter.last, used[name])
    Counter.objects.bulk_update(list(known.values()), ["last"])


__all__ = [
    "BulkBuilding",
    "BulkHolding",
    "BulkParcel",
    "BulkParty",
    "BulkTransaction",
    "bulk_facts",
    "bulk_facts_record",
    "land_history_load",
]
