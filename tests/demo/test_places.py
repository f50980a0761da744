"""The demo nation's places: deterministic, on land, without overlaps, one home per household, owners
whose shares add up, histories that respect the population's births and deaths, and roads that
join every settlement of an island."""

from __future__ import annotations

import io
import json
import os
import re
import subprocess
import sys
from collections import Counter
from datetime import date, timedelta
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import numpy as np
import pytest
import shapely
from django.core.management import CommandError, call_command
from shapely.geometry import LineString, Point, Polygon

from gov21.core.geo import CRS84, area_m2, geometry_check, transform
from gov21.core.geography import boundaries
from gov21.demo.boundaries import DRAWN_IN
from gov21.demo.places import Places, generate_places
from gov21.demo.places.export import places_digest, places_layers
from gov21.demo.places.model import Holding, Parcel, Party
from gov21.demo.synthetic import Nation, _anniversary, simulate

pytestmark = pytest.mark.xdist_group("demo_places")

TODAY = date(2026, 6, 1)
SEED = 7


@pytest.fixture(scope="module")
def nation() -> Nation:
    return simulate(people=6_000, seed=SEED, today=TODAY)


@pytest.fixture(scope="module")
def places(nation: Nation) -> Places:
    return generate_places(nation, seed=SEED)


def projected(geoms: list[object]) -> np.ndarray:
    return np.array([transform(g, CRS84, DRAWN_IN) for g in geoms], dtype=object)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def land() -> shapely.Geometry:
    """The islands as the parish boundaries draw them, in metres, holes between parishes filled."""
    union = shapely.union_all([transform(b.geometry, CRS84, DRAWN_IN) for b in boundaries()])
    return shapely.union_all([Polygon(g.exterior) for g in getattr(union, "geoms", [union])])


def test_the_same_population_and_seed_give_the_same_places(nation: Nation, places: Places) -> None:
    again = generate_places(nation, seed=SEED)
    assert places_digest(again) == places_digest(places)
    assert places_layers(again) == places_layers(places)
    other = generate_places(nation, seed=SEED + 1)
    assert places_digest(other) != places_digest(places)


def test_parcels_do_not_overlap(places: Places) -> None:
    geoms = projected([p.geometry for p in places.parcels])
    tree = shapely.STRtree(geoms)
    left, right = tree.query(geoms, predicate="intersects")
    pairs = left < right
    left, right = left[pairs], right[pairs]
    assert len(left) > 1000, "neighbouring lots share edges, so many pairs touch"
    shared = shapely.area(shapely.intersection(geoms[left], geoms[right]))
    overlapping = [
        (places.parcels[a].number, places.parcels[b].number)
        for a, b, s in zip(left, right, shared, strict=True)
        if s > 0.01
    ]
    assert overlapping == []


def test_a_parcel_overlapping_another_would_be_found(places: Places) -> None:
    # The check above must be able to fail: a lot moved by five metres overlaps its neighbour.
    geoms = projected([p.geometry for p in places.parcels if p.land_use == "residential"][:50])
    moved = shapely.transform(geoms[0], lambda xy: xy + 5.0)
    tree = shapely.STRtree(geoms)
    hits = tree.query(moved, predicate="intersects")
    assert max(float(shapely.area(shapely.intersection(moved, geoms[i]))) for i in hits) > 0.01


def test_everything_lies_on_land(places: Places, land: shapely.Geometry) -> None:
    shore = land.buffer(0.05)
    shapely.prepare(shore)
    for what, geoms in (
        ("parcel", [p.geometry for p in places.parcels]),
        ("building", [p.building.footprint for p in places.parcels if p.building is not None]),
        ("road", [r.geometry for r in places.roads]),
        ("asset", [a.geometry for a in places.assets]),
    ):
        inside = shapely.contains(shore, projected(geoms))
        assert inside.all(), f"{int((~inside).sum())} {what}s reach the sea"


