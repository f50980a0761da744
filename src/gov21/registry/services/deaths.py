"""Registering a death: the person deceased, their union dissolved and their spouse widowed, and the
hook that stops what must stop with the registration."""

from __future__ import annotations

from datetime import date
from functools import partial

from gov21.core.hooks import Hook
from gov21.core.principal import Principal
from gov21.registry.models import LifeEvent, Person
from gov21.registry.services.persons import facts_deceased, facts_widowed, person_change_record, person_for_update
from gov21.registry.services.unions import union_open

# Fired with the person's UIN inside the transaction that registers their death: what must stop with
# the registration (their digital ID) is connected here by the platform's wiring, not called by name.
death_registered: Hook[str] = Hook("registry.death_registered")


def death_apply(event: LifeEvent, actor: Principal) -> None:
    """Register a death: the person deceased, their digital ID stopped, their union dissolved, their spouse widowed."""
    person = person_for_update(event.data["uin"], field="uin")
    death_date = date.fromisoformat(event.data["death_date"])
    person_change_record(
        person,
        partial(facts_deceased, death_date=death_date),
        reason="Death registered",
        actor=actor,
        effective=death_date,
        event=event,
    )
    death_registered.fire(person.uin)  # same transaction: the digital ID stops with the registration
    union = union_open(person.pk)
    if union is not None:
        union.dissolved_on = death_date
        union.dissolution = "death"
        union.save()
        partner_id = union.partner_b_id if union.partner_a_id == person.pk else union.partner_a_id
        partner = Person.objects.select_related("mother", "father").select_for_update(of=("self",)).get(pk=partner_id)
        person_change_record(
            partner, facts_widowed, reason="Spouse died", actor=actor, effective=death_date, event=event
        )
    event.subject = person
