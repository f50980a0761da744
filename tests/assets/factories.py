"""Test data for the asset register, made through its own services."""

from __future__ import annotations

from typing import Any

from gov21.assets import services
from gov21.assets.models import Asset
from gov21.assets.records import AssetFacts
from gov21.core.principal import Principal

OFFICER = Principal(name="officer.works", kind="staff", roles=frozenset({"supervisor"}))
READER = Principal(name="reader.one", kind="staff", roles=frozenset({"reader"}))

_counter = {"n": 0}


def point(lon: float, lat: float) -> dict[str, Any]:
    return {"type": "Point", "coordinates": [lon, lat]}


def square(lon: float, lat: float, side: float = 0.002) -> dict[str, Any]:
    ring = [[lon, lat], [lon + side, lat], [lon + side, lat + side], [lon, lat + side], [lon, lat]]
    return {"type": "Polygon", "coordinates": [ring]}


def facts(**overrides: Any) -> AssetFacts:
    _counter["n"] += 1
    data: dict[str, Any] = {
        "code": f"T-{_counter['n']:05d}",
        "name": f"Test school {_counter['n']}",
        "kind": "school",
        "agency": "MOE",
        "condition": "good",
        "replacement_value_cents": 250_000_000,
        "currency": "XCD",
        "criticality": "high",
        "capacity": 400,
        "geometry": point(-63.125, 14.24),  # Port Clement
        **overrides,
    }
    return AssetFacts.model_validate(data)


def asset(**overrides: Any) -> Asset:
    return services.asset_add(facts=facts(**overrides), actor=OFFICER)
