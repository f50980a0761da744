"""Small helpers that build test data through the real registration services."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import Person
from gov21.registry.records import BirthFacts

_counter = {"n": 0}


def register_person(
    actor: Principal,
    *,
    given: str | None = None,
    family: str = "Baptiste",
    sex: str = "F",
    born: date | None = None,
    mother: Person | None = None,
    father: Person | None = None,
    **extra: Any,
) -> Person:
    _counter["n"] += 1
    # Distinct dates keep unrelated test persons from looking like duplicates of each other.
    born = born or date(1960, 1, 1) + timedelta(days=11 * _counter["n"])
    data: dict[str, Any] = {
        "given_names": given or f"Test{_counter['n']:04d}",
        "family_name": family,
        "sex": sex,
        "birth_date": born.isoformat(),
        "birth_parish": "XA-01",
        "birth_settlement": "Port Royal",
        "mother_uin": mother.uin if mother else None,
        "father_uin": father.uin if father else None,
        "address_parish": "XA-01",
        "address_settlement": "Port Royal",
        "address_line": "1 Bay Street",
        **extra,
    }
    event = services.register_birth(birth=BirthFacts.model_validate(data), actor=actor)
    assert event.subject is not None
    return Person.objects.get(pk=event.subject.pk)
