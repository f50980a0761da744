"""Declarations of life events: input is parsed and checked against the registry's rules and
records (``check_*``), then stored with its first transition."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date, datetime
from typing import Any, NamedTuple

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy, gettext_noop
from pydantic import ValidationError

from gov21.audit.contracts import Access, access_action_declare, access_record_all
from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.ids import uin_check
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry import rules
from gov21.registry.models import (
    DuplicateCandidate,
    EventKind,
    EventState,
    EventTransition,
    LifeEvent,
    Person,
    PersonStatus,
)
from gov21.registry.records import (
    DECLARATIONS,
    AddressChangeFacts,
    BirthFacts,
    DeathFacts,
    Declaration,
    DivorceFacts,
    MarriageFacts,
    NameChangeFacts,
)
from gov21.registry.services.duplicates import duplicates_find
from gov21.registry.services.events import date_check, local_today
from gov21.registry.services.unions import union_between, union_open

# What a declaration's typing error is called, by pydantic's type of error: (code, message).
_INPUT_ERRORS: dict[str, tuple[str, str]] = {
    "missing": ("required", "This field is required."),
    "string_too_short": ("required", "This field is required."),
    "string_too_long": ("too_long", "At most {max_length} characters."),
    "literal_error": ("invalid_sex", "Sex must be F, M or X."),
    "date_parsing": ("invalid_date", "Give the date as YYYY-MM-DD."),
    "date_from_datetime_parsing": ("invalid_date", "Give the date as YYYY-MM-DD."),
    "date_from_datetime_inexact": ("invalid_date", "Give the date as YYYY-MM-DD."),
    "date_type": ("invalid_date", "Give the date as YYYY-MM-DD."),
}


# What a declaration means to each person it names ("who used my data"), one per kind of event.
for _kind, _said in (
    ("birth", gettext_lazy("Received a declaration of a birth that names you")),
    ("death", gettext_lazy("Received a declaration of a death that names you")),
    ("marriage", gettext_lazy("Received a declaration of a marriage that names you")),
    ("divorce", gettext_lazy("Received a declaration of a divorce that names you")),
    ("name_change", gettext_lazy("Received a declaration of a change of your name")),
    ("address_change", gettext_lazy("Received a declaration of a change of your address")),
):
    access_action_declare(f"declare.{_kind}", _said)


def declaration_parse(*, kind: str, data: Mapping[str, Any]) -> Declaration:
    """The typed declaration of ``kind`` in ``data`` (a form's or an agency's system's fields), or a
    ``DomainError`` naming the first field that is wrong. An empty value counts as not given."""
    record = DECLARATIONS.get(kind)
    if record is None:
        raise DomainError("unknown_event_kind", f"Unknown event kind {kind!r}.", field="kind")
    given = {key: value for key, value in data.items() if value is not None}
    if isinstance(given.get("sex"), str):
        given["sex"] = given["sex"].strip().upper()
    try:
        return record.model_validate(given)
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"])
        code, message = _INPUT_ERRORS.get(first["type"], ("invalid_input", first["msg"]))
        raise DomainError(code, message.format(**first.get("ctx", {})), field=field) from None


@contextmanager
def _noted(problems: list[DomainError]) -> Iterator[None]:
    """Note a rule's refusal and go on, so that every problem of a declaration is found in one pass."""
    try:
        yield
    except DomainError as error:
        problems.append(error)


def _not_registered(uin: str, field: str) -> NotFound:
    return NotFound("person_not_found", f"No person with UIN {uin} is registered.", field=field)


def _check_birth(facts: BirthFacts, problems: list[DomainError]) -> dict[str, Person]:
    min_age = settings.GOV21_MIN_PARENT_AGE
    given = {uin for uin in (facts.mother_uin, facts.father_uin) if uin is not None}
    # Both parents in one read; their whole rows, since registering the birth needs the mother's address.
    found = {p.uin: p for p in Person.objects.filter(uin__in=sorted(given))} if given else {}
    parents: dict[str, Person] = {}
    for role, uin in (("mother", facts.mother_uin), ("father", facts.father_uin)):
        if uin is None:
            continue
        parent = found.get(uin)
        if parent is None:
            problems.append(_not_registered(uin, f"{role}_uin"))
            continue
        parents[f"{role}_uin"] = parent
        with _noted(problems):
            rules.check_parent(
                role=role,
                parent_birth=parent.birth_date,
                parent_sex=parent.sex,
                parent_death=parent.death_date,
                child_birth=facts.birth_date,
                min_age=min_age,
            )
    return parents


def _check_death(facts: DeathFacts, problems: list[DomainError]) -> None:
    person = one_or_none(Person.objects.filter(uin=facts.uin).only("birth_date", "status"))
    if person is None:
        problems.append(_not_registered(facts.uin, "uin"))
        return
    with _noted(problems):
        rules.check_death(birth_date=person.birth_date, status=person.status, death_date=facts.death_date)


def _check_marriage(facts: MarriageFacts, problems: list[DomainError]) -> None:
    if facts.partner_a_uin == facts.partner_b_uin:
        problems.append(DomainError("same_person", "The two parties must be different people.", field="partner_b_uin"))
        return
    for field, uin in (("partner_a_uin", facts.partner_a_uin), ("partner_b_uin", facts.partner_b_uin)):
        person = one_or_none(Person.objects.filter(uin=uin))
        if person is None:
            problems.append(_not_registered(uin, field))
            continue
        with _noted(problems):
            rules.check_marriage_party(
                field=field,
                birth_date=person.birth_date,
                status=person.status,
                death_date=person.death_date,
                married=union_open(person.pk) is not None,
                on=facts.date,
                min_age=settings.GOV21_MARRIAGE_AGE,
            )


def _check_divorce(facts: DivorceFacts, problems: list[DomainError]) -> None:
    union = union_between(facts.partner_a_uin, facts.partner_b_uin)
    if union is None:
        problems.append(
            Conflict("not_married", "These two people are not married to each other.", field="partner_b_uin")
        )
    elif facts.date < union.married_on:
        problems.append(
            DomainError("divorce_before_marriage", "The divorce date is before the marriage.", field="date")
        )


def _check_living(uin: str, problems: list[DomainError]) -> None:
    person = one_or_none(Person.objects.filter(uin=uin).only("status"))
    if person is None:
        problems.append(_not_registered(uin, "uin"))
    elif person.status == PersonStatus.DECEASED:
        problems.append(Conflict("already_deceased", "This person is recorded as deceased.", field="uin"))


def _check_name_change(facts: NameChangeFacts, problems: list[DomainError]) -> None:
    _check_living(facts.uin, problems)
    if not facts.given_names and not facts.family_name:
        problems.append(DomainError("required", "Give a new given name or family name.", field="family_name"))


def _examine(facts: Declaration) -> tuple[Mapping[str, Person], list[DomainError]]:
    """Every rule ``facts`` break, in the order they are checked, and the persons the checks read."""
    problems: list[DomainError] = []
    for field, uin in facts.uins().items():
        with _noted(problems):
            uin_check(uin, field=field)
    if problems:
        # A UIN with a wrong check digit names nobody: looking it up would only say so again.
        return {}, problems
    with _noted(problems):
        date_check(facts.event_date(), field=facts.EVENT_DATE, today=local_today())
    persons: Mapping[str, Person] = {}
    if isinstance(facts, BirthFacts):
        persons = _check_birth(facts, problems)
    elif isinstance(facts, DeathFacts):
        _check_death(facts, problems)
    elif isinstance(facts, MarriageFacts):
        _check_marriage(facts, problems)
    elif isinstance(facts, DivorceFacts):
        _check_divorce(facts, problems)
    elif isinstance(facts, NameChangeFacts):
        _check_name_change(facts, problems)
    elif isinstance(facts, AddressChangeFacts):
        _check_living(facts.uin, problems)
    return persons, problems


def check_declaration(facts: Declaration) -> Mapping[str, Person]:
    """Check a declaration against the registry's rules and records; a ``DomainError`` if it breaks one
    (the first found). Returns the persons it read that registering needs again, by field (a birth's
    parents)."""
    persons, problems = _examine(facts)
    if problems:
        raise problems[0]
    return persons


def declaration_problems(facts: Declaration) -> list[DomainError]:
    """Every rule ``facts`` break, each naming its field, for a form to show all of them in one round.
    Reads only; nothing is recorded."""
    return _examine(facts)[1]


def uins_unregistered(uins: Mapping[str, str]) -> list[DomainError]:
    """A ``person_not_found`` problem for each UIN given (by field) that names nobody in the register, in
    one read: what a form can say of the UINs it holds while other answers are still missing."""
    given = {field: uin for field, uin in uins.items() if uin}
    if not given:
        return []
    found = set(Person.objects.filter(uin__in=sorted(set(given.values()))).values_list("uin", flat=True))
    return [_not_registered(uin, field) for field, uin in given.items() if uin not in found]


class Checked(NamedTuple):
    """A declaration that passed the checks: its facts as they are kept with the event, the event's
    date, and the persons the checks read (by field), so that nothing is read twice in one transaction."""

    data: dict[str, Any]
    event_date: date
    persons: Mapping[str, Person]


def declaration_checked(facts: Declaration) -> Checked:
    """Check ``facts``; return them as they are kept with the event, the event's date and the persons read."""
    persons = check_declaration(facts)
    return Checked(facts.model_dump(mode="json"), facts.event_date(), persons)


def _subject_uin(kind: str, facts: dict[str, Any]) -> str | None:
    if kind == EventKind.BIRTH:
        return None
    return str(facts.get("uin") or facts.get("partner_a_uin"))


def declaration_event(
    declaration: Declaration, checked: Checked, *, actor: Principal, now: datetime, declarant_uin: str = ""
) -> tuple[LifeEvent, list[DuplicateCandidate]]:
    """The declared event of a checked declaration, unsaved, and the possible duplicates of a birth
    (unsaved too; ``has_open_duplicates`` already says whether there are any)."""
    kind = declaration.KIND
    facts = checked.data
    subject_uin = _subject_uin(kind, facts)
    subject = one_or_none(Person.objects.filter(uin=subject_uin)) if subject_uin else None
    partner = one_or_none(Person.objects.filter(uin=facts["partner_b_uin"])) if "partner_b_uin" in facts else None
    event = LifeEvent(
        kind=kind,
        state=EventState.DECLARED,
        event_date=checked.event_date,
        data=facts,
        subject=subject,
        partner=partner,
        declared_at=now,
        declared_by=actor.name,
        declarant_uin=declarant_uin,
        mother_uin=(facts.get("mother_uin") or "") if kind == EventKind.BIRTH else "",
    )
    if kind in (EventKind.BIRTH, EventKind.DEATH):
        event.timeliness = rules.timeliness(
            event_date=checked.event_date,
            registered_on=timezone.localdate(now),
            target_days=settings.GOV21_REGISTRATION_TARGET_DAYS,
            late_days=settings.GOV21_REGISTRATION_LATE_DAYS,
        )
    duplicates = duplicates_find(event, mother=checked.persons.get("mother_uin")) if kind == EventKind.BIRTH else []
    event.has_open_duplicates = bool(duplicates)
    return event, duplicates


def declaration_access(event: LifeEvent, *, actor: Principal) -> Access:
    """The access record of a declaration, to write in its transaction."""
    return Access(
        actor=actor.name,
        actor_kind=actor.kind,
        action=f"declare.{event.kind}",
        subject=_subject_uin(event.kind, event.data) or "",
        purpose=gettext_noop("civil registration"),
        detail={"event": event.pk},
    )


def declaration_audit(event: LifeEvent, *, actor: Principal) -> None:
    """Write the access record of a declaration, in its transaction."""
    access_record_all([declaration_access(event, actor=actor)])


@transaction.atomic
def event_declare(*, declaration: Declaration, actor: Principal, declarant_uin: str = "") -> LifeEvent:
    """Record a declaration. ``declarant_uin`` is the person who declared through an agency's
    system, when the identity provider's assertion proved it (see :func:`assertion_accept`)."""
    actor.require("event.declare")
    checked = declaration_checked(declaration)
    now = timezone.now()
    event, duplicates = declaration_event(declaration, checked, actor=actor, now=now, declarant_uin=declarant_uin)
    event.save()
    EventTransition.objects.create(event=event, from_state="", to_state=EventState.DECLARED, actor=actor.name, at=now)
    if duplicates:
        DuplicateCandidate.objects.bulk_create(duplicates)
    declaration_audit(event, actor=actor)
    return event
