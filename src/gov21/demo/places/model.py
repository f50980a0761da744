"""The demo nation's places as plain typed data: islands, roads, parcels with owners and histories,
households, businesses and public assets. Geometries are shapely objects in CRS84 (longitude,
latitude); lengths and areas are measured in the projected CRS they were drawn in (UTM zone 20N).

A person is referred to by its key in the simulated population (``SynthPerson.key``), not by a UIN:
UINs are drawn at random when the population is loaded, so only the loader can map one to the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from typing import Literal

from shapely.geometry import LineString, Point, Polygon
from shapely.geometry.base import BaseGeometry

PartyKind = Literal["person", "business", "agency"]
RoadClass = Literal["primary", "secondary", "local", "track"]
Surface = Literal["asphalt", "concrete", "gravel", "earth"]
LandUse = Literal["residential", "commercial", "agricultural", "public", "state"]
TransferKind = Literal["first_registration", "sale", "inheritance"]
Condition = Literal["good", "fair", "poor", "very_poor"]
AssetKind = Literal[
    "primary_school",
    "secondary_school",
    "clinic",
    "hospital",
    "police_station",
    "shelter",
    "substation",
    "water_main",
    "power_line",
    "port",
    "airstrip",
]

CURRENCY = "XCD"  # the demo nation pays in Eastern Caribbean dollars


@dataclass(frozen=True, slots=True)
class Party:
    """Who can hold land: a person (by population key), a business (by registration number) or an
    agency (by its exchange member code)."""

    kind: PartyKind
    ref: str

    @property
    def person_key(self) -> int:
        if self.kind != "person":
            raise ValueError(f"{self.kind} {self.ref} is not a person.")
        return int(self.ref)


@dataclass(frozen=True, slots=True)
class Holding:
    party: Party
    share: Fraction


@dataclass(frozen=True, slots=True)
class Transfer:
    """One registered change of ownership: who gave, who received (with shares), on which day, why."""

    on: date
    kind: TransferKind
    sellers: tuple[Holding, ...]  # empty for a first registration
    buyers: tuple[Holding, ...]


@dataclass(frozen=True, slots=True)
class Building:
    footprint: Polygon
    use: str  # dwelling, shop, school, clinic, ...
    storeys: int
    area_m2: float


@dataclass(frozen=True, slots=True)
class Parcel:
    number: str  # XA-01-000123: parish code and a number counted per parish
    parish: str
    settlement: str  # "" outside settlements
    land_use: LandUse
    geometry: Polygon
    area_m2: float
    owners: tuple[Holding, ...]  # shares add up to one
    history: tuple[Transfer, ...]  # oldest first; the last one's buyers are ``owners``
    building: Building | None
    household: int | None  # index into Places.households for dwellings


@dataclass(frozen=True, slots=True)
class Household:
    """The living people who share an address today; the head is the eldest adult among them."""

    index: int
    parish: str
    settlement: str
    line: str
    head: int
    members: tuple[int, ...]
    parcel: str  # the number of its dwelling parcel


@dataclass(frozen=True, slots=True)
class Business:
    number: str  # BN-YYYY-XXXXXX as the business register numbers them
    name: str
    activity: str
    owner: int  # person key
    parish: str
    settlement: str
    registered_on: date


@dataclass(frozen=True, slots=True)
class Island:
    number: int  # 1 is the largest
    name: str
    coastline: LineString
    area_km2: float
    parishes: tuple[str, ...]
    settlements: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class SettlementPlace:
    parish: str
    name: str
    island: int
    point: Point


@dataclass(frozen=True, slots=True)
class Road:
    id: str  # R-000001
    road_class: RoadClass
    surface: Surface
    geometry: LineString
    length_m: float
    island: int
    parish: str  # where it starts
    name: str
    agency: str
    condition: Condition
    replacement_value_cents: int
    criticality: int  # 1 (low) to 5 (the island stops without it)


@dataclass(frozen=True, slots=True)
class Asset:
    id: str  # A-000001
    kind: AssetKind
    name: str
    geometry: BaseGeometry  # a footprint Polygon, a LineString for networks
    parish: str
    settlement: str
    agency: str
    condition: Condition
    replacement_value_cents: int
    criticality: int
    capacity: int | None  # pupils, beds, shelter places, kVA; None where it means nothing
    parcel: str  # the parcel it stands on, "" for networks


@dataclass(frozen=True, slots=True)
class Places:
    seed: int
    today: date
    islands: tuple[Island, ...]
    settlements: tuple[SettlementPlace, ...]
    roads: tuple[Road, ...]
    parcels: tuple[Parcel, ...]
    households: tuple[Household, ...]
    businesses: tuple[Business, ...]
    assets: tuple[Asset, ...]
