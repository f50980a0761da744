"""Building land register test data through the real services and the real exchange."""

from __future__ import annotations

from typing import Any

from shapely.geometry import box, mapping

from gov21.core.principal import Principal
from gov21.land import services
from gov21.land.models import Transaction
from gov21.land.records import Facts, FirstRegistrationFacts, OwnerShare, PartyRef
from gov21.registry.models import Person
from tests.registry.factories import register_person

CLERK = Principal(name="land.clerk", kind="staff", roles=frozenset({"clerk"}))
CHECKER = Principal(name="land.checker", kind="staff", roles=frozenset({"registrar"}))
REGISTRAR = Principal(name="land.registrar", kind="staff", roles=frozenset({"registrar"}))
CIVIL_REGISTRAR = Principal(name="civil.registrar", kind="staff", roles=frozenset({"registrar"}))
# A corner of Port Clement (XA-01), inland: about 108 m by 107 m per 0.001 degrees.
WEST, SOUTH = -63.1, 14.0
STEP = 0.001


def square(col: int, row: int, size: float = 1.0) -> dict[str, Any]:
    """A GeoJSON square ``size`` steps wide with its south-west corner at grid cell (col, row)."""
    x, y = WEST + col * STEP, SOUTH + row * STEP
    return dict(mapping(box(x, y, x + size * STEP, y + size * STEP)))


def rect(x0: float, y0: float, x1: float, y1: float) -> dict[str, Any]:
    """A GeoJSON rectangle in grid steps."""
    return dict(mapping(box(WEST + x0 * STEP, SOUTH + y0 * STEP, WEST + x1 * STEP, SOUTH + y1 * STEP)))


def geojson(geometry: dict[str, Any]) -> dict[str, Any]:
    """Coordinates as lists, as a client sends them."""
    import json

    return dict(json.loads(json.dumps(geometry)))


def person() -> Person:
    return register_person(CIVIL_REGISTRAR)


def ref(p: Person) -> PartyRef:
    return PartyRef(kind="person", identifier=p.uin)


def owners(*pairs: tuple[Person, str]) -> list[OwnerShare]:
    return [OwnerShare(party=ref(p), share=share) for p, share in pairs]


def complete(tx: Transaction) -> Transaction:
    """Check and register a lodged transaction, by two officers other than the one who lodged it."""
    services.transaction_check(number=tx.number, actor=CHECKER)
    return services.transaction_register(number=tx.number, actor=REGISTRAR)


def lodge(facts: Facts, *, sources: tuple[str, ...] = ()) -> Transaction:
    return services.transaction_lodge(facts=facts, actor=CLERK, sources=sources)


def first_register(
    geometry: dict[str, Any],
    owner_shares: list[OwnerShare],
    *,
    parish: str = "XA-01",
    buildings: list[Any] | None = None,
) -> str:
    """A parcel registered for the first time; its number."""
    facts = FirstRegistrationFacts(
        parish=parish, geometry=geojson(geometry), owners=owner_shares, buildings=[geojson(b) for b in buildings or []]
    )
    tx = complete(lodge(facts))
    return str(tx.made[0])
