"""Registering a birth: a new person, with a UIN from the pool, and their first version."""

from __future__ import annotations

from datetime import date

from django.conf import settings

from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry.models import LifeEvent, Person
from gov21.registry.services.persons import version_save
from gov21.registry.tasks import uin_pool_watch
from gov21.registry.uin_pool import uin_take


def birth_apply(event: LifeEvent, actor: Principal) -> None:
    """Register a birth: a new person with a UIN from the pool, living where the declaration or the mother says."""
    facts = event.data
    mother = one_or_none(Person.objects.filter(uin=facts["mother_uin"])) if facts.get("mother_uin") else None
    father = one_or_none(Person.objects.filter(uin=facts["father_uin"])) if facts.get("father_uin") else None
    parish = facts["address_parish"] or (mother.address_parish if mother else "") or facts["birth_parish"]
    settlement = facts["address_settlement"] or (mother.address_settlement if mother else "")
    line = facts["address_line"] or (mother.address_line if mother else "")
    birth_date = date.fromisoformat(facts["birth_date"])
    uin_pool_watch()
    person = Person(
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
    version_save(person, previous=None, reason="Birth registered", author=actor.name, effective=birth_date, event=event)
    event.subject = person
