"""The land register's bulk path (``land.bulk``, used by the seed) writes the register its services
write: the same history of a small nation, once lodged, checked and registered one transaction at a
time through ``land.services`` on each transaction's day, once loaded by ``land_history_load``, reads
the same through the selectors (as of any day, the title extracts' facts, the parcels of each owner,
every version and transaction), the rows behind them and the features the ``/geo/`` collections serve.
And a history that breaks a rule the services enforce is refused with nothing written."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from shapely.affinity import translate

from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.demo.bulk import load_nation
from gov21.demo.places import generate_places
from gov21.demo.places.loading import Sinks, load_places
from gov21.demo.registers import LODGED_BY, REGISTERED_BY, _Collected, land_history
from gov21.demo.synthetic import simulate
from gov21.geo.models import CollectionVersion
from gov21.land import parties as land_parties
from gov21.land import selectors, services
from gov21.land.contracts import (
    BulkParcel,
    BulkParty,
    BulkTransaction,
    bulk_facts_record,
    land_history_load,
)
from gov21.land.extracts import extract_facts
from gov21.land.models import Building, Counter, GroupMember, Parcel, Party, Right, Transaction, TransactionStep
from gov21.land.records import PartyRef

pytestmark = [pytest.mark.django_db(transaction=False), pytest.mark.xdist_group("land_bulk")]

READER = Principal(name="land.reader", kind="staff", roles=frozenset({"reader"}))
CLERK = Principal(name=LODGED_BY, kind="staff", roles=frozenset({"clerk"}))
REGISTRAR = Principal(name=REGISTERED_BY, kind="staff", roles=frozenset({"registrar"}))
History = tuple[list[BulkParty], list[BulkParcel], list[BulkTransaction]]


def _history(people: int = 500, seed: int = 7, parcels: int = 36) -> History:
    """A small nation's people loaded into the registry, and the history of some of its parcels:
    those with the most telling histories (sales, inheritances, joint owners, agencies, businesses,
    buildings) first."""
    today = timezone.localdate()
    nation = simulate(people=people, seed=seed, today=today)
    stats = load_nation(nation)
    collected = _Collected()
    load_places(
        generate_places(nation, seed=seed),
        uins=stats.uins,
        sinks=Sinks(
            businesses=collected.business_sink,
            parcels=collected.parcel_sink,
            transfers=collected.transfer_sink,
            assets=None,
        ),
    )
    everyone, all_parcels, transactions = land_history(collected)
    chosen: dict[str, None] = {}
    tests: list[Callable[[BulkTransaction], bool]] = [
        lambda t: t.kind == "inheritance",
        lambda t: t.kind == "transfer",
        lambda t: len(t.after) > 1,
        lambda t: any(h.kind == "agency" for h in t.after),
        lambda t: any(h.kind == "business" for h in t.after),
    ]
    for test in tests:
        for t in [t for t in transactions if test(t)][:6]:
            chosen.setdefault(t.parcel)
    with_building = [p.key for p in all_parcels if p.buildings]
    for key in [*with_building[:6], *(p.key for p in all_parcels)]:
        if len(chosen) >= parcels:
            break
        chosen.setdefault(key)
    kept = [p for p in all_parcels if p.key in chosen]
    history = [t for t in transactions if t.parcel in chosen]
    named = {(h.kind, h.identifier) for t in history for h in (*t.before, *t.after)}
    return [p for p in everyone if (p.kind, p.identifier) in named], kept, history


def _service_path(history: History, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lodge, check and register every transaction through the services, on its own instant.

    Two things differ from a clerk's day, because this is history replayed today: the services'
    clock is each transaction's instant, and an owner who has died since is still named (a buyer
    had to be alive when the sale was registered, not today). A business is named as the seed drew
    it: the seed's businesses are not in the business register that ``land.parties`` asks."""
    everyone, parcels, transactions = history
    names = {(p.kind, p.identifier): p.name for p in everyone}
    clock: list[datetime] = [timezone.now()]
    frozen = SimpleNamespace(now=lambda: clock[0], localdate=timezone.localdate)
    monkeypatch.setattr(services, "timezone", frozen)
    monkeypatch.setattr(land_parties, "timezone", frozen)
    person_name = land_parties._person_name

    def alive_then(uin: str, *, purpose: str, alive: bool, field: str) -> str:
        return person_name(uin, purpose=purpose, alive=False, field=field)

    monkeypatch.setattr(land_parties, "_person_name", alive_then)
    monkeypatch.setattr(land_parties, "_business_name", lambda number, *, purpose, field: names[("business", number)])
    by_key = {p.key: p for p in parcels}
    numbers: dict[str, str] = {}
    for tx in transactions:
        clock[0] = tx.at.astimezone(UTC)
        facts = bulk_facts_record(tx, number=numbers.get(tx.parcel, ""), parcel=by_key[tx.parcel])
        lodged = services.transaction_lodge(facts=facts, actor=CLERK)
        services.transaction_check(number=lodged.number, actor=REGISTRAR)
        registered = services.transaction_register(number=lodged.number, actor=REGISTRAR)
        if tx.kind == "first_registration":
            numbers[tx.parcel] = registered.made[0]
    # The services write a building as a footprint only; the survey's use and storeys are the bulk
    # path's (the seed's) alone, so the comparison leaves them out.


