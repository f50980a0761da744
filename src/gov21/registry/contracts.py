"""What the platform's wiring may use of the civil registry: no other app imports it, they read
registry data through the exchange as any agency does."""

from __future__ import annotations

from gov21.registry.records import PersonFacts, PersonHistory, PersonRecord, PersonVersionRecord
from gov21.registry.selectors import person_sample_adult, population_count
from gov21.registry.services import death_registered

__all__ = [
    "PersonFacts",
    "PersonHistory",
    "PersonRecord",
    "PersonVersionRecord",
    "death_registered",
    "person_sample_adult",
    "population_count",
]