def test_buildings_stand_inside_their_parcels(places: Places) -> None:
    with_building = [p for p in places.parcels if p.building is not None]
    lots = projected([p.geometry for p in with_building])
    footprints = projected([p.building.footprint for p in with_building])  # type: ignore[union-attr]
    assert shapely.contains(shapely.buffer(lots, 0.01), footprints).all()
    dwellings = [p for p in places.parcels if p.land_use == "residential" and p.household is not None]
    assert all(p.building is not None and p.building.use == "dwelling" for p in dwellings)


def test_areas_are_measured_in_the_projected_crs(places: Places) -> None:
    for parcel in places.parcels[::97]:
        assert parcel.area_m2 == pytest.approx(area_m2(parcel.geometry), rel=1e-4, abs=0.2)
        assert parcel.area_m2 > 300


def test_every_household_has_exactly_one_dwelling(nation: Nation, places: Places) -> None:
    # Households worked out again from the population: the living who share an address today.
    expected: dict[tuple[str, str, str], list[int]] = {}
    for person in nation.persons:
        if person.death_date is None:
            a = person.addresses[-1]
            expected.setdefault((a.parish, a.settlement, a.line), []).append(person.key)
    got = {(h.parish, h.settlement, h.line): list(h.members) for h in places.households}
    assert got == expected
    homes = Counter(p.household for p in places.parcels if p.household is not None)
    assert sorted(homes) == list(range(len(places.households)))
    assert set(homes.values()) == {1}
    by_number = {p.number: p for p in places.parcels}
    for household in places.households:
        parcel = by_number[household.parcel]
        assert parcel.household == household.index
        assert (parcel.parish, parcel.settlement) == (household.parish, household.settlement)
        head = nation.persons[household.head]
        assert household.head == min(household.members)  # the eldest
        assert head.death_date is None


def test_parcel_numbers_are_unique_and_counted_by_parish(places: Places) -> None:
    numbers = [p.number for p in places.parcels]
    assert len(set(numbers)) == len(numbers)
    for parcel in places.parcels:
        assert re.fullmatch(r"XA-\d\d-\d{6}", parcel.number)
        assert parcel.number.startswith(parcel.parish + "-")
    uses = Counter(p.land_use for p in places.parcels)
    assert {"residential", "commercial", "agricultural", "public", "state"} <= set(uses)


def _total(holdings: tuple[Holding, ...]) -> Fraction:
    return sum((h.share for h in holdings), Fraction(0))


def test_shares_add_up_to_one(places: Places) -> None:
    co_owned = 0
    for parcel in places.parcels:
        assert _total(parcel.owners) == 1, parcel.number
        assert all(h.share > 0 for h in parcel.owners)
        assert len({h.party for h in parcel.owners}) == len(parcel.owners)
        co_owned += len(parcel.owners) > 1
        for transfer in parcel.history:
            assert _total(transfer.buyers) == 1
            if transfer.sellers:
                assert _total(transfer.sellers) == 1
    assert co_owned > 20


def _check_history(parcel: Parcel, nation: Nation, businesses: dict[str, date], errors: list[str]) -> None:
    persons = nation.persons
    history = parcel.history
    tag = parcel.number
    if not history or history[0].kind != "first_registration" or history[0].sellers:
        errors.append(f"{tag}: does not start with a first registration")
    if history and history[-1].buyers != parcel.owners:
        errors.append(f"{tag}: the last transfer's buyers are not the owners")
    for earlier, later in pairwise(history):
        if later.sellers != earlier.buyers:
            errors.append(f"{tag}: {later.kind} on {later.on} by someone who did not hold the land")
        if later.on < earlier.on:
            errors.append(f"{tag}: transfers out of date order")
    for t in history:
        if t.on > nation.today:
            errors.append(f"{tag}: transfer after today")
        for h in t.buyers:
            if h.party.kind == "business" and businesses[h.party.ref] > t.on:
                errors.append(f"{tag}: business {h.party.ref} bought before it was registered")
        if t.kind == "sale":
            for h in (*t.sellers, *t.buyers):
                if h.party.kind == "person":
                    p = persons[h.party.person_key]
                    adult = _anniversary(p.birth_date, 18)
                    if not (adult <= t.on and (p.death_date is None or t.on < p.death_date)):
                        errors.append(f"{tag}: person {p.key} not a living adult on the sale of {t.on}")
        if t.kind == "inheritance":
            (dead_holding,) = t.sellers
            dead = persons[dead_holding.party.person_key]
            if dead.death_date is None or dead.death_date >= t.on:
                errors.append(f"{tag}: inheritance from person {dead.key}, not dead before {t.on}")
                continue
            spouses = {m.b if m.a == dead.key else m.a for m in nation.marriages if dead.key in (m.a, m.b)}
            children = {p.key for p in persons if dead.key in (p.mother, p.father)}
            for h in t.buyers:
                heir = persons[h.party.person_key]
                if heir.key not in spouses | children:
                    errors.append(f"{tag}: heir {heir.key} is neither spouse nor child of {dead.key}")
                if heir.birth_date > dead.death_date or (heir.death_date and heir.death_date <= dead.death_date):
                    errors.append(f"{tag}: heir {heir.key} not alive at the death of {dead.key}")
    for h in parcel.owners:
        if h.party.kind == "person" and persons[h.party.person_key].death_date is not None:
            errors.append(f"{tag}: owned today by person {h.party.ref}, who is dead")


