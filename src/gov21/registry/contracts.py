"""What other apps may use of the civil registry."""

from __future__ import annotations

from gov21.registry.namedata import PARISHES
from gov21.registry.selectors import person_sample_adult, person_view, population_count
from gov21.registry.services import death_registered


def parishes() -> tuple[tuple[str, str], ...]:
    """The country's parishes: (code, name), the reference list addresses are given in."""
    return tuple((code, name) for code, name, _ in PARISHES)


__all__ = ["death_registered", "parishes", "person_sample_adult", "person_view", "population_count"]
