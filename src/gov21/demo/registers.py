"""The demo nation's places written into the land register and the register of public assets, in
batches (``bulk_create`` in the caller's transaction), as their own services would have recorded them.

Every parcel comes into the land register by a first registration; every later sale and inheritance
is a transaction of its own, registered on the day it happened (midday local time), which closes the
title it replaces (``valid_to``, ``closed_by``) and opens the new one at the same instant, so the
register reads as of any day. Parties are the rows ``land.parties`` makes (a person named as the
civil registry names them, a business by its registration number, an agency by its member code, a
group of joint owners with exact shares); transactions are numbered ``L-YYYY-NNNNNN`` in the
register's own yearly series, and the counters of those series and of every parish's parcel numbers
are advanced past what the seed used, so numbers given later never collide. The box of every parcel,
building and asset reaches the spatial index through the index's own triggers (SQLite) or generated
column (PostgreSQL).

The seed writes into empty registers only: a land register that already holds parcels, or an asset
register that already holds one of the codes, is refused before anything is written.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from datetime import date, datetime, time
from fractions import Fraction
from typing import Any, Final
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from shapely.geometry import mapping

from gov21.assets.models import Asset, AssetChange
from gov21.assets.services import _snapshot
from gov21.core.errors import DomainError
from gov21.demo.places.loading import (
    AssetRecord,
    BusinessRecord,
    HoldingRecord,
    PartyRecord,
    Sinks,
    TransferRecord,
    load_places,
)
from gov21.demo.places.loading import ParcelRecord as PlaceParcel
from gov21.demo.places.model import Places
from gov21.geo.contracts import collection_changed
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
    TransactionKind,
    TransactionState,
    TransactionStep,
)
from gov21.land.records import (
    FirstRegistrationFacts,
    InheritanceFacts,
    OwnerShare,
    PartyRef,
    TransferFacts,
)
from gov21.land.services import transaction_number
from gov21.registry.models import Person

# Who lodged and who checked and registered what the seed wrote: two names, as the four-eyes rule asks.
LODGED_BY: Final = "demo-seed-clerk"
REGISTERED_BY: Final = "demo-seed-registrar"
CHANGED_BY: Final = "demo-seed"

_TX_KIND: Final = {
    "first_registration": TransactionKind.FIRST_REGISTRATION,
    "sale": TransactionKind.TRANSFER,
    "inheritance": TransactionKind.INHERITANCE,
}
_ASSET_KIND: Final = {
    "primary_school": "school",
    "secondary_school": "school",
    "clinic": "clinic",
    "hospital": "hospital",
    "police_station": "police",
    "shelter": "shelter",
    "substation": "substation",
    "water_main": "water_main",
    "power_line": "power_line",
    "port": "port",
    "airstrip": "airstrip",
    "road": "road",
}
_CAPACITY_KINDS: Final = frozenset({"school", "clinic", "hospital", "shelter"})
_CONDITION: Final = {"good": "good", "fair": "fair", "poor": "poor", "very_poor": "unusable"}
_CRITICALITY: Final = {1: "low", 2: "low", 3: "medium", 4: "high", 5: "critical"}
_ROAD_CLASS: Final = {"primary": "primary", "secondary": "secondary", "local": "tertiary", "track": "track"}
_SURFACE: Final = {"asphalt": "paved", "concrete": "paved", "gravel": "gravel", "earth": "earth"}


def _share(fraction: Fraction) -> str:
    return f"{fraction.numerator}/{fraction.denominator}"


def _ref(party: PartyRecord) -> PartyRef:
    return PartyRef(kind=party.kind, identifier=party.ref)  # type: ignore[arg-type]


def _owners(holdings: Sequence[HoldingRecord]) -> list[OwnerShare]:
    return [OwnerShare(party=_ref(h.party), share=_share(h.share)) for h in holdings]


def _group_key(owners: Sequence[tuple[Party, Fraction]]) -> str:
    """The identifier ``land.parties.holder_for`` gives the group of ``owners``."""
    ordered = sorted(owners, key=lambda pair: (pair[0].kind, pair[0].identifier))
    return ";".join(f"{p.kind}:{p.identifier}={s.numerator}/{s.denominator}" for p, s in ordered)[:400]


class LandLoader:
    """Sinks for ``places.loading.load_places`` that write the land register. Call ``finish`` after
    the last batch to advance the register's counters."""

    def __init__(self) -> None:
        if Parcel.objects.exists():
            raise DomainError(
                "land_register_not_empty",
                "The land register already holds parcels; the demo nation's places fill an empty one only.",
            )
        self.tz = ZoneInfo(settings.TIME_ZONE)
        self.now = timezone.now()
        self.businesses: dict[str, str] = {}
        self.parcels: dict[str, PlaceParcel] = {}
        self.parties: dict[tuple[str, str], Party] = {
            (p.kind, p.identifier): p for p in Party.objects.exclude(kind=PartyKind.GROUP)
        }
        self.groups: dict[str, Party] = {p.identifier: p for p in Party.objects.filter(kind=PartyKind.GROUP)}
        self.titles: dict[str, Right] = {}  # the open title of each parcel
        self.holdings: dict[str, list[tuple[Party, Fraction]]] = {}
        self.sequences: dict[int, int] = {}
        self.parcel_last: dict[str, int] = defaultdict(int)
        self.counts: dict[str, int] = defaultdict(int)

    # --- sinks -------------------------------------------------------------------------------------

    def business_sink(self, batch: Sequence[BusinessRecord]) -> None:
        for b in batch:
            self.businesses[b.number] = b.name

    def parcel_sink(self, batch: Sequence[PlaceParcel]) -> None:
        # A parcel enters the register by its first registration, among the transfers.
        for p in batch:
            self.parcels[p.number] = p

    def transfer_sink(self, batch: Sequence[TransferRecord]) -> None:
        self._parties([h.party for t in batch for h in (*t.sellers, *t.buyers)])
        txs = [self._transaction(t) for t in batch]
        Transaction.objects.bulk_create(txs)
        self._steps(txs)
        parcels: list[Parcel] = []
        buildings: list[Building] = []
        new_rights: list[Right] = []
        closed_earlier: list[Right] = []
        for t, tx in zip(batch, txs, strict=True):
            moment = tx.registered_at
            assert moment is not None
            if t.kind == "first_registration":
                parcels.append(self._parcel(t.parcel, tx, moment))
                place = self.parcels[t.parcel]
                if place.building is not None:
                    building = Building(
                        parcel_number=t.parcel,
                        use=place.building_use or "dwelling",
                        storeys=max(1, place.building_storeys),
                        valid_from=moment,
                        opened_by=tx,
                    )
                    buildings.append(building.geometry_set(place.building))
            else:
                old = self.titles[t.parcel]
                old.valid_to, old.closed_by = moment, tx
                if old.pk is not None:
                    closed_earlier.append(old)
            owners = [(self.parties[(h.party.kind, h.party.ref)], h.share) for h in t.buyers]
            holder = self._holder(owners)
            kind = RightKind.STATE_LAND if holder.kind == PartyKind.AGENCY else RightKind.OWNERSHIP
            right = Right(parcel_number=t.parcel, kind=kind, party=holder, valid_from=moment, opened_by=tx)
            self.titles[t.parcel] = right
            new_rights.append(right)
        Parcel.objects.bulk_create(parcels)
        Building.objects.bulk_create(buildings)
        collection_changed("parcels")
        collection_changed("buildings")
        Right.objects.bulk_update(closed_earlier, ["valid_to", "closed_by"])
        Right.objects.bulk_create(new_rights)
        self.counts["transactions"] += len(txs)
        self.counts["parcels"] += len(parcels)
        self.counts["buildings"] += len(buildings)
        self.counts["rights"] += len(new_rights)

    @staticmethod
    def _steps(txs: Sequence[Transaction]) -> None:
        """Lodged, checked, registered: three steps a transaction, written with one executemany (the
        ORM's bulk insert spends more time building its SQL than the database spends on the rows)."""
        table = TransactionStep._meta.db_table
        rows = []
        for tx in txs:
            at = connection.ops.adapt_datetimefield_value(tx.lodged_at)
            rows += [
                (tx.pk, "", TransactionState.LODGED.value, LODGED_BY, at, ""),
                (tx.pk, TransactionState.LODGED.value, TransactionState.CHECKED.value, REGISTERED_BY, at, ""),
                (tx.pk, TransactionState.CHECKED.value, TransactionState.REGISTERED.value, REGISTERED_BY, at, ""),
            ]
        with connection.cursor() as cursor:
            cursor.executemany(
                f"INSERT INTO {table} (transaction_id, from_state, to_state, actor, at, reason) "  # noqa: S608
                "VALUES (%s, %s, %s, %s, %s, %s)",
                rows,
            )

    def finish(self) -> dict[str, int]:
        """Advance the counters past every number the seed gave; the rows written, by kind."""
        missing = set(self.parcels) - set(self.titles)
        if missing:
            raise DomainError(
                "parcel_without_title",
                f"{len(missing)} parcels of the demo nation have no first registration, e.g. {min(missing)}.",
            )
        series = {f"transaction:{year}": last for year, last in self.sequences.items()}
        series |= {f"parcel:{parish}": last for parish, last in self.parcel_last.items()}
        known = {c.series: c for c in Counter.objects.filter(series__in=list(series))}
        Counter.objects.bulk_create([Counter(series=s, last=n) for s, n in series.items() if s not in known])
        for name, counter in known.items():
            counter.last = max(counter.last, series[name])
        Counter.objects.bulk_update(list(known.values()), ["last"])
        return dict(self.counts)

    # --- rows ---------------------------------------------------------------------------------------

    def _moment(self, day: date) -> datetime:
        # As the population's registrations: stamped at midday local time on the day.
        return datetime.combine(day, time(12), tzinfo=self.tz)

    def _number(self, year: int) -> str:
        if year not in self.sequences:
            counter = Counter.objects.filter(series=f"transaction:{year}").first()
            self.sequences[year] = counter.last if counter is not None else 0
        self.sequences[year] += 1
        return transaction_number(year, self.sequences[year])

    def _transaction(self, t: TransferRecord) -> Transaction:
        moment = self._moment(t.on)
        facts: Any
        if t.kind == "first_registration":
            place = self.parcels[t.parcel]
            facts = FirstRegistrationFacts(
                parish=place.parish,
                land_use=place.land_use,
                geometry=dict(mapping(place.geometry)),
                owners=_owners(t.buyers),
                buildings=[dict(mapping(place.building))] if place.building is not None else [],
            )
        elif t.kind == "sale":
            facts = TransferFacts(parcel=t.parcel, applicant=_ref(t.sellers[0].party), buyers=_owners(t.buyers))
        else:
            facts = self._inheritance(t)
        return Transaction(
            number=self._number(t.on.year),
            kind=_TX_KIND[t.kind],
            state=TransactionState.REGISTERED,
            parcels=[] if t.kind == "first_registration" else [t.parcel],
            facts=facts.model_dump(mode="json"),
            lodged_by=LODGED_BY,
            lodged_at=moment,
            checked_by=REGISTERED_BY,
            checked_at=moment,
            registered_by=REGISTERED_BY,
            registered_at=moment,
            made=[t.parcel] if t.kind == "first_registration" else [],
        )

    @staticmethod
    def _inheritance(t: TransferRecord) -> InheritanceFacts:
        """The deceased is the owner before who is not among the owners after; each heir's share of
        the estate is what they gained over the share that passed (as ``land.services`` reads it)."""
        after = {(h.party.kind, h.party.ref): h.share for h in t.buyers}
        before = {(h.party.kind, h.party.ref): h.share for h in t.sellers}
        deceased = next((h for h in t.sellers if (h.party.kind, h.party.ref) not in after), t.sellers[0])
        passing = deceased.share
        heirs = []
        for key, share in after.items():
            gained = share - before.get(key, Fraction(0))
            if gained > 0:
                heirs.append(OwnerShare(party=PartyRef(kind=key[0], identifier=key[1]), share=_share(gained / passing)))  # type: ignore[arg-type]
        return InheritanceFacts(parcels=[t.parcel], deceased=_ref(deceased.party), heirs=heirs)

    def _parcel(self, number: str, tx: Transaction, moment: datetime) -> Parcel:
        place = self.parcels[number]
        parish, _sep, sequence = number.rpartition("-")
        if parish != place.parish or not sequence.isdigit():
            raise DomainError(
                "parcel_number_invalid", f"Parcel {number} is not numbered in its parish's series ({place.parish})."
            )
        self.parcel_last[parish] = max(self.parcel_last[parish], int(sequence))
        parcel = Parcel(
            number=number,
            parish=place.parish,
            area_m2=round(place.area_m2, 2),
            land_use=place.land_use,
            valid_from=moment,
            opened_by=tx,
        )
        return parcel.geometry_set(place.geometry)

    def _parties(self, refs: Sequence[PartyRecord]) -> None:
        """Record every party not yet known, named as ``land.parties.party_confirm`` names them."""
        wanted = {(r.kind, r.ref) for r in refs} - set(self.parties)
        if not wanted:
            return
        uins = [ref for kind, ref in wanted if kind == PartyKind.PERSON]
        names: dict[str, str] = {}
        for start in range(0, len(uins), 900):
            chunk = uins[start : start + 900]
            for uin, given, family in Person.objects.filter(uin__in=chunk).values_list(
                "uin", "given_names", "family_name"
            ):
                names[uin] = f"{given} {family}".strip()
        unknown = [uin for uin in uins if uin not in names]
        if unknown:
            raise DomainError(
                "party_not_found", f"No person with UIN {min(unknown)} is registered ({len(unknown)} missing)."
            )
        rows = []
        for kind, ref in sorted(wanted):
            if kind == PartyKind.PERSON:
                name = names[ref]
            elif kind == PartyKind.BUSINESS:
                if ref not in self.businesses:
                    raise DomainError("party_not_found", f"No business is registered with number {ref}.")
                name = self.businesses[ref]
            else:
                name = ref
            rows.append(Party(kind=kind, identifier=ref, name=name[:300], created_at=self.now))
        Party.objects.bulk_create(rows)  # both databases hand back the new keys
        for row in rows:
            self.parties[(row.kind, row.identifier)] = row

    def _holder(self, owners: list[tuple[Party, Fraction]]) -> Party:
        if len(owners) == 1:
            return owners[0][0]
        key = _group_key(owners)
        group = self.groups.get(key)
        if group is None:
            group = Party.objects.create(kind=PartyKind.GROUP, identifier=key, name="", created_at=self.now)
            ordered = sorted(owners, key=lambda pair: (pair[0].kind, pair[0].identifier))
            GroupMember.objects.bulk_create(
                GroupMember(group=group, member=p, share_numerator=s.numerator, share_denominator=s.denominator)
                for p, s in ordered
            )
            self.groups[key] = group
        return group


