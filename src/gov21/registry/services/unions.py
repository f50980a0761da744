"""Unions: the open union of a person or of two people, and registering marriages and divorces."""

from __future__ import annotations

from datetime import date
from functools import partial

from django.db.models import Q

from gov21.core.errors import Conflict
from gov21.core.principal import Principal
from gov21.registry.models import LifeEvent, Union
from gov21.registry.services.persons import facts_divorced, facts_married, person_change_record, person_for_update


def union_open(person_id: int) -> Union | None:
    """The person's union not yet dissolved, if any."""
    return (
        Union.objects.filter(Q(partner_a_id=person_id) | Q(partner_b_id=person_id), dissolved_on__isnull=True)
        .order_by("-married_on")
        .first()
    )


def union_between(a: str, b: str) -> Union | None:
    """The union not yet dissolved between the persons with UINs ``a`` and ``b``, if any."""
    return (
        Union.objects.filter(dissolved_on__isnull=True)
        .filter(
            Q(partner_a__uin=a, partner_b__uin=b) | Q(partner_a__uin=b, partner_b__uin=a),
        )
        .first()
    )


def marriage_apply(event: LifeEvent, actor: Principal) -> None:
    """Register a marriage: the union, and a new version of each partner (married, perhaps renamed)."""
    facts = event.data
    on = date.fromisoformat(facts["date"])
    a = person_for_update(facts["partner_a_uin"], field="partner_a_uin")
    b = person_for_update(facts["partner_b_uin"], field="partner_b_uin")
    Union.objects.create(partner_a=a, partner_b=b, married_on=on, marriage_event=event)
    for person, key in ((a, "partner_a_new_family_name"), (b, "partner_b_new_family_name")):
        person_change_record(
            person,
            partial(facts_married, new_family_name=facts.get(key) or ""),
            reason="Marriage registered",
            actor=actor,
            effective=on,
            event=event,
        )
    event.subject, event.partner = a, b


def divorce_apply(event: LifeEvent, actor: Principal) -> None:
    """Register a divorce: the union dissolved, and a new version of each partner (divorced, perhaps renamed)."""
    facts = event.data
    on = date.fromisoformat(facts["date"])
    union = union_between(facts["partner_a_uin"], facts["partner_b_uin"])
    if union is None:
        raise Conflict("not_married", "These two people are not married to each other.", field="partner_b_uin")
    union.dissolved_on = on
    union.dissolution = "divorce"
    union.divorce_event = event
    union.save()
    a = person_for_update(facts["partner_a_uin"], field="partner_a_uin")
    b = person_for_update(facts["partner_b_uin"], field="partner_b_uin")
    for person, key in ((a, "partner_a_new_family_name"), (b, "partner_b_new_family_name")):
        person_change_record(
            person,
            partial(facts_divorced, new_family_name=facts.get(key) or ""),
            reason="Divorce registered",
            actor=actor,
            effective=on,
            event=event,
        )
    event.subject, event.partner = a, b
