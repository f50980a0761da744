"""The country's geography: its parishes and the settlements in each, the reference list in which
every address and place of birth or death is given.

The list is data (``core/data/geography.json``), not code, so a country replaces it without touching
a module; every app reads it from here.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources


@dataclass(frozen=True, slots=True)
class Settlement:
    """A town or village: its name, where it lies, and its relative population."""

    name: str
    lat: float
    lon: float  # east-positive, so the islands have negative longitudes
    weight: float


@dataclass(frozen=True, slots=True)
class Parish:
    """A parish: its code (as addresses give it), its name, and its settlements."""

    code: str
    name: str
    settlements: tuple[Settlement, ...]


@lru_cache(maxsize=1)
def geography() -> tuple[Parish, ...]:
    """Every parish of the country, in the order of their codes."""
    text = resources.files("gov21.core").joinpath("data/geography.json").read_text(encoding="utf-8")
    return tuple(
        Parish(
            code=str(parish["code"]),
            name=str(parish["name"]),
            settlements=tuple(
                Settlement(name=str(s["name"]), lat=float(s["lat"]), lon=float(s["lon"]), weight=float(s["weight"]))
                for s in parish["settlements"]
            ),
        )
        for parish in json.loads(text)["parishes"]
    )


def parishes() -> tuple[tuple[str, str], ...]:
    """The parishes as (code, name) pairs, for choices and for showing a code's name."""
    return tuple((parish.code, parish.name) for parish in geography())


def parish_name(code: str) -> str:
    """The name of the parish with ``code``, or the code itself when it names no parish."""
    return dict(parishes()).get(code, code)


def settlement_names() -> list[str]:
    """The names of every settlement in the country, sorted, each once."""
    return sorted({place.name for parish in geography() for place in parish.settlements})