def test_histories_respect_births_deaths_and_heirs(nation: Nation, places: Places) -> None:
    businesses = {b.number: b.registered_on for b in places.businesses}
    errors: list[str] = []
    for parcel in places.parcels:
        _check_history(parcel, nation, businesses, errors)
    assert errors == []
    kinds = Counter(t.kind for p in places.parcels for t in p.history)
    assert kinds["inheritance"] > 20 and kinds["sale"] > 500
    # Some land was sold by people since dead, and some passed on a death to several children.
    dead_sellers = sum(
        1
        for p in places.parcels
        for t in p.history
        if t.kind == "sale"
        and any(h.party.kind == "person" and nation.persons[h.party.person_key].death_date for h in t.sellers)
    )
    assert dead_sellers > 10
    assert any(t.kind == "inheritance" and len(t.buyers) > 1 for p in places.parcels for t in p.history)


def test_the_history_check_catches_an_heir_who_is_not_family(nation: Nation, places: Places) -> None:
    parcel = next(p for p in places.parcels if any(t.kind == "inheritance" for t in p.history))
    k = next(i for i, t in enumerate(parcel.history) if t.kind == "inheritance")
    stranger = next(
        p.key
        for p in nation.persons
        if p.death_date is None and p.key not in {int(h.party.ref) for h in parcel.history[k].buyers}
    )
    bad_buyers = (Holding(Party("person", str(stranger)), Fraction(1)),)
    history = list(parcel.history)
    history[k] = type(history[k])(history[k].on, "inheritance", history[k].sellers, bad_buyers)
    broken = type(parcel)(*[getattr(parcel, f) for f in parcel.__slots__])  # type: ignore[attr-defined]
    object.__setattr__(broken, "history", tuple(history))
    errors: list[str] = []
    _check_history(broken, nation, {b.number: b.registered_on for b in places.businesses}, errors)
    assert any("neither spouse nor child" in e for e in errors)


def test_owners_are_people_businesses_or_agencies_that_exist(nation: Nation, places: Places) -> None:
    numbers = {b.number for b in places.businesses}
    for parcel in places.parcels:
        for h in parcel.owners:
            if h.party.kind == "business":
                assert h.party.ref in numbers
            elif h.party.kind == "agency":
                assert re.fullmatch(r"XA/GOV/[A-Z]+", h.party.ref)
            else:
                assert 0 <= h.party.person_key < len(nation.persons)
    kinds = Counter(h.party.kind for p in places.parcels if p.household is not None for h in p.owners)
    assert kinds["person"] > kinds["business"] > 0 and kinds["agency"] > 0
    for business in places.businesses:
        assert re.fullmatch(r"BN-\d{4}-[0-9A-F]{6}", business.number)
        owner = nation.persons[business.owner]
        assert owner.death_date is None and business.registered_on >= owner.birth_date + timedelta(days=18 * 365)
    assert len(numbers) == len(places.businesses)
    assert len({b.name.casefold() for b in places.businesses}) == len(places.businesses)


