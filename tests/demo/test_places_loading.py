"""The places reach the registers' loaders in batches, every person named by the UIN issued to them,
nothing named before it exists, and nothing sent when a reference cannot be resolved."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from fractions import Fraction

import pytest

from gov21.demo.places import Places, generate_places
from gov21.demo.places.loading import (
    AssetRecord,
    BusinessRecord,
    ParcelRecord,
    Sinks,
    TransferRecord,
    load_places,
)
from gov21.demo.synthetic import Nation, simulate

pytestmark = pytest.mark.xdist_group("demo_places")


@pytest.fixture(scope="module")
def nation() -> Nation:
    return simulate(people=800, seed=11, today=date(2026, 3, 1))


@pytest.fixture(scope="module")
def places(nation: Nation) -> Places:
    return generate_places(nation, seed=11)


def uins_for(nation: Nation) -> list[str]:
    return [f"{9_000_000_000 + k}" for k in range(len(nation.persons))]


class Register:
    """Stands where a register's bulk loader will: keeps every batch it is given, in order."""

    def __init__(self) -> None:
        self.batches: list[tuple[str, int]] = []
        self.businesses: list[BusinessRecord] = []
        self.parcels: list[ParcelRecord] = []
        self.transfers: list[TransferRecord] = []
        self.assets: list[AssetRecord] = []

    def sink(self, name: str) -> object:
        def take(batch: Sequence[object]) -> None:
            self.batches.append((name, len(batch)))
            getattr(self, name).extend(batch)

        return take


def test_everything_is_sent_in_batches_in_dependency_order(nation: Nation, places: Places) -> None:
    register = Register()
    sinks = Sinks(
        businesses=register.sink("businesses"),  # type: ignore[arg-type]
        parcels=register.sink("parcels"),  # type: ignore[arg-type]
        transfers=register.sink("transfers"),  # type: ignore[arg-type]
        assets=register.sink("assets"),  # type: ignore[arg-type]
    )
    uins = uins_for(nation)
    sent = load_places(places, uins=uins, sinks=sinks, batch_size=500)
    transfers = sum(len(p.history) for p in places.parcels)
    assert sent == {
        "businesses": len(places.businesses),
        "parcels": len(places.parcels),
        "transfers": transfers,
        "assets": len(places.roads) + len(places.assets),
    }
    assert all(size <= 500 for _, size in register.batches)
    kinds = [name for name, _ in register.batches]
    assert kinds == sorted(kinds, key=["businesses", "parcels", "transfers", "assets"].index)
    # Transfers in date order, each on a parcel already sent, people by their UIN.
    days = [t.on for t in register.transfers]
    assert days == sorted(days)
    numbers = {p.number for p in register.parcels}
    assert {t.parcel for t in register.transfers} <= numbers
    known = set(uins)
    for t in register.transfers:
        assert sum((h.share for h in t.buyers), Fraction(0)) == 1
        for h in (*t.sellers, *t.buyers):
            if h.party.kind == "person":
                assert h.party.ref in known
    heads = {uins[h.head] for h in places.households}
    owners_now = {h.party.ref for t in register.transfers for h in t.buyers if h.party.kind == "person"}
    assert len(heads & owners_now) > len(places.households) // 2
    assert {b.owner_uin for b in register.businesses} <= known
    assert all(", " in b.address for b in register.businesses)
    roads = [a for a in register.assets if a.kind == "road"]
    assert len(roads) == len(places.roads) and all(a.road_class and a.surface for a in roads)
    dwellings = [p for p in register.parcels if p.building_use == "dwelling"]
    assert len(dwellings) == len(places.households) and all(p.building is not None for p in dwellings)


def test_only_the_sinks_given_are_called(nation: Nation, places: Places) -> None:
    register = Register()
    sent = load_places(places, uins=uins_for(nation), sinks=Sinks(assets=register.sink("assets")))  # type: ignore[arg-type]
    assert list(sent) == ["assets"]
    assert register.parcels == [] and len(register.assets) == sent["assets"]


def test_a_population_without_every_uin_is_refused_before_anything_is_sent(nation: Nation, places: Places) -> None:
    register = Register()
    sinks = Sinks(parcels=register.sink("parcels"), transfers=register.sink("transfers"))  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="has no UIN"):
        load_places(places, uins=uins_for(nation)[: len(nation.persons) // 2], sinks=sinks)
    assert register.batches == []


def test_a_batch_size_below_one_is_refused(nation: Nation, places: Places) -> None:
    with pytest.raises(ValueError, match="batch_size"):
        load_places(places, uins=uins_for(nation), sinks=Sinks(), batch_size=0)
