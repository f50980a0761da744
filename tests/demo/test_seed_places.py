"""``gov21 seed`` puts the demo nation's places in the land and asset registers: parcels with owners who
are registered persons and histories read as of any day, buildings, public assets and roads, numbered
in the registers' own series and found through the spatial index."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import connection
from django.test import Client
from django.utils import timezone

from gov21.assets.models import Asset, AssetChange
from gov21.core.principal import Principal
from gov21.demo.places import generate_places
from gov21.demo.registers import places_load
from gov21.demo.synthetic import simulate
from gov21.land import selectors, services
from gov21.land.models import Building, Counter, GroupMember, Parcel, Party, Right, Transaction, TransactionStep
from gov21.land.records import FactsOf, PartyRef
from gov21.registry.models import Person

pytestmark = [pytest.mark.django_db, pytest.mark.xdist_group("seed_places")]

READER = Principal(name="land.reader", kind="staff", roles=frozenset({"reader"}))


def _get(client: Client, url: str) -> dict[str, Any]:
    response = client.get(url)
    assert response.status_code == 200, response.content[:500]
    body: dict[str, Any] = response.json()
    return body


def test_seed_fills_the_land_and_asset_registers(client: Client) -> None:
    call_command("seed", people=600, seed=5, verbosity=0)
    parcels = list(Parcel.objects.all())
    assert len(parcels) > 50
    assert all(p.valid_to is None for p in parcels)
    assert Building.objects.count() > 0
    # Every title holder is a registered person, a business, an agency, or a group of those.
    uins = set(Person.objects.values_list("uin", flat=True))
    persons = Party.objects.filter(kind="person")
    assert persons.exists()
    assert set(persons.values_list("identifier", flat=True)) <= uins
    someone = persons.first()
    assert someone is not None
    assert someone.name == str(Person.objects.get(uin=someone.identifier).given_names) + " " + str(
        Person.objects.get(uin=someone.identifier).family_name
    )
    for group in Party.objects.filter(kind="group")[:50]:
        members = list(GroupMember.objects.filter(group=group))
        assert sum(m.share for m in members) == 1
    open_titles = Right.objects.filter(valid_to__isnull=True, kind__in=("ownership", "state_land"))
    assert open_titles.count() == len(parcels)
    # Transactions are registered, numbered in the yearly series, and read back as facts.
    txs = list(Transaction.objects.all())
    assert all(tx.state == "registered" and tx.registered_by != tx.lodged_by for tx in txs)
    assert TransactionStep.objects.count() == 3 * len(txs)
    step = TransactionStep.objects.select_related("transaction").filter(to_state="registered").first()
    assert step is not None and step.at == step.transaction.registered_at
    for tx in txs[:300]:
        FactsOf.model_validate({"facts": tx.facts})
    by_year: dict[str, list[int]] = {}
    for tx in txs:
        match = re.fullmatch(r"L-(\d{4})-(\d{6})", tx.number)
        assert match, tx.number
        by_year.setdefault(match.group(1), []).append(int(match.group(2)))
    for year, seq in by_year.items():
        assert sorted(seq) == list(range(1, len(seq) + 1))
        assert Counter.objects.get(series=f"transaction:{year}").last == len(seq)
    # The parish counters continue after the seeded parcels, so the next number is free.
    parish = parcels[0].parish
    last = max(int(p.number.rpartition("-")[2]) for p in parcels if p.parish == parish)
    assert Counter.objects.get(series=f"parcel:{parish}").last == last
    assert not Parcel.objects.filter(number=f"{parish}-{last + 1:06d}").exists()

    # A parcel sold after its first registration reads its earlier owner as of the day before the sale.
    sale = next(tx for tx in txs if tx.kind == "transfer")
    number = sale.parcels[0]
    assert sale.registered_at is not None
    before = selectors.parcel_title(
        number=number, actor=READER, purpose="test", as_of=(sale.registered_at - timedelta(days=1)).date()
    )
    now = selectors.parcel_title(number=number, actor=READER, purpose="test")
    assert before.ownership and now.ownership
    seller = sale.facts["applicant"]
    assert any(
        h.identifier == seller["identifier"] or any(m.identifier == seller["identifier"] for m in h.members)
        for h in (r.holder for r in before.ownership)
    )
    assert before.ownership[0].id != now.ownership[0].id
    history = selectors.parcel_history(number=number, actor=READER, purpose="test")
    assert len(history.transactions) >= 2
    # An inheritance names the deceased among the owners before it.
    inheritance = Transaction.objects.filter(kind="inheritance").first()
    if inheritance is not None:
        assert inheritance.registered_at is not None
        heir = inheritance.facts["heirs"][0]["party"]
        owned = selectors.parcels_of_party(
            party=PartyRef.model_validate(heir), actor=READER, purpose="test", as_of=inheritance.registered_at
        )
        assert inheritance.parcels[0] in [p.number for p in owned.parcels]

    # The geographic collections return them, through the spatial index.
    body = _get(client, "/geo/collections/parcels/items?f=json&limit=5")
    assert body["features"] and all(f["geometry"]["type"] == "Polygon" for f in body["features"])
    west, south, east, north = parcels[0].min_lon, parcels[0].min_lat, parcels[0].max_lon, parcels[0].max_lat
    boxed = _get(client, f"/geo/collections/parcels/items?f=json&bbox={west},{south},{east},{north}")
    assert parcels[0].number in {f["id"] for f in boxed["features"]} | {
        f["properties"].get("number") for f in boxed["features"]
    }
    roads = _get(client, "/geo/collections/roads/items?f=json&limit=5")
    assert roads["features"] and all(f["geometry"]["type"] == "LineString" for f in roads["features"])
    assets = _get(client, "/geo/collections/assets/items?f=json&limit=50")
    assert assets["features"]
    assert Asset.objects.filter(kind="road").exists() and Asset.objects.exclude(kind="road").exists()
    assert AssetChange.objects.count() == Asset.objects.count()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT count(*) FROM {Parcel._meta.db_table}_rtree")
            assert cursor.fetchone()[0] == len(parcels)

    # The register keeps working through its own services: the next first registration's number is new.
    assert services.transaction_number(2099, 1) == "L-2099-000001"

    # Seeding again is refused, and the registers are left as they were.
    counts = (Parcel.objects.count(), Asset.objects.count(), Transaction.objects.count())
    with pytest.raises(CommandError):
        call_command("seed", people=600, seed=5, verbosity=0)
    assert (Parcel.objects.count(), Asset.objects.count(), Transaction.objects.count()) == counts


def test_the_places_loader_refuses_a_land_register_that_holds_parcels() -> None:
    call_command("seed", people=200, seed=2, verbosity=0)
    from gov21.core.errors import DomainError

    nation = simulate(people=200, seed=2, today=timezone.localdate())
    uins = list(Person.objects.order_by("id").values_list("uin", flat=True))
    counts = (Parcel.objects.count(), Transaction.objects.count())
    with pytest.raises(DomainError) as info:
        places_load(generate_places(nation, seed=2), uins=uins)
    assert info.value.code == "land_register_not_empty"
    assert (Parcel.objects.count(), Transaction.objects.count()) == counts