def test_roads_join_every_settlement_of_an_island(places: Places) -> None:
    primary = [r for r in places.roads if r.road_class == "primary"]
    group: dict[tuple[float, float], tuple[float, float]] = {}

    def key(point: tuple[float, ...]) -> tuple[float, float]:
        return (round(point[0], 6), round(point[1], 6))

    def root(k: tuple[float, float]) -> tuple[float, float]:
        group.setdefault(k, k)
        while group[k] != k:
            k = group[k]
        return k

    for road in primary:
        a, b = key(road.geometry.coords[0]), key(road.geometry.coords[-1])
        group[root(a)] = root(b)
    for island in places.islands:
        members = [s for s in places.settlements if s.island == island.number]
        assert len(members) == len(island.settlements)
        roots = {root(key(s.point.coords[0])) for s in members}
        assert len(roots) == 1, f"island {island.number}: settlements in {len(roots)} unconnected groups"
    assert {r.road_class for r in places.roads} == {"primary", "secondary", "local", "track"}
    for road in places.roads:
        assert road.surface in ("asphalt", "concrete", "gravel", "earth")
        assert road.length_m > 0 and road.replacement_value_cents > 0
        assert 1 <= road.criticality <= 5


def test_public_assets(places: Places) -> None:
    kinds = Counter(a.kind for a in places.assets)
    for kind in ("port", "airstrip"):
        assert kinds[kind] == len(places.islands)
    for kind in ("primary_school", "secondary_school", "clinic", "hospital", "police_station", "shelter", "substation"):
        assert kinds[kind] > 0, kind
    assert kinds["water_main"] > 10 and kinds["power_line"] > 10
    by_number = {p.number: p for p in places.parcels}
    ports = [a for a in places.assets if a.kind == "port"]
    coasts = [i.coastline for i in places.islands]
    for port in ports:
        assert (
            min(transform(port.geometry, CRS84, DRAWN_IN).distance(transform(c, CRS84, DRAWN_IN)) for c in coasts) < 1.0
        )
    for asset in places.assets:
        assert asset.replacement_value_cents > 0 and 1 <= asset.criticality <= 5
        assert asset.condition in ("good", "fair", "poor", "very_poor")
        if asset.kind in ("shelter", "hospital", "primary_school", "secondary_school"):
            assert asset.capacity is not None and asset.capacity > 0
        if asset.parcel:
            parcel = by_number[asset.parcel]
            assert parcel.land_use == "public"
            assert parcel.owners == (Holding(Party("agency", asset.agency), Fraction(1)),)
            assert parcel.geometry.contains(asset.geometry.representative_point())
    # A hospital in every parish holding 8 % of the people or more.
    people = Counter()
    for h in places.households:
        people[h.parish] += len(h.members)
    total = sum(people.values())
    with_hospital = {a.parish for a in places.assets if a.kind == "hospital"}
    assert {code for code, n in people.items() if n >= 0.08 * total} <= with_hospital
    # A runway clear of every settlement.
    for strip in (a for a in places.assets if a.kind == "airstrip"):
        far = min(
            transform(strip.geometry, CRS84, DRAWN_IN).distance(transform(s.point, CRS84, DRAWN_IN))
            for s in places.settlements
        )
        assert far > 1_000


def test_islands_have_their_coastlines(places: Places) -> None:
    assert [i.number for i in places.islands] == [1, 2, 3]
    assert places.islands[0].area_km2 > places.islands[1].area_km2 > places.islands[2].area_km2
    for island in places.islands:
        assert island.coastline.is_ring
        shape = Polygon(island.coastline)
        for settlement in places.settlements:
            assert shape.contains(settlement.point) == (settlement.island == island.number)
    assert sum(len(i.parishes) for i in places.islands) >= 12


