"""The shapes of what the asset register and disaster response take in: declared once, as frozen
pydantic models, for the services, the office forms and the API alike."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, JsonValue

from gov21.assets.models import AssetKind, Condition, Criticality, DamageLevel, EventKind, RoadClass, RoadSurface

# Kinds drawn as lines, and kinds that have no line at all.
LINE_KINDS = frozenset({AssetKind.ROAD, AssetKind.WATER_MAIN, AssetKind.POWER_LINE})
# Kinds whose capacity means something: pupils, beds, places.
CAPACITY_KINDS = frozenset({AssetKind.SCHOOL, AssetKind.CLINIC, AssetKind.HOSPITAL, AssetKind.SHELTER})

# The share of an asset's replacement value that a level of damage costs, in percent. A minor damage
# (broken windows, roof sheets lost) is a tenth; a major one (structure damaged, unusable until
# repaired) half; a destroyed asset is rebuilt at its full value. Percent, so costs stay whole cents.
DAMAGE_COST_PERCENT: dict[str, int] = {
    DamageLevel.NONE: 0,
    DamageLevel.MINOR: 10,
    DamageLevel.MAJOR: 50,
    DamageLevel.DESTROYED: 100,
}

Code = Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]


class Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class AssetFacts(Record):
    """A public asset as an officer or an agency's system describes it."""

    code: Code
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: AssetKind
    agency: Annotated[str, Field(min_length=2, max_length=40, pattern=r"^[A-Z][A-Z0-9-]*$")]
    condition: Condition
    replacement_value_cents: Annotated[int, Field(ge=0, le=10**15)]
    currency: Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
    criticality: Criticality
    capacity: Annotated[int, Field(ge=0, le=1_000_000)] | None = None
    road_class: RoadClass | None = None
    road_surface: RoadSurface | None = None
    # A GeoJSON geometry object; core.geo.geometry_check says whether it is one.
    geometry: dict[str, JsonValue]


class InspectionFacts(Record):
    inspected_on: date
    condition: Condition
    notes: Annotated[str, Field(max_length=4000)] = ""


class EventFacts(Record):
    name: Annotated[str, Field(min_length=1, max_length=200)]
    kind: EventKind
    occurred_on: date


class AssessmentFacts(Record):
    """The damage found to an asset (by its code) or to a land parcel (by its number, with its parish)."""

    asset: Code | None = None
    parcel_number: Annotated[str, Field(max_length=60)] = ""
    parish: Annotated[str, Field(max_length=12)] = ""
    level: DamageLevel
    notes: Annotated[str, Field(max_length=4000)] = ""
