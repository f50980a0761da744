"""Draw the demo nation's places from its simulated population, the same way every time.

Everything is drawn in metres (UTM zone 20N, as the parish boundaries are) and carried to CRS84 at
the end in one call. The order of the work matters, because each step leaves room for the next:

1. *Land.* The islands are the union of the parish boundaries (``core.geography``); each island's
   outline is its coastline.
2. *Primary roads.* A minimum spanning tree over each island's settlements, joining only pairs whose
   straight line stays on land (100 m from the sea), plus a few extra links to a settlement's second
   nearest neighbour; each link bends a little where the bend stays on land.
3. *Port and airstrip* per island: the port on the coast nearest the island's largest settlement, the
   runway where 1.2 km of land lies clear of settlements and roads.
4. *Towns.* One grid of 80 x 68 m cells covers the country; a cell holds a block of eight lots
   (72 x 60 m, the rest is street). Every settlement claims the free cells nearest its centre, large
   settlements reaching further (cells are ranked by distance over the square root of the need),
   until it has a lot for each of its households, businesses with shops and small public sites, and a
   whole block for each school and hospital. Cells on a primary road, by the port or on the runway
   stay empty. Lot boundaries inside a block are jittered but shared, so lots never overlap; local
   streets run along the gaps between a town's blocks and the two through its centre are secondary.
5. *Countryside.* A coarser grid (3 x 3 town cells) outside the towns: cells up to 3.5 km from a
   settlement are mostly farms, farther ones partly state land; cells at the coast are clipped to it.
6. *Owners and histories.* A dwelling belongs to its household's head (or, for some married couples,
   to both in halves), to a property business or to the housing agency; its history goes back through
   sales to living or since-dead people, inheritances from people who died (to the surviving spouse,
   or else in equal shares to the children alive at the death), and a first registration.
7. *Public assets* on their own lots, and water mains and power lines along the main roads.

Random numbers come from ``random.Random`` and ``numpy.random.Generator`` seeded from ``seed``; no set
is ever iterated, so the same population and seed give the same places byte for byte.
"""

from __future__ import annotations

import gc
import math
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from typing import Any

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry import LineString, MultiPoint, Point, Polygon
from shapely.geometry.base import BaseGeometry

from gov21.core.geo import CRS84, transform
from gov21.core.geography import boundaries, geography
from gov21.demo.boundaries import DRAWN_IN
from gov21.demo.places.model import (
    Asset,
    AssetKind,
    Building,
    Business,
    Condition,
    Holding,
    Household,
    Island,
    LandUse,
    Parcel,
    Party,
    Places,
    Road,
    RoadClass,
    SettlementPlace,
    Surface,
    Transfer,
)
from gov21.demo.synthetic import Nation, _streets_of

# The grid of towns: a cell is a block of 4 x 2 lots and half a street on each side.
PITCH_X = 80.0
PITCH_Y = 68.0
STREET = 8.0
LOT_COLUMNS = 4
LOT_ROWS = 2
LOTS_PER_BLOCK = LOT_COLUMNS * LOT_ROWS
FARM_CELLS = 3  # a farm cell is 3 x 3 town cells
COAST_MARGIN_M = 20.0
ROAD_LAND_MARGIN_M = 100.0
ROAD_RESERVE_M = 12.0  # no lot within this of a primary road's centre line
FARM_REACH_M = 3_500.0
STATE_FROM_M = 2_500.0
RUNWAY_M = (1_200.0, 30.0)
EPOCH = date(1955, 1, 1)  # the land register's first registrations

AGENCY = {
    "lands": "XA/GOV/LANDS",
    "housing": "XA/GOV/NHC",
    "education": "XA/GOV/MOE",
    "health": "XA/GOV/MOH",
    "police": "XA/GOV/RPF",
    "disaster": "XA/GOV/NEMO",
    "works": "XA/GOV/MOW",
    "water": "XA/GOV/WASA",
    "power": "XA/GOV/ELEC",
    "ports": "XA/GOV/PORTS",
    "aviation": "XA/GOV/CAA",
}
STATE = Party("agency", AGENCY["lands"])
ONE = Fraction(1)
HALF = Fraction(1, 2)

# What a business does decides what land it holds.
ACTIVITIES: tuple[tuple[str, str, str], ...] = (
    # (kind, name word, activity as the business register words it)
    ("shop", "Grocery", "Retail sale of food and household goods"),
    ("shop", "Hardware", "Retail sale of hardware and building materials"),
    ("shop", "Pharmacy", "Dispensing chemist"),
    ("shop", "Bakery", "Baking and sale of bread and pastry"),
    ("shop", "Motors", "Sale and repair of motor vehicles"),
    ("farm", "Farms", "Growing of fruit, vegetables and root crops"),
    ("farm", "Estates", "Mixed farming"),
    ("farm", "Livestock", "Raising of cattle, goats and poultry"),
    ("property", "Properties", "Renting of residential property"),
    ("property", "Rentals", "Renting of residential property"),
    ("other", "Fisheries", "Fishing and sale of fish"),
    ("other", "Construction", "Construction of buildings"),
    ("other", "Transport", "Passenger and freight transport by road"),
    ("other", "Guest House", "Short-stay accommodation"),
)
CONDITIONS: tuple[Condition, ...] = ("good", "fair", "poor", "very_poor")
CONDITION_WEIGHTS = (0.35, 0.35, 0.2, 0.1)
# Replacement cost in dollars: per metre of line, per square metre of floor, or per site.
ROAD_COST = {"primary": 2_500, "secondary": 1_500, "local": 900, "track": 200}
FLOOR_COST = {
    "primary_school": 3_200,
    "secondary_school": 3_500,
    "clinic": 4_500,
    "hospital": 6_500,
    "police_station": 3_800,
    "shelter": 3_000,
    "substation": 9_000,
}
LINE_COST = {"water_main": 600, "power_line": 350}
SITE_COST = {"port": 40_000_000, "airstrip": 25_000_000}
CRITICALITY: dict[str, int] = {
    "primary": 4,
    "secondary": 3,
    "local": 2,
    "track": 1,
    "primary_school": 3,
    "secondary_school": 3,
    "clinic": 3,
    "hospital": 5,
    "police_station": 4,
    "shelter": 4,
    "substation": 5,
    "water_main": 4,
    "power_line": 4,
    "port": 5,
    "airstrip": 4,
}
BLOCK_SITES: tuple[AssetKind, ...] = ("hospital", "secondary_school", "primary_school")
LOT_SITES: tuple[AssetKind, ...] = ("clinic", "police_station", "shelter", "substation")
SITE_NAMES = {
    "primary_school": "{place} Primary School",
    "secondary_school": "{parish} Secondary School",
    "clinic": "{place} Health Centre",
    "hospital": "{parish} Hospital",
    "police_station": "{place} Police Station",
    "shelter": "{place} Community Shelter",
    "substation": "{place} Substation",
}
SITE_AGENCY = {
    "primary_school": "education",
    "secondary_school": "education",
    "clinic": "health",
    "hospital": "health",
    "police_station": "police",
    "shelter": "disaster",
    "substation": "power",
}


class PlacesError(ValueError):
    """The geography leaves no room for what the population needs (a settlement without land)."""


def generate_places(nation: Nation, *, seed: int) -> Places:
    """The places of ``nation``: deterministic for the same population and ``seed``."""
    was_enabled = gc.isenabled()
    # Hundreds of thousands of small objects that never form cycles (as in ``synthetic.simulate``).
    gc.disable()
    try:
        return _Generator(nation, seed).run()
    finally:
        if was_enabled:
            gc.enable()


