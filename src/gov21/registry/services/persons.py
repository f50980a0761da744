"""A person's record and its history: the snapshot kept with every version, versions appended
under a row lock, the pure changes each registered event makes to a person's facts, changes of
name and address, and corrections of clerical errors."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from functools import partial
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy

from gov21.audit.contracts import access_action_declare, access_record
from gov21.core.errors import DomainError, NotFound
from gov21.core.ids import uin_check
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry import rules
from gov21.registry.models import LifeEvent, MaritalStatus, Person, PersonStatus, PersonVersion
from gov21.registry.records import PersonFacts
from gov21.registry.services.events import date_check, local_today

SNAPSHOT_FIELDS: tuple[str, ...] = PersonFacts.fields()


PERSON_CORRECT = access_action_declare(
    "person.correct", gettext_lazy("Corrected a mistake in your record in the civil registry")
)


def person_snapshot(person: Person) -> PersonFacts:
    """What ``person`` holds now, as the facts kept with every version."""
    facts: dict[str, Any] = {name: getattr(person, name) for name in PersonFacts.columns()}
    facts["mother_uin"] = person.mother.uin if person.mother is not None else None
    facts["father_uin"] = person.father.uin if person.father is not None else None
    return PersonFacts.model_validate(facts)


def _refresh_search_fields(person: Person) -> None:
    person.name_norm = rules.normalise_name(f"{person.given_names} {person.family_name}")
    person.family_key = rules.family_key(person.family_name)


def version_new(
    person: Person,
    *,
    previous: PersonFacts | None,
    reason: str,
    author: str,
    effective: date,
    event: LifeEvent | None,
) -> PersonVersion:
    """Bring ``person`` (unsaved) to its new state and return the version that records it, unsaved:
    the caller saves the person, then the version (see :func:`version_save`)."""
    now = timezone.now()
    _refresh_search_fields(person)
    snapshot = person_snapshot(person)
    changed = [k for k in SNAPSHOT_FIELDS if previous is None or getattr(previous, k) != getattr(snapshot, k)]
    if previous is not None:
        if not changed:
            raise DomainError("no_change", "This change would not alter the record.")
        person.version += 1
    person.updated_at = now
    return PersonVersion(
        person=person,
        version=person.version,
        recorded_at=now,
        effective_date=effective,
        data=snapshot.model_dump(mode="json"),
        changed=changed,
        reason=reason,
        author=author,
        event=event,
    )


def version_save(
    person: Person,
    *,
    previous: PersonFacts | None,
    reason: str,
    author: str,
    effective: date,
    event: LifeEvent | None,
) -> PersonVersion:
    """Persist the person's new state and append it to the history."""
    version = version_new(person, previous=previous, reason=reason, author=author, effective=effective, event=event)
    person.save()
    version.save()
    return version


def person_for_update(uin: str, *, field: str) -> Person:
    """The person with ``uin``, locked for update, or a ``NotFound`` on ``field``."""
    uin = uin_check(uin, field=field)
    person = one_or_none(
        Person.objects.select_related("mother", "father").select_for_update(of=("self",)).filter(uin=uin)
    )
    if person is None:
        raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field=field)
    return person


def facts_renamed(facts: PersonFacts, *, family_name: str = "", given_names: str = "") -> PersonFacts:
    """``facts`` under a new family and/or given name (a blank one is kept); the name given up joins
    the former names."""
    old = f"{facts.given_names} {facts.family_name}"
    given, family = given_names or facts.given_names, family_name or facts.family_name
    if f"{given} {family}" == old:
        return facts
    return facts.model_copy(
        update={"given_names": given, "family_name": family, "former_names": [*facts.former_names, old]}
    )


def facts_married(facts: PersonFacts, *, new_family_name: str) -> PersonFacts:
    married = facts.model_copy(update={"marital_status": MaritalStatus.MARRIED.value})
    return facts_renamed(married, family_name=new_family_name)


def facts_divorced(facts: PersonFacts, *, new_family_name: str) -> PersonFacts:
    divorced = facts.model_copy(update={"marital_status": MaritalStatus.DIVORCED.value})
    return facts_renamed(divorced, family_name=new_family_name)


