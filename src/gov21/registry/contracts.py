"""What the platform's wiring may use of the civil registry: no other app imports it, they read
registry data through the exchange as any agency does."""

from __future__ import annotations

from gov21.registry.namedata import PARISHES
from gov21.registry.selectors import person_sample_adult, population_count
from gov21.registry.services import death_registered


def parishes() -> tuple[tuple[str, str], ...]:
    """The country's parishes: (code, name), the reference list addresses are given in."""
    return tuple((code, name) for code, name, _ in PARISHES)


__all__ = ["death_registered", "parishes", "person_sample_adult", "population_count"]