def _bulk_path(history: History) -> dict[str, Any]:
    everyone, parcels, transactions = history
    with transaction.atomic():
        return land_history_load(
            parties=everyone,
            parcels=parcels,
            transactions=transactions,
            lodged_by=LODGED_BY,
            registered_by=REGISTERED_BY,
        )


def _plain(value: Any) -> Any:
    """A record with the database's own ids left out (the two paths give rows different ids)."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items() if k != "id"}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _survey_left_out(properties: dict[str, Any]) -> dict[str, Any]:
    """A feature's properties but a building's use and storeys: the services register a footprint
    only (a first registration's facts have no field for them), the bulk path keeps the survey's."""
    return {k: v for k, v in _plain(properties).items() if k not in {"use", "storeys"}}


def _register(client: Client) -> dict[str, Any]:
    """Everything the register says, by natural keys."""
    tx_number = dict(Transaction.objects.values_list("pk", "number"))
    party = {p.pk: (p.kind, p.identifier) for p in Party.objects.all()}

    def versioned(row: Any) -> tuple[Any, ...]:
        return (row.valid_from, row.valid_to, tx_number[row.opened_by_id], tx_number.get(row.closed_by_id))

    rows: dict[str, Any] = {
        "parties": sorted((p.kind, p.identifier, p.name, p.created_at) for p in Party.objects.all()),
        "members": sorted(
            (party[m.group_id], party[m.member_id], m.share_numerator, m.share_denominator)
            for m in GroupMember.objects.all()
        ),
        "transactions": sorted(
            (
                t.number,
                t.kind,
                t.state,
                t.parcels,
                t.facts,
                t.lodged_by,
                t.lodged_at,
                t.checked_by,
                t.checked_at,
                t.registered_by,
                t.registered_at,
                t.rejection_reason,
                t.made,
                list(t.sources.all()),
            )
            for t in Transaction.objects.all()
        ),
        "steps": sorted(
            (tx_number[s.transaction_id], s.from_state, s.to_state, s.actor, s.at, s.reason)
            for s in TransactionStep.objects.all()
        ),
        "parcels": sorted(
            (
                p.number,
                p.parish,
                p.area_m2,
                p.land_use,
                *versioned(p),
                bytes(p.geometry_wkb),
                p.min_lon,
                p.min_lat,
                p.max_lon,
                p.max_lat,
            )
            for p in Parcel.objects.all()
        ),
        "buildings": sorted(
            (b.parcel_number, *versioned(b), bytes(b.geometry_wkb), b.min_lon, b.min_lat, b.max_lon, b.max_lat)
            for b in Building.objects.all()
        ),
        "rights": sorted(
            (r.parcel_number, r.kind, party[r.party_id], r.amount_cents, r.ends_on, r.description, *versioned(r))
            for r in Right.objects.all()
        ),
        "counters": sorted(Counter.objects.values_list("series", "last")),
        "collections changed": sorted(
            CollectionVersion.objects.filter(collection__in=("parcels", "buildings")).values_list(
                "collection", flat=True
            )
        ),
    }
    # What the selectors answer: each parcel's title now and on the days around each registration,
    # the facts a title extract states, every version of it, and each owner's parcels on those days.
    days = sorted({t.registered_at for t in Transaction.objects.all() if t.registered_at is not None})
    moments = [None, *(d - timedelta(seconds=1) for d in days[::7]), *days[::5]]
    titles, extracts, histories = [], [], []
    for number in sorted(set(Parcel.objects.values_list("number", flat=True))):
        history = selectors.parcel_history(number=number, actor=READER, purpose="bulk check")
        histories.append(_plain(history.model_dump()))
        for moment in moments:
            if moment is not None and moment < history.versions[0].valid_from:
                continue
            title = selectors.parcel_title(number=number, actor=READER, purpose="bulk check", as_of=moment)
            if moment is not None:
                titles.append(_plain(title.model_dump()))
            extracts.append(extract_facts(title)[:3] + extract_facts(title)[4:])
    owned = []
    for kind, identifier in sorted({k for k in party.values() if k[0] != "group"}):
        for moment in moments:
            parcels = selectors.parcels_of_party(
                party=PartyRef(kind=kind, identifier=identifier), actor=READER, purpose="bulk check", as_of=moment
            )
            owned.append(_plain(parcels.model_dump()))
    rows |= {"titles": titles, "extracts": extracts, "histories": histories, "owned": owned}
    # What the map serves: the current features, and every version valid in an interval.
    # A window around the first parcel is read through the spatial index (R*Tree or PostGIS).
    first = Parcel.objects.order_by("number", "valid_from").first()
    assert first is not None
    pad = 0.003
    window = f"&bbox={first.min_lon - pad},{first.min_lat - pad},{first.max_lon + pad},{first.max_lat + pad}"
    for collection in ("parcels", "buildings"):
        for query in ("", window, "&datetime=1950-01-01T00:00:00Z/..", "&datetime=2000-06-30T12:00:00Z"):
            response = client.get(f"/geo/collections/{collection}/items?f=json&limit=1000{query}")
            assert response.status_code == 200, response.content[:300]
            features = response.json()["features"]
            rows[f"/geo/ {collection}{query}"] = sorted(
                json.dumps([_survey_left_out(f["properties"]), f["geometry"]], sort_keys=True) for f in features
            )
    return rows


def _empty_the_register() -> None:
    for model in (Right, Building, Parcel, TransactionStep):
        model.objects.all().delete()
    Transaction.sources.through.objects.all().delete()
    Transaction.objects.all().delete()
    GroupMember.objects.all().delete()
    Party.objects.all().delete()
    Counter.objects.all().delete()
    CollectionVersion.objects.filter(collection__in=("parcels", "buildings")).delete()


def test_the_bulk_path_writes_the_register_the_services_write(monkeypatch: pytest.MonkeyPatch, client: Client) -> None:
    nation_history = _history()
    everyone, parcels, transactions = nation_history
    kinds = {t.kind for t in transactions}
    assert kinds == {"first_registration", "transfer", "inheritance"}, kinds
    assert any(len(t.after) > 1 for t in transactions) and any(p.buildings for p in parcels)
    assert {p.kind for p in everyone} >= {"person", "agency"}

    with monkeypatch.context() as patched:
        _service_path(nation_history, patched)
    by_services = _register(client)
    _empty_the_register()
    written = _bulk_path(nation_history)
    by_bulk = _register(client)

    assert written["transactions"] == len(transactions) and written["parcels"] == len(parcels)
    assert by_bulk.keys() == by_services.keys()
    for key in by_services:
        assert by_bulk[key] == by_services[key], key
    # Not an empty comparison: the register holds the history, read back as of earlier days too.
    assert len(by_bulk["transactions"]) == len(transactions) and by_bulk["titles"] and by_bulk["owned"]
    assert any(len(h["rights"]) > 1 for h in by_bulk["histories"])
    assert any(key.startswith("/geo/ parcels&bbox") and by_bulk[key] for key in by_bulk)
    # The one thing only the bulk path records: each building's use and storeys, as surveyed.
    surveyed = sorted((b.use, b.storeys) for p in parcels for b in p.buildings)
    assert sorted(Building.objects.values_list("use", "storeys")) == surveyed
    assert any(use != "dwelling" or storeys > 1 for use, storeys in surveyed)


def _load(history: History) -> None:
    everyone, parcels, transactions = history
    land_history_load(
        parties=everyone, parcels=parcels, transactions=transactions, lodged_by=LODGED_BY, registered_by=REGISTERED_BY
    )


def _refused(history: History) -> str:
    with pytest.raises(DomainError) as info, transaction.atomic():
        _load(history)
    assert not Parcel.objects.exists() and not Transaction.objects.exists() and not Party.objects.exists()
    return info.value.code


def test_a_history_that_breaks_a_rule_is_refused_before_anything_is_written() -> None:
    nation_history = _history()
    everyone, parcels, transactions = nation_history
    first = parcels[0]
    # A parcel laid over another.
    neighbour = parcels[1]
    over = BulkParcel(key=first.key, parish=first.parish, land_use=first.land_use, geometry=neighbour.geometry)
    assert _refused((everyone, [over, *parcels[1:]], transactions)) == "overlaps_neighbour"
    # A building standing outside its parcel.
    if first.buildings:
        moved = translate(first.buildings[0].geometry, xoff=0.01)
        outside = BulkParcel(
            key=first.key,
            parish=first.parish,
            land_use=first.land_use,
            geometry=first.geometry,
            buildings=(type(first.buildings[0])(geometry=moved),),
        )
        assert _refused((everyone, [outside, *parcels[1:]], transactions)) == "building_outside_parcel"
    # An unknown parish.
    lost = BulkParcel(key=first.key, parish="XX-99", land_use=first.land_use, geometry=first.geometry)
    assert _refused((everyone, [lost, *parcels[1:]], transactions)) == "unknown_parish"
    # A sale lodged by someone who does not own the parcel.
    sale = next(i for i, t in enumerate(transactions) if t.kind == "transfer")
    t = transactions[sale]
    stranger = next(
        p
        for p in everyone
        if p.kind == "person" and (p.kind, p.identifier) not in {(h.kind, h.identifier) for h in t.before}
    )
    wrong = BulkTransaction(
        parcel=t.parcel,
        at=t.at,
        kind=t.kind,
        before=(type(t.before[0])(kind="person", identifier=stranger.identifier, share=t.before[0].share),),
        after=t.after,
    )
    broken = [*transactions[:sale], wrong, *transactions[sale + 1 :]]
    assert _refused((everyone, parcels, broken)) == "not_registered_owner"
    # Shares that do not add up to one.
    half = BulkTransaction(
        parcel=t.parcel,
        at=t.at,
        kind=t.kind,
        before=t.before,
        after=tuple(type(h)(kind=h.kind, identifier=h.identifier, share=h.share / 2) for h in t.after),
    )
    assert _refused((everyone, parcels, [*transactions[:sale], half, *transactions[sale + 1 :]])) == (
        "shares_do_not_add_up"
    )
    # A party the caller did not name.
    assert _refused(([p for p in everyone if p.kind != "person"], parcels, transactions)) == "party_not_found"
    # A register that already holds parcels.
    with transaction.atomic():
        _load(nation_history)
    with pytest.raises(DomainError) as info:
        _load(nation_history)
    assert info.value.code == "land_register_not_empty"