# --------------------------------------------------------------------------------------------------------------
# The population, as the places need it.


@dataclass(slots=True)
class _Site:
    """A lot or block a settlement needs, before it has a place."""

    use: str  # dwelling, shop, vacant or an AssetKind
    household: int = -1
    business: int = -1


@dataclass(slots=True)
class _Town:
    index: int  # in settlement order
    parish: str
    parish_index: int
    name: str
    weight: float
    island: int
    x: float
    y: float
    lon: float
    lat: float
    households: list[int]
    shops: list[int]  # business indices
    block_sites: list[str]
    lot_sites: list[str]
    block_cells: list[int] = field(default_factory=list)  # claimed cells, nearest the centre first

    @property
    def blocks_needed(self) -> int:
        lots = len(self.households) + len(self.shops) + len(self.lot_sites)
        return len(self.block_sites) + -(-lots // LOTS_PER_BLOCK)


class _Generator:
    def __init__(self, nation: Nation, seed: int) -> None:
        self.nation = nation
        self.seed = seed
        self.rng = random.Random(f"gov21-places/{seed}")  # noqa: S311 - simulation, not security
        self.np = np.random.default_rng([seed, 55])
        self.persons = nation.persons
        self.today = nation.today
        self.today_o = nation.today.toordinal()

    # ----------------------------------------------------------------------------------------------------------
    def run(self) -> Places:
        self._land()
        self._population()
        self._businesses()
        self._towns()
        self._primary_roads()
        self._port_and_airstrip()
        self._claim_blocks()
        self._lay_out_towns()
        self._countryside()
        self._local_roads()
        self._utilities()
        return self._finish()

    # ----------------------------------------------------------------------------------------------------------
    # 1. Land.
    def _land(self) -> None:
        self.parish_codes = [parish.code for parish in geography()]
        self.parish_names = {parish.code: parish.name for parish in geography()}
        shapes = [transform(b.geometry, CRS84, DRAWN_IN) for b in boundaries()]
        self.parish_shapes = dict(zip([b.code for b in boundaries()], shapes, strict=True))
        union = shapely.union_all(shapes)
        parts = [g for g in getattr(union, "geoms", [union]) if g.area > 1e6]
        # Parish edges are rounded to about a metre: a sliver between two of them is not sea.
        islands = sorted((Polygon(g.exterior) for g in parts), key=lambda g: (-g.area, g.bounds))
        self.islands = islands
        self.land = shapely.union_all(islands)
        self.land_inner = self.land.buffer(-COAST_MARGIN_M)
        self.road_land = [g.buffer(-ROAD_LAND_MARGIN_M) for g in islands]
        for g in (self.land, self.land_inner, *self.road_land):
            shapely.prepare(g)
        self.parish_tree = shapely.STRtree(shapes)
        self.parish_order = [b.code for b in boundaries()]

    def _parish_at(self, x: NDArray[np.float64], y: NDArray[np.float64]) -> list[str]:
        """The parish of each point ("" off every parish)."""
        points = np.asarray(shapely.points(x, y))
        found = [""] * len(points)
        point_i, shape_i = self.parish_tree.query(points, predicate="within")
        for p, s in zip(point_i.tolist(), shape_i.tolist(), strict=True):
            found[p] = self.parish_order[s]
        return found

    # ----------------------------------------------------------------------------------------------------------
    # The population: households, spouses, children.
    def _population(self) -> None:
        persons = self.persons
        n = len(persons)
        never = 10**8
        # One pass over everyone (it is the part of the work that grows with the population).
        alive_today = [True] * n
        birth_o = [0] * n
        death_o = [never] * n
        children: list[list[int] | None] = [None] * n
        groups: dict[tuple[str, str, str], list[int]] = {}
        adult_before = self.today_o - 18 * 365 - 5
        adults: list[int] = []
        adults_of_parish: dict[str, list[int]] = {code: [] for code in self.parish_codes}
        for p in persons:
            k = p.key
            b = p.birth_date.toordinal()
            birth_o[k] = b
            for parent in (p.mother, p.father):
                if parent is not None:
                    kids = children[parent]
                    if kids is None:
                        children[parent] = [k]
                    else:
                        kids.append(k)
            if p.death_date is not None:
                death_o[k] = p.death_date.toordinal()
                alive_today[k] = False
                continue
            # Households: the living who share an address today.
            home = p.addresses[-1]
            key = (home.parish, home.settlement, home.line)
            members = groups.get(key)
            if members is None:
                groups[key] = [k]
            else:
                members.append(k)
            if b <= adult_before:
                adults.append(k)
                adults_of_parish[home.parish].append(k)
        self.alive_today, self.birth_o, self.death_o, self.children = alive_today, birth_o, death_o, children
        self.adults, self.adults_of_parish = adults, adults_of_parish
        # Marriages in force at each death, and today's couples.
        self.spouse_now = [-1] * n
        self.widowed_by: list[list[tuple[int, int]] | None] = [None] * n  # deceased key, death ordinal
        self.married_on = [0] * n
        for m in self.nation.marriages:
            a, b = m.a, m.b
            end = m.divorce_date.toordinal() if m.divorce_date is not None else never
            da, db = death_o[a], death_o[b]
            if end == never and da == never and db == never:
                self.spouse_now[a], self.spouse_now[b] = b, a
                self.married_on[a] = self.married_on[b] = m.date.toordinal()
            for dead, survivor, died in ((a, b, da), (b, a, db)):
                if died < end and died < death_o[survivor] and died <= self.today_o:
                    lst = self.widowed_by[survivor]
                    if lst is None:
                        self.widowed_by[survivor] = [(dead, died)]
                    else:
                        lst.append((dead, died))
        self.widowed_of: dict[int, int] = {}
        for survivor, lst in enumerate(self.widowed_by):
            for deceased, _ in lst or ():
                self.widowed_of[deceased] = survivor
        # Households in the order of the geography, then of street and number.
        parish_rank = {code: i for i, code in enumerate(self.parish_codes)}
        settlement_rank = {(parish.code, s.name): j for parish in geography() for j, s in enumerate(parish.settlements)}

        def order(key: tuple[str, str, str]) -> tuple[int, int, str, int]:
            number, _, street = key[2].partition(" ")
            return (
                parish_rank[key[0]],
                settlement_rank[(key[0], key[1])],
                street,
                int(number) if number.isdigit() else 0,
            )

        self.household_keys = sorted(groups, key=order)
        # Keys are in birth order, so the first member is the eldest.
        self.household_members = [groups[key] for key in self.household_keys]

    def _adult_on(self, key: int, day: int) -> bool:
        return self.birth_o[key] + 18 * 365 + 5 <= day < self.death_o[key]

    # ----------------------------------------------------------------------------------------------------------
    def _businesses(self) -> None:
        rng = self.rng
        count = max(3, len(self.adults) // 40) if self.adults else 0
        self.businesses: list[Business] = []
        self.business_kind: list[str] = []
        names: dict[str, None] = {}
        numbers: dict[str, None] = {}
        start = date(1970, 1, 1).toordinal()
        for _ in range(count):
            owner = self.adults[int(rng.random() * len(self.adults))]
            kind, word, activity = ACTIVITIES[int(rng.random() * len(ACTIVITIES))]
            person = self.persons[owner]
            address = person.addresses[-1]
            lo = max(start, self.birth_o[owner] + 18 * 365 + 5)
            registered = lo + int(rng.random() * max(1, self.today_o - lo))
            family = person.name_changes[-1][1] if person.name_changes else person.family_name
            name = f"{family} {word}"
            suffix = 1
            while name.casefold() in names:
                suffix += 1
                name = f"{family} {word} {address.settlement}" if suffix == 2 else f"{family} {word} {suffix - 1}"
            names[name.casefold()] = None
            number = f"BN-{date.fromordinal(registered).year}-{rng.getrandbits(24):06X}"
            while number in numbers:
                number = f"BN-{date.fromordinal(registered).year}-{rng.getrandbits(24):06X}"
            numbers[number] = None
            self.businesses.append(
                Business(
                    number, name, activity, owner, address.parish, address.settlement, date.fromordinal(registered)
                )
            )
            self.business_kind.append(kind)
        self.businesses_of_kind: dict[str, list[int]] = {}
        for i, kind in enumerate(self.business_kind):
            self.businesses_of_kind.setdefault(kind, []).append(i)

    # ----------------------------------------------------------------------------------------------------------
    # Settlements and what each must hold.
    def _towns(self) -> None:
        points: list[Point] = []
        self.towns: list[_Town] = []
        index_of: dict[tuple[str, str], int] = {}
        for pi, parish in enumerate(geography()):
            for s in parish.settlements:
                pt = transform(Point(s.lon, s.lat), CRS84, DRAWN_IN)
                assert isinstance(pt, Point)
                island = next((i for i, g in enumerate(self.islands) if g.contains(pt)), -1)
                if island < 0:
                    raise PlacesError(f"Settlement {s.name} ({parish.code}) lies on no island.")
                index_of[(parish.code, s.name)] = len(self.towns)
                self.towns.append(
                    _Town(
                        len(self.towns),
                        parish.code,
                        pi,
                        s.name,
                        s.weight,
                        island,
                        pt.x,
                        pt.y,
                        s.lon,
                        s.lat,
                        [],
                        [],
                        [],
                        [],
                    )
                )
                points.append(pt)
        for h, key in enumerate(self.household_keys):
            self.towns[index_of[(key[0], key[1])]].households.append(h)
        for b, business in enumerate(self.businesses):
            if self.business_kind[b] == "shop":
                town = self.towns[index_of[(business.parish, business.settlement)]]
                if len(town.shops) < max(1, len(town.households) // 15):
                    town.shops.append(b)
        # Public sites: by population, so a small nation gets fewer schools.
        population = dict.fromkeys(self.parish_codes, 0)
        town_population = [0] * len(self.towns)
        for town in self.towns:
            size = sum(len(self.household_members[h]) for h in town.households)
            town_population[town.index] = size
            population[town.parish] += size
        total = max(1, sum(population.values()))
        largest_on_island: dict[int, str] = {}
        for town in self.towns:
            best = largest_on_island.get(town.island)
            if best is None or population[town.parish] > population[best]:
                largest_on_island[town.island] = town.parish
        hospital_parishes = [
            code for code in self.parish_codes if population[code] >= 0.08 * total or code in largest_on_island.values()
        ]
        main_town: dict[str, _Town] = {}
        for town in self.towns:
            if town.parish not in main_town or town.weight > main_town[town.parish].weight:
                main_town[town.parish] = town
        for town in self.towns:
            is_main = main_town[town.parish] is town
            homes = len(town.households)
            if is_main and town.parish in hospital_parishes and population[town.parish] > 0:
                town.block_sites.append("hospital")
            if is_main and homes:
                town.block_sites.append("secondary_school")
            if homes >= 20 or (is_main and homes):
                town.block_sites.append("primary_school")
            if homes and town.weight >= 6 and "hospital" not in town.block_sites:
                town.lot_sites.append("clinic")
            if homes and (is_main or town.weight >= 15):
                town.lot_sites.append("police_station")
            if homes >= 20:
                town.lot_sites.append("shelter")
            if is_main and homes:
                town.lot_sites.append("substation")
        self.town_population = town_population
        # Children of primary (5-11) and secondary (12-17) school age in each settlement.
        primary_from, secondary_from, secondary_to = (self.today_o - round(a * 365.25) for a in (5, 12, 18))
        self.school_age = []
        for town in self.towns:
            young = [0, 0]
            for h in town.households:
                for k in self.household_members[h]:
                    b = self.birth_o[k]
                    if secondary_from < b <= primary_from:
                        young[0] += 1
                    elif secondary_to < b <= secondary_from:
                        young[1] += 1
            self.school_age.append(young)
        self.parish_population = population
        self.main_town = main_town
        self.town_points = points

    # ----------------------------------------------------------------------------------------------------------
    # 2. Primary roads.
    def _primary_roads(self) -> None:
        rng = self.rng
        self.roads: list[dict[str, Any]] = []  # projected geometry and attributes, finished at the end
        for island in range(len(self.islands)):
            members = [t for t in self.towns if t.island == island]
            edges: list[tuple[float, int, int]] = []
            inner = self.road_land[island]
            for i, a in enumerate(members):
                for b in members[i + 1 :]:
                    line = LineString([(a.x, a.y), (b.x, b.y)])
                    if inner.contains(line) or line.length < 2 * ROAD_LAND_MARGIN_M:
                        edges.append((line.length, a.index, b.index))
            edges.sort()
            group = {t.index: t.index for t in members}

            def root(i: int, group: dict[int, int] = group) -> int:
                while group[i] != i:
                    group[i] = group[group[i]]
                    i = group[i]
                return i

            chosen: list[tuple[int, int]] = []
            spare: list[tuple[float, int, int]] = []
            for length, a_i, b_i in edges:
                ra, rb = root(a_i), root(b_i)
                if ra != rb:
                    group[ra] = rb
                    chosen.append((a_i, b_i))
                else:
                    spare.append((length, a_i, b_i))
            if len({root(t.index) for t in members}) > 1:
                raise PlacesError(f"The settlements of island {island + 1} cannot all be joined by roads on land.")
            # A few loops: some settlements also get a road to their second nearest neighbour.
            for t in members:
                near = [(length, a_i, b_i) for length, a_i, b_i in spare if t.index in (a_i, b_i)]
                if near and rng.random() < 0.25:
                    length, a_i, b_i = near[0]
                    if (a_i, b_i) not in chosen:
                        chosen.append((a_i, b_i))
            for a_i, b_i in chosen:
                a, b = self.towns[a_i], self.towns[b_i]
                line = self._bend(a.x, a.y, b.x, b.y, inner)
                self._road("primary", line, island, a.parish, f"{a.name} – {b.name} Road")

    def _bend(self, x0: float, y0: float, x1: float, y1: float, inner: BaseGeometry) -> LineString:
        """A road between two points that wanders a little, where the wandering stays on land."""
        straight = LineString([(x0, y0), (x1, y1)])
        length = straight.length
        if length < 400:
            return straight
        nx, ny = -(y1 - y0) / length, (x1 - x0) / length
        steps = max(2, min(8, int(length // 1_500)))
        coords = [(x0, y0)]
        for k in range(1, steps):
            f = k / steps
            off = self.rng.gauss(0.0, 0.04) * length * math.sin(math.pi * f)
            coords.append((x0 + (x1 - x0) * f + nx * off, y0 + (y1 - y0) * f + ny * off))
        coords.append((x1, y1))
        bent = LineString(coords)
        return bent if inner.contains(bent) else straight

    def _road(self, road_class: RoadClass, line: LineString, island: int, parish: str, name: str) -> None:
        surfaces: dict[str, tuple[tuple[Surface, ...], tuple[float, ...]]] = {
            "primary": (("asphalt", "concrete"), (0.85, 0.15)),
            "secondary": (("asphalt", "concrete", "gravel"), (0.7, 0.15, 0.15)),
            "local": (("asphalt", "concrete", "gravel", "earth"), (0.45, 0.1, 0.3, 0.15)),
            "track": (("gravel", "earth"), (0.3, 0.7)),
        }
        options, weights = surfaces[road_class]
        surface = self.rng.choices(options, weights)[0]
        self.roads.append(
            {"class": road_class, "surface": surface, "line": line, "island": island, "parish": parish, "name": name}
        )

    # ----------------------------------------------------------------------------------------------------------
    # 3. Port and airstrip.
    def _port_and_airstrip(self) -> None:
        rng = self.rng
        self.site_assets: list[dict[str, Any]] = []
        reserved: list[BaseGeometry] = [shapely.buffer(r["line"], ROAD_RESERVE_M) for r in self.roads]
        primary = shapely.union_all([r["line"] for r in self.roads]) if self.roads else Point()
        for island, shape in enumerate(self.islands):
            members = [t for t in self.towns if t.island == island]
            main = max(members, key=lambda t: (t.weight, -t.index))
            coast = shape.exterior
            at = coast.interpolate(coast.project(Point(main.x, main.y)))
            dx, dy = main.x - at.x, main.y - at.y
            d = math.hypot(dx, dy) or 1.0
            ux, uy = dx / d, dy / d
            cx, cy = at.x + ux * 40, at.y + uy * 40
            quay = Polygon(
                [
                    (cx + sx * 80 * -uy + sy * 45 * ux, cy + sx * 80 * ux + sy * 45 * uy)
                    for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
                ]
            ).intersection(shape)
            assert isinstance(quay, Polygon)
            reserved.append(quay.buffer(20))
            self.site_assets.append({"kind": "port", "geometry": quay, "town": main, "name": f"Port of {main.name}"})
            access = LineString([(cx + ux * 40, cy + uy * 40), (main.x, main.y)])
            if access.length > 60:
                self._road("secondary", access, island, main.parish, f"{main.name} Port Road")
                reserved.append(access.buffer(ROAD_RESERVE_M))
            runway = self._runway(shape, members, primary, rng)
            if runway is not None:
                ends = list(runway.exterior.coords)
                end_a = Point((ends[0][0] + ends[3][0]) / 2, (ends[0][1] + ends[3][1]) / 2)
                end_b = Point((ends[1][0] + ends[2][0]) / 2, (ends[1][1] + ends[2][1]) / 2)
                near = min(
                    members,
                    key=lambda t: (min(end_a.distance(Point(t.x, t.y)), end_b.distance(Point(t.x, t.y))), t.index),
                )
                here = Point(near.x, near.y)
                end = end_a if end_a.distance(here) <= end_b.distance(here) else end_b
                reserved.append(runway.buffer(60))
                self.site_assets.append(
                    {"kind": "airstrip", "geometry": runway, "town": near, "name": f"{near.name} Airstrip"}
                )
                self._road("secondary", LineString([end, here]), island, near.parish, f"{near.name} Airstrip Road")
                reserved.append(LineString([end, here]).buffer(ROAD_RESERVE_M))
        self.reserved = shapely.STRtree(reserved)
        self.runways = shapely.union_all(
            [a["geometry"].buffer(60) for a in self.site_assets if a["kind"] == "airstrip"]
        )

    def _runway(
        self, shape: Polygon, members: list[_Town], primary: BaseGeometry, rng: random.Random
    ) -> Polygon | None:
        inner = shape.buffer(-150)
        towns = MultiPoint([(t.x, t.y) for t in members])
        minx, miny, maxx, maxy = shape.bounds
        for length in (RUNWAY_M[0], 900.0):
            for _ in range(3_000):
                cx, cy = minx + rng.random() * (maxx - minx), miny + rng.random() * (maxy - miny)
                angle = math.radians(15 * int(rng.random() * 12))
                ux, uy = math.cos(angle), math.sin(angle)
                half_l, half_w = length / 2, RUNWAY_M[1] / 2
                runway = Polygon(
                    [
                        (cx + sx * half_l * ux - sy * half_w * uy, cy + sx * half_l * uy + sy * half_w * ux)
                        for sx, sy in ((-1, -1), (1, -1), (1, 1), (-1, 1))
                    ]
                )
                if (
                    inner.contains(runway)
                    and runway.distance(towns) > 1_500
                    and (primary.is_empty or runway.distance(primary) > 80)
                ):
                    return runway
        return None

    # ----------------------------------------------------------------------------------------------------------
    # 4. Towns.
    def _cell_boxes(self, i: NDArray[np.int64], j: NDArray[np.int64], scale: int, inset: float) -> NDArray[Any]:
        px, py = PITCH_X * scale, PITCH_Y * scale
        x0 = self.origin[0] + i * px
        y0 = self.origin[1] + j * py
        return shapely.box(x0 + inset, y0 + inset, x0 + px - inset, y0 + py - inset)

    def _claim_blocks(self) -> None:
        minx, miny, _, _ = self.land.bounds
        step_x, step_y = PITCH_X * FARM_CELLS, PITCH_Y * FARM_CELLS
        self.origin = (math.floor(minx / step_x) * step_x, math.floor(miny / step_y) * step_y)
        towns = [t for t in self.towns if t.blocks_needed > 0]
        reach = 2.2
        for _attempt in range(4):
            cand_cell: list[NDArray[np.int64]] = []
            cand_town: list[NDArray[np.int64]] = []
            cand_score: list[NDArray[np.float64]] = []
            for t in towns:
                need = t.blocks_needed
                radius = math.sqrt(need * PITCH_X * PITCH_Y / math.pi) * reach + 400
                ci = np.arange(
                    math.floor((t.x - radius - self.origin[0]) / PITCH_X),
                    math.ceil((t.x + radius - self.origin[0]) / PITCH_X),
                )
                cj = np.arange(
                    math.floor((t.y - radius - self.origin[1]) / PITCH_Y),
                    math.ceil((t.y + radius - self.origin[1]) / PITCH_Y),
                )
                mi, mj = np.meshgrid(ci, cj, indexing="ij")
                gi, gj = mi.ravel(), mj.ravel()
                dx = self.origin[0] + (gi + 0.5) * PITCH_X - t.x
                dy = self.origin[1] + (gj + 0.5) * PITCH_Y - t.y
                dist = np.hypot(dx, dy)
                keep = dist <= radius
                cand_cell.append(gi[keep] * 1_000_000 + gj[keep])
                cand_town.append(np.full(int(keep.sum()), t.index, dtype=np.int64))
                cand_score.append(dist[keep] / math.sqrt(need))
            cells = np.concatenate(cand_cell)
            owners = np.concatenate(cand_town)
            scores = np.concatenate(cand_score)
            unique, inverse = np.unique(cells, return_inverse=True)
            ok = self._usable_blocks(unique // 1_000_000, unique % 1_000_000)
            order = np.lexsort((cells, owners, scores))
            taken = np.zeros(len(unique), dtype=bool)
            wanted = {t.index: t.blocks_needed for t in towns}
            claimed: dict[int, list[int]] = {t.index: [] for t in towns}
            usable = ok[inverse]
            for k in order[usable[order]].tolist():
                u = int(inverse[k])
                town = int(owners[k])
                if taken[u] or len(claimed[town]) >= wanted[town]:
                    continue
                taken[u] = True
                claimed[town].append(int(unique[u]))
            short = [t for t in towns if len(claimed[t.index]) < wanted[t.index]]
            if not short:
                break
            reach *= 1.8
        else:
            raise PlacesError(f"No room for the households of {short[0].name} ({short[0].parish}).")
        self.claimed = claimed

    def _usable_blocks(self, i: NDArray[np.int64], j: NDArray[np.int64]) -> NDArray[np.bool_]:
        boxes = self._cell_boxes(i, j, 1, STREET / 2)
        ok = shapely.contains(self.land_inner, boxes)
        hit, _ = self.reserved.query(boxes, predicate="intersects")
        ok[hit] = False
        return np.asarray(ok, dtype=bool)

    def _lay_out_towns(self) -> None:
        """Lots in every claimed block, and what stands on each."""
        self.parcel_rows: list[dict[str, Any]] = []
        self.used_blocks: list[int] = []
        w = PITCH_X - STREET
        h = PITCH_Y - STREET
        for town in self.towns:
            cells = self.claimed.get(town.index, [])
            if not cells:
                continue
            self.used_blocks.extend(cells)
            arr = np.array(cells, dtype=np.int64)
            bi, bj = arr // 1_000_000, arr % 1_000_000
            bx = self.origin[0] + bi * PITCH_X + STREET / 2
            by = self.origin[1] + bj * PITCH_Y + STREET / 2
            dist = np.hypot(bx + w / 2 - town.x, by + h / 2 - town.y)
            order = np.lexsort((arr, dist))
            bx, by = bx[order], by[order]
            town.block_cells = arr[order].tolist()
            nb = len(bx)
            sites = len(town.block_sites)
            for k, kind in enumerate(town.block_sites):
                lot = shapely.box(bx[k], by[k], bx[k] + w, by[k] + h)
                self.parcel_rows.append(self._site_row(town, kind, lot))
            # The remaining blocks are cut into lots with jittered, shared boundaries.
            m = nb - sites
            if m <= 0:
                continue
            rx, ry = bx[sites:], by[sites:]
            xs = np.empty((m, LOT_COLUMNS + 1))
            xs[:, 0] = rx
            xs[:, LOT_COLUMNS] = rx + w
            for c in range(1, LOT_COLUMNS):
                xs[:, c] = rx + c * w / LOT_COLUMNS + self.np.uniform(-3.0, 3.0, m)
            mid = ry[:, None] + h / 2 + self.np.uniform(-4.0, 4.0, (m, LOT_COLUMNS))
            xmin = np.repeat(xs[:, :-1], LOT_ROWS, axis=1).ravel()
            xmax = np.repeat(xs[:, 1:], LOT_ROWS, axis=1).ravel()
            ymin = np.stack([np.broadcast_to(ry[:, None], mid.shape), mid], axis=2).reshape(m, -1).ravel()
            ymax = np.stack([mid, np.broadcast_to((ry + h)[:, None], mid.shape)], axis=2).reshape(m, -1).ravel()
            lots = shapely.box(xmin, ymin, xmax, ymax)
            uses: list[_Site] = [_Site("shop", business=b) for b in town.shops]
            uses += [_Site(kind) for kind in town.lot_sites]
            uses += [_Site("dwelling", household=hh) for hh in town.households]
            uses += [_Site("vacant")] * (len(lots) - len(uses))
            sizes = np.array([len(self.household_members[s.household]) if s.household >= 0 else 4 for s in uses])
            footprints, floors = self._footprints(xmin, ymin, xmax, ymax, sizes)
            for k, site in enumerate(uses):
                lot = lots[k]
                if site.use == "dwelling":
                    self.parcel_rows.append(
                        {
                            "use": "residential",
                            "town": town,
                            "geometry": lot,
                            "household": site.household,
                            "building": (footprints[k], "dwelling", int(floors[k])),
                        }
                    )
                elif site.use == "shop":
                    self.parcel_rows.append(
                        {
                            "use": "commercial",
                            "town": town,
                            "geometry": lot,
                            "business": site.business,
                            "building": (footprints[k], "shop", 1),
                        }
                    )
                elif site.use == "vacant":
                    self.parcel_rows.append({"use": "residential", "town": town, "geometry": lot, "building": None})
                else:
                    self.parcel_rows.append(self._site_row(town, site.use, lot))

    def _footprints(
        self,
        xmin: NDArray[np.float64],
        ymin: NDArray[np.float64],
        xmax: NDArray[np.float64],
        ymax: NDArray[np.float64],
        sizes: NDArray[np.int64],
    ) -> tuple[NDArray[Any], NDArray[np.int64]]:
        """A house on each lot: bigger, and higher, for bigger households; set back from every edge."""
        floors = np.where(sizes <= 6, 1, np.where(sizes <= 14, 2, 3))
        area = (60.0 + 22.0 * np.minimum(sizes, 30)) / floors
        room_w = xmax - xmin - 4.0
        room_h = ymax - ymin - 6.0
        bw = np.minimum(room_w, np.sqrt(area) * 1.2)
        bh = np.minimum(room_h, area / bw)
        jx = self.np.uniform(0.0, 1.0, len(xmin)) * (room_w - bw)
        jy = self.np.uniform(0.0, 1.0, len(xmin)) * (room_h - bh)
        x0 = xmin + 2.0 + jx
        y0 = ymin + 3.0 + jy
        return shapely.box(x0, y0, x0 + bw, y0 + bh), floors

    def _site_row(self, town: _Town, kind: str, lot: Polygon) -> dict[str, Any]:
        inset = 10.0 if kind in BLOCK_SITES else 4.0
        footprint = lot.buffer(-inset, join_style="mitre")
        return {
            "use": "public",
            "town": town,
            "geometry": lot,
            "asset": kind,
            "building": (footprint, kind, 2 if kind in ("hospital", "secondary_school") else 1),
        }

    # ----------------------------------------------------------------------------------------------------------
    # 5. Countryside.
    def _countryside(self) -> None:
        _, _, maxx, maxy = self.land.bounds
        step_x, step_y = PITCH_X * FARM_CELLS, PITCH_Y * FARM_CELLS
        ni = math.ceil((maxx - self.origin[0]) / step_x)
        nj = math.ceil((maxy - self.origin[1]) / step_y)
        mi, mj = np.meshgrid(np.arange(ni), np.arange(nj), indexing="ij")
        gi, gj = mi.ravel(), mj.ravel()
        town_cells = np.array(self.used_blocks, dtype=np.int64)
        blocked = np.unique(
            (town_cells // 1_000_000 // FARM_CELLS) * 1_000_000 + (town_cells % 1_000_000) // FARM_CELLS
        )
        free = ~np.isin(gi * 1_000_000 + gj, blocked)
        gi, gj = gi[free], gj[free]
        boxes = self._cell_boxes(gi, gj, FARM_CELLS, STREET / 2)
        touches = shapely.intersects(self.land_inner, boxes)
        gi, gj, boxes = gi[touches], gj[touches], boxes[touches]
        hit, _ = self.reserved.query(boxes, predicate="intersects")
        clear = np.ones(len(boxes), dtype=bool)
        clear[hit] = False
        # Lots at the edge of a town cell that no town took are left as verge; so are town blocks' neighbours.
        gi, gj, boxes = gi[clear], gj[clear], boxes[clear]
        inside = shapely.contains(self.land_inner, boxes)
        clipped = boxes.copy()
        clipped[~inside] = shapely.intersection(boxes[~inside], self.land_inner)
        full = (step_x - STREET) * (step_y - STREET)
        whole = (shapely.get_type_id(clipped) == 3) & (shapely.area(clipped) >= 0.4 * full)
        gi, gj, clipped = gi[whole], gj[whole], clipped[whole]
        cx = self.origin[0] + (gi + 0.5) * step_x
        cy = self.origin[1] + (gj + 0.5) * step_y
        parish = self._parish_at(cx, cy)
        tx = np.array([t.x for t in self.towns])
        ty = np.array([t.y for t in self.towns])
        nearest = np.full(len(cx), np.inf)
        for k in range(len(tx)):
            np.minimum(nearest, np.hypot(cx - tx[k], cy - ty[k]), out=nearest)
        # A smooth random field, so farms form belts and state land forms reserves rather than speckles.
        phase = self.np.uniform(0.0, 2 * math.pi, 4)
        field = (
            np.sin(cx / 2_300.0 + phase[0])
            + np.sin(cy / 3_100.0 + phase[1])
            + np.sin((cx + cy) / 4_100.0 + phase[2])
            + np.sin((cx - cy) / 1_700.0 + phase[3])
        ) / 4.0
        draw = np.clip(0.5 + 0.6 * field + 0.2 * (self.np.random(len(cx)) - 0.5), 0.0, 1.0)
        p_farm = 0.85 - nearest / (2 * FARM_REACH_M)
        # About one farm for every three adults at most: a small population does not till the whole island.
        expected = float(np.clip(p_farm[nearest <= FARM_REACH_M], 0.0, 1.0).sum())
        p_farm *= min(1.0, len(self.adults) / 3 / max(1.0, expected))
        farm = (nearest <= FARM_REACH_M) & (draw < p_farm)
        state = ~farm & (nearest >= STATE_FROM_M) & (draw > 0.45)
        self.farm_rows: list[int] = []
        self.countryside_cells: set[tuple[int, int]] = set()
        for k in range(len(cx)):
            if not parish[k] or not (farm[k] or state[k]):
                continue
            self.countryside_cells.add((int(gi[k]), int(gj[k])))
            if farm[k]:
                self.farm_rows.append(len(self.parcel_rows))
            self.parcel_rows.append(
                {
                    "use": "agricultural" if farm[k] else "state",
                    "town": None,
                    "parish": parish[k],
                    "geometry": clipped[k],
                    "building": None,
                    "cell": (int(gi[k]), int(gj[k])),
                }
            )

    # ----------------------------------------------------------------------------------------------------------
    def _local_roads(self) -> None:
        """Streets along the gaps between each town's blocks; the two through the centre are secondary;
        farm tracks along the farm rows."""
        for town in self.towns:
            cells = town.block_cells
            if not cells:
                continue
            arr = np.array(cells, dtype=np.int64)
            bi, bj = arr // 1_000_000, arr % 1_000_000
            streets = _streets_of(town.parish, town.name, town.weight)
            ci = math.floor((town.x - self.origin[0]) / PITCH_X)
            cj = math.floor((town.y - self.origin[1]) / PITCH_Y)
            lines: list[tuple[RoadClass, LineString, str]] = []
            for j in np.unique(bj).tolist():
                row = bi[bj == j]
                y = self.origin[1] + j * PITCH_Y
                central = j == cj or (j == cj + 1 and cj not in bj)
                for lo, hi in self._open_runs(int(row.min()), int(row.max()) + 1, j, across=False):
                    line = LineString([(self.origin[0] + lo * PITCH_X, y), (self.origin[0] + hi * PITCH_X, y)])
                    lines.append(("secondary" if central else "local", line, "row"))
            for i in np.unique(bi).tolist():
                col = bj[bi == i]
                x = self.origin[0] + i * PITCH_X
                central = i == ci or (i == ci + 1 and ci not in bi)
                for lo, hi in self._open_runs(int(col.min()), int(col.max()) + 1, i, across=True):
                    line = LineString([(x, self.origin[1] + lo * PITCH_Y), (x, self.origin[1] + hi * PITCH_Y)])
                    lines.append(("secondary" if central else "local", line, "column"))
            if not lines:
                continue
            geoms = shapely.difference(
                shapely.intersection(np.array([line for _, line, _ in lines], dtype=object), self.land_inner),
                self.runways,
            )
            for k, ((road_class, _, axis), geom) in enumerate(zip(lines, geoms, strict=True)):
                for part in getattr(geom, "geoms", [geom]):
                    if isinstance(part, LineString) and part.length >= 20:
                        if road_class == "secondary":
                            name = f"{town.name} {'Main Street' if axis == 'row' else 'Cross Street'}"
                        else:
                            name = streets[k % len(streets)]
                        self._road(road_class, part, town.island, town.parish, name)
        # Tracks: one along the south edge of each run of farms in a row of the farm grid.
        by_row: dict[int, list[int]] = {}
        for r in self.farm_rows:
            by_row.setdefault(self.parcel_rows[r]["cell"][1], []).append(self.parcel_rows[r]["cell"][0])
        step_x, step_y = PITCH_X * FARM_CELLS, PITCH_Y * FARM_CELLS
        count = 0
        for j in sorted(by_row):
            columns = sorted(by_row[j])
            runs: list[list[int]] = [[columns[0]]]
            for c in columns[1:]:
                if c == runs[-1][-1] + 1:
                    runs[-1].append(c)
                else:
                    runs.append([c])
            y = self.origin[1] + j * step_y
            for run in runs:
                track = (
                    LineString([(self.origin[0] + run[0] * step_x, y), (self.origin[0] + (run[-1] + 1) * step_x, y)])
                    .intersection(self.land_inner)
                    .difference(self.runways)
                )
                for part in getattr(track, "geoms", [track]):
                    if isinstance(part, LineString) and part.length >= 50:
                        mid = part.interpolate(0.5, normalized=True)
                        parish = self._parish_at(np.array([mid.x]), np.array([mid.y]))[0]
                        if parish:
                            count += 1
                            island = next(i for i, g in enumerate(self.islands) if g.intersects(mid))
                            self._road("track", part, island, parish, f"{self.parish_names[parish]} Farm Track {count}")

    def _open_runs(self, lo: int, hi: int, line: int, *, across: bool) -> list[tuple[int, int]]:
        """The stretches of a town's grid line from cell ``lo`` to ``hi`` that cross no farm or state
        parcel: a grid line inside a 3 x 3 countryside cell runs through its middle, not along its edge."""
        runs: list[tuple[int, int]] = []
        start = lo
        for k in range(lo, hi):
            i, j = (line, k) if across else (k, line)
            inside = (i % FARM_CELLS if across else j % FARM_CELLS) != 0
            if inside and (i // FARM_CELLS, j // FARM_CELLS) in self.countryside_cells:
                if k > start:
                    runs.append((start, k))
                start = k + 1
        if hi > start:
            runs.append((start, hi))
        return runs

    # ----------------------------------------------------------------------------------------------------------
    # 7. Networks along the main roads.
    def _utilities(self) -> None:
        self.network_assets: list[dict[str, Any]] = []
        mains = [r for r in self.roads if r["class"] in ("primary", "secondary")]
        lines = np.array([r["line"] for r in mains], dtype=object)
        water = shapely.intersection(shapely.offset_curve(lines, 5.0), self.land_inner)
        power = shapely.intersection(shapely.offset_curve(lines, -9.0), self.land_inner)
        for road, w, p in zip(mains, water, power, strict=True):
            for kind, geom in (("water_main", w), ("power_line", p)):
                if kind == "power_line" and road["class"] != "primary":
                    continue
                parts = [g for g in getattr(geom, "geoms", [geom]) if isinstance(g, LineString) and g.length >= 20]
                if parts:
                    longest = max(parts, key=lambda g: g.length)
                    what = "Water main" if kind == "water_main" else "Power line"
                    self.network_assets.append(
                        {"kind": kind, "geometry": longest, "parish": road["parish"], "name": f"{what}, {road['name']}"}
                    )

    # ----------------------------------------------------------------------------------------------------------
    # 6. Owners and histories, and the finished objects in CRS84.
    def _finish(self) -> Places:
        rng = self.rng
        to84 = _to_crs84()
        parcel_geoms = to84(np.array([row["geometry"] for row in self.parcel_rows], dtype=object))
        areas = shapely.area(np.array([row["geometry"] for row in self.parcel_rows], dtype=object))
        with_building = [k for k, row in enumerate(self.parcel_rows) if row["building"] is not None]
        footprints_p = np.array([self.parcel_rows[k]["building"][0] for k in with_building], dtype=object)
        footprints = to84(footprints_p)
        footprint_areas = shapely.area(footprints_p)
        building_of = {k: i for i, k in enumerate(with_building)}
        counters = dict.fromkeys(self.parish_codes, 0)
        parcels: list[Parcel] = []
        households: list[Household] = []
        assets: list[Asset] = []
        for k, row in enumerate(self.parcel_rows):
            town: _Town | None = row["town"]
            parish = town.parish if town is not None else row["parish"]
            counters[parish] += 1
            number = f"{parish}-{counters[parish]:06d}"
            land_use: LandUse = row["use"]
            building = None
            if k in building_of:
                _, use, storeys = row["building"]
                i = building_of[k]
                building = Building(footprints[i], use, storeys, round(float(footprint_areas[i]), 1))
            household = row.get("household", -1)
            owners, history = self._ownership(row, household)
            if household >= 0:
                members = self.household_members[household]
                key = self.household_keys[household]
                households.append(Household(household, key[0], key[1], key[2], members[0], tuple(members), number))
            parcels.append(
                Parcel(
                    number,
                    parish,
                    town.name if town is not None else "",
                    land_use,
                    parcel_geoms[k],
                    round(float(areas[k]), 1),
                    owners,
                    history,
                    building,
                    household if household >= 0 else None,
                )
            )
            if "asset" in row:
                assert town is not None and building is not None
                kind = row["asset"]
                capacity = self._capacity(kind, town)
                value = round(building.area_m2 * building.storeys * FLOOR_COST[kind]) * 100
                if kind == "substation":
                    value = 2_500_000 * 100
                assets.append(
                    self._asset(
                        kind,
                        SITE_NAMES[kind].format(place=town.name, parish=self.parish_names[town.parish]),
                        building.footprint,
                        town.parish,
                        town.name,
                        AGENCY[SITE_AGENCY[kind]],
                        value,
                        capacity,
                        number,
                        len(assets),
                    )
                )
        households.sort(key=lambda h: h.index)
        for site in self.site_assets:
            town = site["town"]
            geom = to84(np.array([site["geometry"]], dtype=object))[0]
            agency = AGENCY["ports" if site["kind"] == "port" else "aviation"]
            assets.append(
                self._asset(
                    site["kind"],
                    site["name"],
                    geom,
                    town.parish,
                    town.name,
                    agency,
                    SITE_COST[site["kind"]] * 100,
                    None,
                    "",
                    len(assets),
                )
            )
        network_geoms = to84(np.array([a["geometry"] for a in self.network_assets], dtype=object))
        for a, geom in zip(self.network_assets, network_geoms, strict=True):
            value = round(a["geometry"].length * LINE_COST[a["kind"]]) * 100
            agency = AGENCY["water" if a["kind"] == "water_main" else "power"]
            assets.append(
                self._asset(a["kind"], a["name"], geom, a["parish"], "", agency, value, None, "", len(assets))
            )
        road_geoms = to84(np.array([r["line"] for r in self.roads], dtype=object))
        roads = tuple(
            Road(
                f"R-{i + 1:06d}",
                r["class"],
                r["surface"],
                geom,
                round(r["line"].length, 1),
                r["island"] + 1,
                r["parish"],
                r["name"],
                AGENCY["works"],
                rng.choices(CONDITIONS, CONDITION_WEIGHTS)[0],
                round(r["line"].length * ROAD_COST[r["class"]]) * 100,
                CRITICALITY[r["class"]],
            )
            for i, (r, geom) in enumerate(zip(self.roads, road_geoms, strict=True))
        )
        return Places(
            seed=self.seed,
            today=self.today,
            islands=self._island_objects(to84),
            settlements=tuple(SettlementPlace(t.parish, t.name, t.island + 1, Point(t.lon, t.lat)) for t in self.towns),
            roads=roads,
            parcels=tuple(parcels),
            households=tuple(households),
            businesses=tuple(self.businesses),
            assets=tuple(assets),
        )

    def _island_objects(self, to84: Any) -> tuple[Island, ...]:
        coasts = to84(np.array([g.exterior for g in self.islands], dtype=object))
        found = []
        for i, (shape, coast) in enumerate(zip(self.islands, coasts, strict=True)):
            members = [t for t in self.towns if t.island == i]
            main = max(members, key=lambda t: (t.weight, -t.index))
            parishes = tuple(dict.fromkeys(t.parish for t in members))
            found.append(
                Island(
                    i + 1,
                    self.parish_names[main.parish],
                    coast,
                    round(shape.area / 1e6, 2),
                    parishes,
                    tuple(t.name for t in members),
                )
            )
        return tuple(found)

    def _asset(
        self,
        kind: AssetKind,
        name: str,
        geometry: BaseGeometry,
        parish: str,
        settlement: str,
        agency: str,
        value_cents: int,
        capacity: int | None,
        parcel: str,
        index: int,
    ) -> Asset:
        condition = self.rng.choices(CONDITIONS, CONDITION_WEIGHTS)[0]
        return Asset(
            f"A-{index + 1:06d}",
            kind,
            name,
            geometry,
            parish,
            settlement,
            agency,
            condition,
            value_cents,
            CRITICALITY[kind],
            capacity,
            parcel,
        )

    def _capacity(self, kind: str, town: _Town) -> int | None:
        if kind == "primary_school":
            return max(40, -(-self.school_age[town.index][0] // 20) * 20)
        if kind == "secondary_school":
            pupils = sum(self.school_age[t.index][1] for t in self.towns if t.parish == town.parish)
            return max(60, -(-pupils // 20) * 20)
        if kind == "hospital":
            return max(20, self.parish_population[town.parish] * 3 // 1000)
        if kind == "shelter":
            return max(30, self.town_population[town.index] * 8 // 100)
        if kind == "substation":
            return max(500, -(-len(town.households) * 5 // 500) * 500)
        return None

    # ----------------------------------------------------------------------------------------------------------
    # Owners and histories.
    def _ownership(self, row: dict[str, Any], household: int) -> tuple[tuple[Holding, ...], tuple[Transfer, ...]]:
        rng = self.rng
        use = row["use"]
        if use == "public":
            agency = Party("agency", AGENCY[SITE_AGENCY[row["asset"]]])
            owners = (Holding(agency, ONE),)
            return owners, (self._first_registration(owners, self._random_day(EPOCH.toordinal(), self.today_o - 365)),)
        if use == "state":
            owners = (Holding(STATE, ONE),)
            return owners, (Transfer(EPOCH, "first_registration", (), owners),)
        if use == "commercial":
            business = self.businesses[row["business"]]
            return self._business_holding(row["business"], business.registered_on.toordinal())
        if use == "residential" and household >= 0:
            members = self.household_members[household]
            head = members[0]
            r = rng.random()
            if r < 0.08 and self.businesses_of_kind.get("property"):
                landlords = self.businesses_of_kind["property"]
                b = landlords[int(rng.random() * len(landlords))]
                return self._business_holding(b, self.businesses[b].registered_on.toordinal())
            if r < 0.12:
                owners = (Holding(Party("agency", AGENCY["housing"]), ONE),)
                return owners, (
                    self._first_registration(owners, self._random_day(date(1975, 1, 1).toordinal(), self.today_o)),
                )
            if not self._adult_on(head, self.today_o):
                # Nobody of age lives there: the housing agency holds the home for the children.
                owners = (Holding(Party("agency", AGENCY["housing"]), ONE),)
                return owners, (
                    self._first_registration(owners, self._random_day(date(1975, 1, 1).toordinal(), self.today_o)),
                )
            moved_in = self.persons[head].addresses[-1].valid_from.toordinal()
            return self._person_holding(head, moved_in, members)
        # A vacant town lot or a farm: a living adult of the parish, a farming business or the state.
        parish = row["town"].parish if row["town"] is not None else row["parish"]
        r = rng.random()
        farms = self.businesses_of_kind.get("farm", [])
        if use == "agricultural" and r < 0.15 and farms:
            b = farms[int(rng.random() * len(farms))]
            return self._business_holding(b, self.businesses[b].registered_on.toordinal())
        adults = self.adults_of_parish.get(parish) or self.adults
        if r < 0.25 or not adults:
            owners = (Holding(STATE, ONE),)
            return owners, (Transfer(EPOCH, "first_registration", (), owners),)
        owner = adults[int(rng.random() * len(adults))]
        return self._person_holding(owner, -1, [owner])

    def _random_day(self, lo: int, hi: int) -> int:
        return lo + int(self.rng.random() * max(1, hi - lo))

    def _first_registration(self, owners: tuple[Holding, ...], day: int) -> Transfer:
        return Transfer(date.fromordinal(max(day, EPOCH.toordinal())), "first_registration", (), owners)

    def _business_holding(self, b: int, since: int) -> tuple[tuple[Holding, ...], tuple[Transfer, ...]]:
        owners = (Holding(Party("business", self.businesses[b].number), ONE),)
        day = self._random_day(since, self.today_o)
        return owners, tuple(self._acquired(owners, day, depth=0))

    def _person_holding(
        self, owner: int, moved_in: int, household: Sequence[int]
    ) -> tuple[tuple[Holding, ...], tuple[Transfer, ...]]:
        """Who holds a person's land today, and how they came to hold it."""
        rng = self.rng
        # Inherited from a parent who left no spouse: the children alive at the death share it.
        parents = [p for p in (self.persons[owner].mother, self.persons[owner].father) if p is not None]
        if parents and rng.random() < 0.35:
            parent = parents[int(rng.random() * len(parents))]
            inherited = self._inheritance(parent)
            if inherited is not None and any(h.party.ref == str(owner) for h in inherited[0]):
                return inherited
        # Inherited from a spouse who died in the marriage.
        widowed = self.widowed_by[owner]
        if widowed and rng.random() < 0.6:
            inherited = self._inheritance(widowed[-1][0])
            if inherited is not None:
                return inherited
        spouse = self.spouse_now[owner]
        together = spouse >= 0 and spouse in household and rng.random() < 0.45
        buyers = [owner, spouse] if together else [owner]
        day = moved_in
        earliest = max(self.birth_o[k] + 18 * 365 + 5 for k in buyers)
        if together:
            earliest = max(earliest, self.married_on[owner])
        if day < earliest or day > self.today_o:
            day = self._random_day(earliest, self.today_o)
        share = ONE / len(buyers)
        owners = tuple(Holding(Party("person", str(k)), share) for k in buyers)
        return owners, tuple(self._acquired(owners, day, depth=0))

    def _heirs(self, dead: int) -> list[int]:
        """The surviving spouse; or else the children alive at the death, in key order."""
        died = self.death_o[dead]
        for survivor in self._spouses_widowed_by(dead):
            return [survivor]
        return [c for c in (self.children[dead] or []) if self.birth_o[c] <= died < self.death_o[c]]

    def _spouses_widowed_by(self, dead: int) -> list[int]:
        survivor = self.widowed_of.get(dead)
        return [] if survivor is None else [survivor]

    def _inheritance(self, dead: int) -> tuple[tuple[Holding, ...], tuple[Transfer, ...]] | None:
        """The land of ``dead`` passed to the heirs, when the heirs are all alive today and the estate
        was settled before today; None otherwise."""
        died = self.death_o[dead]
        if died > self.today_o or died < EPOCH.toordinal() + 365:
            return None
        heirs = self._heirs(dead)
        if not heirs or any(not self.alive_today[h] for h in heirs):
            return None
        settled = died + 60 + int(self.rng.random() * 600)
        if settled > self.today_o:
            return None
        owners = tuple(Holding(Party("person", str(h)), ONE / len(heirs)) for h in heirs)
        # The deceased held it alone, from some day as an adult before the death.
        earliest = max(self.birth_o[dead] + 18 * 365 + 5, EPOCH.toordinal())
        if earliest >= died:
            return None
        before = (Holding(Party("person", str(dead)), ONE),)
        chain = self._acquired(before, self._random_day(earliest, died), depth=1)
        chain.append(Transfer(date.fromordinal(settled), "inheritance", before, owners))
        return owners, tuple(chain)

    def _acquired(self, owners: tuple[Holding, ...], day: int, depth: int) -> list[Transfer]:
        """Transfers, oldest first, ending with ``owners`` buying on ``day``: from someone who held the
        land before (alive and adult on both days), or a first registration."""
        rng = self.rng
        when = date.fromordinal(day)
        if depth >= 3 or day < EPOCH.toordinal() + 2 * 365 or rng.random() < 0.35:
            return [Transfer(when, "first_registration", (), owners)]
        held_from = day - int((2 + rng.random() * 23) * 365.25)
        held_from = max(held_from, EPOCH.toordinal())
        seller: Party | None = None
        if rng.random() < 0.12 and self.businesses:
            b = self.businesses[int(rng.random() * len(self.businesses))]
            # Never the business that buys: the register refuses a sale to its own seller.
            if b.registered_on.toordinal() <= held_from and all(h.party.ref != b.number for h in owners):
                seller = Party("business", b.number)
        if seller is None:
            mine = {h.party.ref for h in owners if h.party.kind == "person"}
            for _ in range(12):
                k = int(rng.random() * len(self.persons))
                if str(k) not in mine and self._adult_on(k, held_from) and self._adult_on(k, day):
                    seller = Party("person", str(k))
                    break
        if seller is None:
            return [Transfer(when, "first_registration", (), owners)]
        before = (Holding(seller, ONE),)
        chain = self._acquired(before, held_from, depth + 1)
        chain.append(Transfer(when, "sale", before, owners))
        return chain


def _to_crs84() -> Any:
    from gov21.core.geo import _transformer

    transformer = _transformer(DRAWN_IN.epsg, None)

    def carry(xy: NDArray[np.float64]) -> NDArray[np.float64]:
        x, y = transformer.transform(xy[:, 0], xy[:, 1])
        return np.column_stack([x, y])

    def to84(geoms: NDArray[Any]) -> NDArray[Any]:
        if len(geoms) == 0:
            return geoms
        return np.asarray(shapely.transform(geoms, carry))

    return to84
