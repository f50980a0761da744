"""Hand the demo nation's places to the registers that will keep them, in batches, through callables.

The land register and the asset register are separate apps with their own bulk loaders; this module
imports neither. It turns places into the records those loaders take (persons named by the UIN the
population load issued them, shares as exact fractions, geometries in CRS84) and calls whatever
callables it is given, in an order that never names something before it exists: businesses, then
parcels, then the transfers behind every title in date order, then roads and assets. Wiring the
seed to a register is then one line, for example::

    load_places(places, uins=stats.uins, sinks=Sinks(parcels=land_bulk.parcels_load, ...))

Each callable should write its batch in the caller's transaction: run ``load_places`` inside
``transaction.atomic()`` so that a refused batch leaves nothing half-written.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from itertools import islice
from typing import TypeVar

from shapely.geometry import Polygon
from shapely.geometry.base import BaseGeometry

from gov21.core.geography import parish_name
from gov21.demo.places.model import CURRENCY, Holding, Places

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class PartyRecord:
    kind: str  # person | business | agency
    ref: str  # a UIN, a business registration number or an exchange member code


@dataclass(frozen=True, slots=True)
class HoldingRecord:
    party: PartyRecord
    share: Fraction


@dataclass(frozen=True, slots=True)
class BusinessRecord:
    number: str
    name: str
    activity: str
    owner_uin: str
    address: str
    registered_on: date


@dataclass(frozen=True, slots=True)
class ParcelRecord:
    number: str
    parish: str
    settlement: str
    land_use: str
    geometry: Polygon
    area_m2: float
    building: Polygon | None
    building_use: str
    building_storeys: int


@dataclass(frozen=True, slots=True)
class TransferRecord:
    parcel: str
    on: date
    kind: str  # first_registration | sale | inheritance
    sellers: tuple[HoldingRecord, ...]
    buyers: tuple[HoldingRecord, ...]


@dataclass(frozen=True, slots=True)
class AssetRecord:
    id: str
    kind: str  # an asset kind, or "road"
    name: str
    geometry: BaseGeometry
    parish: str
    settlement: str
    agency: str
    condition: str
    replacement_value_cents: int
    currency: str
    criticality: int
    capacity: int | None
    parcel: str
    road_class: str
    surface: str


Sink = Callable[[Sequence[T]], None]


@dataclass(frozen=True, slots=True)
class Sinks:
    """Where each kind of record goes; a kind without a sink is not loaded."""

    businesses: Sink[BusinessRecord] | None = None
    parcels: Sink[ParcelRecord] | None = None
    transfers: Sink[TransferRecord] | None = None
    assets: Sink[AssetRecord] | None = None


class _Parties:
    def __init__(self, uins: Sequence[str]) -> None:
        self.uins = uins

    def uin(self, key: int) -> str:
        if not 0 <= key < len(self.uins):
            raise ValueError(
                f"Person {key} has no UIN: the places were drawn for a larger population than the one loaded "
                f"({len(self.uins)} UINs)."
            )
        return self.uins[key]

    def holdings(self, holdings: Iterable[Holding]) -> tuple[HoldingRecord, ...]:
        return tuple(
            HoldingRecord(
                PartyRecord(h.party.kind, self.uin(h.party.person_key) if h.party.kind == "person" else h.party.ref),
                h.share,
            )
            for h in holdings
        )


def business_records(places: Places, uins: Sequence[str]) -> Iterator[BusinessRecord]:
    parties = _Parties(uins)
    for b in places.businesses:
        address = f"{b.settlement}, {parish_name(b.parish)}"
        yield BusinessRecord(b.number, b.name, b.activity, parties.uin(b.owner), address, b.registered_on)


def parcel_records(places: Places) -> Iterator[ParcelRecord]:
    for p in places.parcels:
        building = p.building
        yield ParcelRecord(
            p.number,
            p.parish,
            p.settlement,
            p.land_use,
            p.geometry,
            p.area_m2,
            building.footprint if building is not None else None,
            building.use if building is not None else "",
            building.storeys if building is not None else 0,
        )


def transfer_records(places: Places, uins: Sequence[str]) -> list[TransferRecord]:
    """Every transfer of every parcel, oldest first (parcels in number order on the same day)."""
    parties = _Parties(uins)
    found = [
        TransferRecord(p.number, t.on, t.kind, parties.holdings(t.sellers), parties.holdings(t.buyers))
        for p in places.parcels
        for t in p.history
    ]
    # Stable: a parcel's own transfers on one day keep their order.
    found.sort(key=lambda t: (t.on, t.parcel))
    return found


def asset_records(places: Places) -> Iterator[AssetRecord]:
    for r in places.roads:
        yield AssetRecord(
            r.id, "road", r.name, r.geometry, r.parish, "", r.agency, r.condition, r.replacement_value_cents,
            CURRENCY, r.criticality, None, "", r.road_class, r.surface,
        )  # fmt: skip
    for a in places.assets:
        yield AssetRecord(
            a.id, a.kind, a.name, a.geometry, a.parish, a.settlement, a.agency, a.condition,
            a.replacement_value_cents, CURRENCY, a.criticality, a.capacity, a.parcel, "", "",
        )  # fmt: skip


def _batches(items: Iterable[T], size: int) -> Iterator[list[T]]:
    it = iter(items)
    while batch := list(islice(it, size)):
        yield batch


def load_places(places: Places, *, uins: Sequence[str], sinks: Sinks, batch_size: int = 5_000) -> dict[str, int]:
    """Send every place to its sink in batches of at most ``batch_size``; the count sent by kind.

    ``uins`` is the UIN of each simulated person by key (``LoadStats.uins`` of the population load).
    Every reference is resolved before the first sink is called, so an unknown person fails before
    anything is written.
    """
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1.")
    businesses = list(business_records(places, uins)) if sinks.businesses else []
    transfers = transfer_records(places, uins) if sinks.transfers else []
    plan: list[tuple[str, Sink[object] | None, Iterable[object]]] = [
        ("businesses", sinks.businesses, businesses),  # type: ignore[list-item]
        ("parcels", sinks.parcels, parcel_records(places)),  # type: ignore[list-item]
        ("transfers", sinks.transfers, transfers),  # type: ignore[list-item]
        ("assets", sinks.assets, asset_records(places)),  # type: ignore[list-item]
    ]
    sent: dict[str, int] = {}
    for name, sink, records in plan:
        if sink is None:
            continue
        sent[name] = 0
        for batch in _batches(records, batch_size):
            sink(batch)
            sent[name] += len(batch)
    return sent
