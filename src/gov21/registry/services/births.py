"""Registering a birth: a new person, with a UIN from the pool, and their first version."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from django.conf import settings

from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry.models import LifeEvent, Person
from gov21.registry.services.persons import version_save
from gov21.registry.tasks import uin_pool_watch
from gov21.registry.uin_pool import uin_take


def _parent(facts: Mapping[str, object], field: str, known: Mapping[str, Person] | None) -> Person | None:
    uin = facts.get(field)
    if not uin:
        return None
    if known is not None and field in known:
        return known[field]
    return one_or_none(Person.objects.filter(uin=uin))


def birth_person(event: LifeEvent, *, parents: Mapping[str, Person] | None = None) -> Person:
    """The person a birth registers, unsaved, with a UIN taken from the pool, living where the
    declaration or the mother says. ``parents`` are the parents the checks already read, by field."""
    facts = event.data
    mother = _parent(facts, "mother_uin", parents)
    father = _parent(facts, "father_uin", parents)
    parish = facts["address_parish"] or (mother.address_parish if mother else "") or facts["birth_parish"]
    settlement = facts["address_settlement"] or (mother.address_settlement if mother else "")
    line = facts["address_line"] or (mother.address_line if mother else "")
    birth_date = date.fromisoformat(facts["birth_date"])
    uin_pool_watch()
    return Person(
        uin=uin_take(),
        given_names=facts["given_names"],
        family_name=facts["family_name"],
        sex=facts["sex"],
        birth_date=birth_date,
        birth_parish=facts["birth_parish"],
        birth_settlement=facts["birth_settlement"],
        mother=mother,
        father=father,
        citizenship=settings.GOV21_INSTANCE,
        address_parish=parish,
        address_settlement=settlement,
        address_line=line,
        address_since=birth_date,
    )


def birth_apply(event: LifeEvent, actor: Principal, *, parents: Mapping[str, Person] | None = None) -> None:
    """Register a birth: a new person and their first version."""
    person = birth_person(event, parents=parents)
    version_save(
        person,
        previous=None,
        reason="Birth registered",
        author=actor.name,
        effective=person.birth_date,
        event=event,
    )
    event.subject = person
