"""``/api/v1/disasters/``: a declared disaster's impact as JSON, for the dashboards and systems of
the agencies that respond. Thin: the caller (mounted with the platform's principal authentication)
must hold ``disaster.read``; the selectors do the rest."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from django.http import HttpRequest
from ninja import Field, Router, Schema

from gov21.assets import selectors
from gov21.core.errors import Forbidden
from gov21.core.principal import Principal

# Mounted by the platform's API with ``auth=PrincipalAuth()``: ``request.auth`` is the caller.
router = Router(tags=["disasters"])


class DisasterOut(Schema):
    id: int
    name: str
    kind: str
    occurred_on: date
    area_km2: float
    buffer_km: float | None


class AssetOut(Schema):
    code: str
    name: str
    kind: str
    agency: str
    parish: str
    condition: str
    criticality: str
    capacity: int | None
    replacement_value_cents: int
    currency: str


class PlaceOut(Schema):
    parish: str
    parish_name: str
    settlement: str = Field(description="Empty for a whole parish")
    residents: int


class DamageRowOut(Schema):
    key: str = Field(description="The parish code or the agency's member code; empty for land parcels")
    label: str
    levels: dict[str, int]
    cost_cents: int


class ImpactOut(Schema):
    """What the area struck: assets, parishes and settlements with their residents (counts from the
    civil registry through the exchange), and the damage assessed so far with its estimated cost."""

    event: DisasterOut
    assets: list[AssetOut]
    parishes: list[PlaceOut]
    settlements: list[PlaceOut]
    shelter_places: int
    damage_by_parish: list[DamageRowOut]
    damage_by_agency: list[DamageRowOut]
    damage_cost_cents: int
    currencies: list[str]


def _caller(request: HttpRequest) -> Principal:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, Principal):
        raise Forbidden("forbidden", "No authenticated caller.")
    return auth


def _place(place: selectors.PlaceCount) -> PlaceOut:
    return PlaceOut(
        parish=place.parish, parish_name=place.parish_name, settlement=place.settlement, residents=place.residents
    )


def _rows(rows: list[selectors.SummaryRow]) -> list[DamageRowOut]:
    return [DamageRowOut(key=r.key, label=str(r.label), levels=r.levels, cost_cents=r.cost_cents) for r in rows]


@router.get("/{event_id}/impact", response=ImpactOut, summary="What a declared disaster struck, and its damage")
def impact_get(request: HttpRequest, event_id: Annotated[int, Field(ge=1, le=2**63 - 1)]) -> ImpactOut:
    principal = _caller(request)
    event = selectors.event_get(event_id=event_id, actor=principal)
    impact = selectors.event_impact(event=event, actor=principal)
    summary = selectors.damage_summary(event=event, actor=principal)
    return ImpactOut(
        event=DisasterOut(
            id=event.pk,
            name=event.name,
            kind=event.kind,
            occurred_on=event.occurred_on,
            area_km2=event.area_km2,
            buffer_km=event.buffer_km,
        ),
        assets=[
            AssetOut(
                code=a.code,
                name=a.name,
                kind=a.kind,
                agency=a.agency,
                parish=a.parish,
                condition=a.condition,
                criticality=a.criticality,
                capacity=a.capacity,
                replacement_value_cents=a.replacement_value_cents,
                currency=a.currency,
            )
            for a in impact.assets
        ],
        parishes=[_place(p) for p in impact.parishes],
        settlements=[_place(p) for p in impact.settlements],
        shelter_places=impact.shelter_places,
        damage_by_parish=_rows(summary.by_parish),
        damage_by_agency=_rows(summary.by_agency),
        damage_cost_cents=summary.total.cost_cents,
        currencies=list(summary.currencies),
    )