def test_the_export_command_writes_layers_a_gis_reads(tmp_path: Path) -> None:
    said = io.StringIO()
    call_command("demo_places", out=str(tmp_path / "out"), people=400, seed=3, today="2026-01-15", stdout=said)
    out = tmp_path / "out"
    assert "parcels" in said.getvalue() and str(out) in said.getvalue()
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["seed"] == 3 and manifest["today"] == "2026-01-15"
    for layer in ("islands", "settlements", "roads", "parcels", "buildings", "assets"):
        data = json.loads((out / f"{layer}.geojson").read_text())
        assert data["type"] == "FeatureCollection"
        assert len(data["features"]) == manifest["counts"][layer]
        for feature in data["features"][:: max(1, len(data["features"]) // 20)]:
            geometry_check(feature["geometry"])
    parcels = json.loads((out / "parcels.geojson").read_text())["features"]
    owners = parcels[0]["properties"]["owners"]
    assert sum(Fraction(o["share"]) for o in owners) == 1
    transfers = json.loads((out / "transfers.json").read_text())
    assert len(transfers) == manifest["counts"]["transfers"]
    households = json.loads((out / "households.json").read_text())
    assert {h["parcel"] for h in households} <= {p["id"] for p in parcels}
    # The same command again draws the same places.
    call_command("demo_places", out=str(tmp_path / "again"), people=400, seed=3, today="2026-01-15", stdout=said)
    assert json.loads((tmp_path / "again" / "manifest.json").read_text())["digest"] == manifest["digest"]


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"people": 5}, "--people must be at least 10"),
        ({"today": "2026-13-01"}, "--today must be a date"),
        ({"today": "1970-01-01"}, "1985 or later"),
    ],
)
def test_the_export_command_refuses_bad_input(tmp_path: Path, options: dict[str, object], message: str) -> None:
    with pytest.raises(CommandError, match=message):
        call_command("demo_places", out=str(tmp_path), **{"people": 100, **options})
    assert list(tmp_path.iterdir()) == []


def test_the_export_command_refuses_a_file_as_its_directory(tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    with pytest.raises(CommandError, match="not a directory"):
        call_command("demo_places", out=str(target), people=100)
    assert target.read_text() == "x"


def test_settlement_points_are_the_geographys(places: Places) -> None:
    from gov21.core.geography import geography

    expected = [(p.code, s.name, Point(s.lon, s.lat)) for p in geography() for s in p.settlements]
    assert [(s.parish, s.name, s.point) for s in places.settlements] == expected


def test_the_places_do_not_depend_on_hash_randomisation() -> None:
    code = (
        "import datetime; from gov21.demo.synthetic import simulate; from gov21.demo.places import generate_places;"
        "from gov21.demo.places.export import places_digest;"
        "n = simulate(people=600, seed=4, today=datetime.date(2026, 6, 1));"
        "print(places_digest(generate_places(n, seed=4)))"
    )
    outputs = set()
    for hash_seed in ("1", "987"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        run = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        outputs.add(run.stdout.strip())
    assert len(outputs) == 1 and len(outputs.pop()) == 64


def _roads_through_parcels(roads: np.ndarray, lots: np.ndarray) -> list[tuple[int, int]]:
    """Pairs (road, lot) where the road runs more than half a metre inside the lot (metres)."""
    inner = shapely.buffer(lots, -0.5)
    road_i, lot_i = shapely.STRtree(inner).query(roads, predicate="intersects")
    inside = shapely.length(shapely.intersection(roads[road_i], inner[lot_i]))
    return [(int(r), int(p)) for r, p, length in zip(road_i, lot_i, inside, strict=True) if length > 0.5]


def test_no_road_runs_through_a_parcel(places: Places) -> None:
    lots = projected([p.geometry for p in places.parcels])
    roads = projected([r.geometry for r in places.roads])
    through = [(places.roads[r].id, places.parcels[p].number) for r, p in _roads_through_parcels(roads, lots)]
    assert through == []
    streets = [r for r in places.roads if r.road_class in ("local", "secondary")]
    assert sum(r.length_m for r in streets) > 20_000
    # The check finds a street laid across a lot.
    lot = lots[0]
    x0, y0, x1, y1 = lot.bounds
    across = np.array([LineString([(x0 - 5, (y0 + y1) / 2), (x1 + 5, (y0 + y1) / 2)])], dtype=object)
    assert _roads_through_parcels(across, lots) == [(0, 0)]
