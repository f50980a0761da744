"""The demo nation's places written into the land register and the register of public assets through
their bulk paths (``land.contracts.land_history_load``, ``assets.contracts.assets_add_many``), which
check and write in batches what their services would have recorded (decision 0076).

Every parcel comes into the land register by a first registration; every later sale and inheritance
is a transaction of its own, registered on the day it happened (midday local time), so the register
reads as of any day. The land register numbers the parcels in its parishes' series, in the order of
their first registration, as its services do. Parties are named as the registers that hold them name
them: a person as the civil registry does (read here from the registry the seed just loaded), a
business by the name the seed drew for it, an agency by its member code.

The seed writes into empty registers only: a land register that already holds parcels, or an asset
register that already holds one of the codes, is refused before anything is written.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, time
from typing import Final
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from gov21.assets.contracts import AssetFacts, assets_add_many
from gov21.core.errors import DomainError
from gov21.core.geo import geometry_json
from gov21.demo.places.loading import (
    AssetRecord,
    BusinessRecord,
    HoldingRecord,
    Sinks,
    TransferRecord,
    load_places,
)
from gov21.demo.places.loading import ParcelRecord as PlaceParcel
from gov21.demo.places.model import Places
from gov21.land.contracts import (
    BulkBuilding,
    BulkHolding,
    BulkKind,
    BulkParcel,
    BulkParty,
    BulkTransaction,
    land_history_load,
)
from gov21.registry.models import Person

# Who lodged and who checked and registered what the seed wrote: two names, as the four-eyes rule asks.
LODGED_BY: Final = "demo-seed-clerk"
REGISTERED_BY: Final = "demo-seed-registrar"
CHANGED_BY: Final = "demo-seed"

_TX_KIND: Final[dict[str, BulkKind]] = {
    "first_registration": "first_registration",
    "sale": "transfer",
    "inheritance": "inheritance",
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


def member_code(ref: str) -> str:
    """An agency as the registers name it: by its member code (``LANDS``), not the full exchange
    identifier the places give (``XA/GOV/LANDS``); the instance and class are this nation's own."""
    return ref.rpartition("/")[2]


def _party_ref(kind: str, ref: str) -> str:
    return member_code(ref) if kind == "agency" else ref


def _holdings(records: Sequence[HoldingRecord]) -> tuple[BulkHolding, ...]:
    return tuple(
        BulkHolding(kind=h.party.kind, identifier=_party_ref(h.party.kind, h.party.ref), share=h.share) for h in records
    )


class _Collected:
    """Sinks for ``places.loading.load_places`` that keep what they are given for one bulk write."""

    def __init__(self) -> None:
        self.businesses: dict[str, str] = {}
        self.parcels: list[PlaceParcel] = []
        self.transfers: list[TransferRecord] = []
        self.assets: list[AssetRecord] = []

    def business_sink(self, batch: Sequence[BusinessRecord]) -> None:
        for b in batch:
            self.businesses[b.number] = b.name

    def parcel_sink(self, batch: Sequence[PlaceParcel]) -> None:
        self.parcels += batch

    def transfer_sink(self, batch: Sequence[TransferRecord]) -> None:
        self.transfers += batch

    def asset_sink(self, batch: Sequence[AssetRecord]) -> None:
        self.assets += batch


def person_names(uins: set[str]) -> dict[str, str]:
    """Each person's name as the civil registry gives it (``land.parties`` reads the same through the
    exchange); a UIN the registry does not hold is refused."""
    ordered = sorted(uins)
    names: dict[str, str] = {}
    for start in range(0, len(ordered), 900):
        rows = Person.objects.filter(uin__in=ordered[start : start + 900])
        for uin, given, family in rows.values_list("uin", "given_names", "family_name"):
            names[uin] = f"{given} {family}".strip()
    unknown = [uin for uin in ordered if uin not in names]
    if unknown:
        raise DomainError("party_not_found", f"No person with UIN {unknown[0]} is registered ({len(unknown)} missing).")
    return names


def _moment(day: date, tz: ZoneInfo) -> datetime:
    # As the population's registrations: stamped at midday local time on the day.
    return datetime.combine(day, time(12), tzinfo=tz)


def land_history(collected: _Collected) -> tuple[list[BulkParty], list[BulkParcel], list[BulkTransaction]]:
    """The places as the land register's bulk path takes them."""
    tz = ZoneInfo(settings.TIME_ZONE)
    named = {
        (h.party.kind, _party_ref(h.party.kind, h.party.ref))
        for t in collected.transfers
        for h in (*t.sellers, *t.buyers)
    }
    names = person_names({ref for kind, ref in named if kind == "person"})
    parties = []
    for kind, ref in sorted(named):
        if kind == "person":
            name = names[ref]
        elif kind == "business":
            if ref not in collected.businesses:
                raise DomainError("party_not_found", f"No business is registered with number {ref}.")
            name = collected.businesses[ref]
        else:
            name = ref
        parties.append(BulkParty(kind=kind, identifier=ref, name=name))
    parcels = [
        BulkParcel(
            key=p.number,
            parish=p.parish,
            land_use=p.land_use,
            geometry=p.geometry,
            buildings=(
                (
                    BulkBuilding(
                        geometry=p.building, use=p.building_use or "dwelling", storeys=max(1, p.building_storeys)
                    ),
                )
                if p.building is not None
                else ()
            ),
        )
        for p in collected.parcels
    ]
    transactions = [
        BulkTransaction(
            parcel=t.parcel,
            at=_moment(t.on, tz),
            kind=_TX_KIND[t.kind],
            before=_holdings(t.sellers),
            after=_holdings(t.buyers),
        )
        for t in collected.transfers
    ]
    return parties, parcels, transactions


def asset_facts(a: AssetRecord) -> AssetFacts:
    """An asset or road of the places as an officer would describe it to the asset register."""
    kind = _ASSET_KIND[a.kind]
    road = kind == "road"
    return AssetFacts.model_validate(
        {
            "code": a.id,
            "name": a.name[:200],
            "kind": kind,
            "agency": member_code(a.agency),
            "condition": _CONDITION[a.condition],
            "replacement_value_cents": a.replacement_value_cents,
            "currency": a.currency,
            "criticality": _CRITICALITY[a.criticality],
            "capacity": a.capacity if kind in _CAPACITY_KINDS else None,
            "road_class": _ROAD_CLASS[a.road_class] if road else None,
            "road_surface": _SURFACE[a.surface] if road else None,
            "geometry": geometry_json(a.geometry),
        }
    )


def places_load(places: Places, *, uins: Sequence[str], batch_size: int = 5_000) -> dict[str, int]:
    """Write ``places`` into the land and asset registers in one transaction; the rows written by kind."""
    collected = _Collected()
    load_places(
        places,
        uins=uins,
        sinks=Sinks(
            businesses=collected.business_sink,
            parcels=collected.parcel_sink,
            transfers=collected.transfer_sink,
            assets=collected.asset_sink,
        ),
        batch_size=batch_size,
    )
    with transaction.atomic():
        parties, parcels, transactions = land_history(collected)
        written = land_history_load(
            parties=parties,
            parcels=parcels,
            transactions=transactions,
            lodged_by=LODGED_BY,
            registered_by=REGISTERED_BY,
        )
        assets = assets_add_many(
            facts=[asset_facts(a) for a in collected.assets], changed_by=CHANGED_BY, at=timezone.now()
        )
    counts = {k: v for k, v in written.items() if isinstance(v, int)}
    return counts | {"assets": assets}