class AssetLoader:
    """A sink for ``places.loading.load_places`` that writes the register of public assets, each with
    its first version, as ``assets.services.asset_add`` records one."""

    def __init__(self) -> None:
        self.now = timezone.now()
        self.count = 0

    def asset_sink(self, batch: Sequence[AssetRecord]) -> None:
        codes = [a.id for a in batch]
        taken = list(Asset.objects.filter(code__in=codes).values_list("code", flat=True)[:1])
        if taken:
            raise DomainError("asset_exists", f"An asset with the code {taken[0]} is already registered.")
        assets = []
        for a in batch:
            kind = _ASSET_KIND[a.kind]
            asset = Asset(
                code=a.id,
                name=a.name[:200],
                kind=kind,
                agency=a.agency,
                parish=a.parish,
                condition=_CONDITION[a.condition],
                replacement_value_cents=a.replacement_value_cents,
                currency=a.currency,
                criticality=_CRITICALITY[a.criticality],
                capacity=a.capacity if kind in _CAPACITY_KINDS else None,
                road_class=_ROAD_CLASS[a.road_class] if kind == "road" else "",
                road_surface=_SURFACE[a.surface] if kind == "road" else "",
                version=1,
                created_at=self.now,
                updated_at=self.now,
            )
            assets.append(asset.geometry_set(a.geometry))
        Asset.objects.bulk_create(assets)
        AssetChange.objects.bulk_create(
            AssetChange(
                asset=asset,
                version=1,
                data=_snapshot(asset),
                reason="registered",
                changed_by=CHANGED_BY,
                changed_at=self.now,
            )
            for asset in assets
        )
        self.count += len(assets)


def places_load(places: Places, *, uins: Sequence[str], batch_size: int = 5_000) -> dict[str, int]:
    """Write ``places`` into the land and asset registers in one transaction; the rows written by kind."""
    with transaction.atomic():
        land, assets = LandLoader(), AssetLoader()
        load_places(
            places,
            uins=uins,
            sinks=Sinks(
                businesses=land.business_sink,
                parcels=land.parcel_sink,
                transfers=land.transfer_sink,
                assets=assets.asset_sink,
            ),
            batch_size=batch_size,
        )
        counts = land.finish()
    return counts | {"assets": assets.count}