def facts_widowed(facts: PersonFacts) -> PersonFacts:
    return facts.model_copy(update={"marital_status": MaritalStatus.WIDOWED.value})


def facts_deceased(facts: PersonFacts, *, death_date: date) -> PersonFacts:
    return facts.model_copy(update={"status": PersonStatus.DECEASED.value, "death_date": death_date})


def facts_moved(facts: PersonFacts, *, parish: str, settlement: str, line: str, since: date) -> PersonFacts:
    return facts.model_copy(
        update={
            "address_parish": parish,
            "address_settlement": settlement,
            "address_line": line,
            "address_since": since,
        }
    )


def person_change_record(
    person: Person,
    change: Callable[[PersonFacts], PersonFacts],
    *,
    reason: str,
    actor: Principal,
    effective: date,
    event: LifeEvent,
) -> None:
    """Apply ``change`` to ``person``'s facts and keep the result as a new version."""
    before = person_snapshot(person)
    after = change(before)
    for name in PersonFacts.columns():
        setattr(person, name, getattr(after, name))
    version_save(person, previous=before, reason=reason, author=actor.name, effective=effective, event=event)


def name_change_apply(event: LifeEvent, actor: Principal) -> None:
    """Register a change of name: a new version of the person under the new name."""
    facts = event.data
    person = person_for_update(facts["uin"], field="uin")
    person_change_record(
        person,
        partial(facts_renamed, family_name=facts.get("family_name") or "", given_names=facts.get("given_names") or ""),
        reason=f"Change of name: {facts['reason']}",
        actor=actor,
        effective=date.fromisoformat(facts["date"]),
        event=event,
    )
    event.subject = person


def address_change_apply(event: LifeEvent, actor: Principal) -> None:
    """Register a change of address: a new version of the person at the new address."""
    facts = event.data
    person = person_for_update(facts["uin"], field="uin")
    on = date.fromisoformat(facts["date"])
    moved = partial(facts_moved, parish=facts["parish"], settlement=facts["settlement"], line=facts["line"], since=on)
    person_change_record(person, moved, reason="Change of address", actor=actor, effective=on, event=event)
    event.subject = person


CORRECTABLE_FIELDS = frozenset(
    {"given_names", "family_name", "sex", "birth_date", "birth_parish", "birth_settlement", "citizenship"}
)


def _date(value: Any, *, field: str) -> date:
    """A corrected date of birth, as typed."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise DomainError("invalid_date", "Give the date as YYYY-MM-DD.", field=field) from exc


@transaction.atomic
def person_correct(*, uin: str, changes: dict[str, Any], reason: str, actor: Principal) -> PersonVersion:
    """Correct a clerical error in a record: a new version with the reason and the author."""
    actor.require("person.correct")
    if not reason.strip():
        raise DomainError("required", "Give the reason for the correction.", field="reason")
    unknown = set(changes) - CORRECTABLE_FIELDS
    if unknown:
        field = sorted(unknown)[0]
        raise DomainError(
            "not_correctable", f"{field} is changed by registering an event, not by correction.", field=field
        )
    person = person_for_update(uin, field="uin")
    before = person_snapshot(person)
    for key, value in changes.items():
        if key == "birth_date":
            value = _date(value, field="birth_date")
            date_check(value, field="birth_date", today=local_today())
            if person.death_date and value > person.death_date:
                raise DomainError(
                    "death_before_birth", "The date of birth would be after the death.", field="birth_date"
                )
        elif key == "sex":
            value = str(value).upper()
            if value not in {"F", "M", "X"}:
                raise DomainError("invalid_sex", "Sex must be F, M or X.", field="sex")
        else:
            value = str(value).strip()
            if not value and key in {"given_names", "family_name", "birth_parish"}:
                raise DomainError("required", "This field is required.", field=key)
        setattr(person, key, value)
    version = version_save(
        person,
        previous=before,
        reason=f"Correction: {reason.strip()[:480]}",
        author=actor.name,
        effective=local_today(),
        event=None,
    )
    access_record(
        actor=actor.name, actor_kind=actor.kind, action=PERSON_CORRECT, subject=person.uin, purpose=reason.strip()
    )
    return version
