"""The registrar's decisions on a declaration: validate, reject, ask for a correction, correct, and
register (a gap-free number, the event applied to the persons concerned, published to subscribers)."""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Any, Final

from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext, gettext_lazy, gettext_noop

from gov21.audit.contracts import Access, access_action_declare, access_record_all
from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, event_publish_many
from gov21.registry import rules
from gov21.registry.models import (
    DuplicateCandidate,
    EventKind,
    EventState,
    EventTransition,
    LifeEvent,
    Person,
    RegistrationCounter,
)
from gov21.registry.records import BirthFacts
from gov21.registry.services.births import birth_apply, birth_person
from gov21.registry.services.deaths import death_apply
from gov21.registry.services.declarations import (
    declaration_access,
    declaration_audit,
    declaration_checked,
    declaration_event,
    declaration_parse,
)
from gov21.registry.services.duplicates import duplicates_flag
from gov21.registry.services.events import event_for_action, event_transition
from gov21.registry.services.persons import address_change_apply, name_change_apply, version_new
from gov21.registry.services.unions import divorce_apply, marriage_apply

logger = logging.getLogger("gov21.registry")


# What a registration means to each person it names ("who used my data"), one per kind of event.
for _kind, _said in (
    ("birth", gettext_lazy("Registered a birth that names you")),
    ("death", gettext_lazy("Registered a death that names you")),
    ("marriage", gettext_lazy("Registered a marriage that names you")),
    ("divorce", gettext_lazy("Registered a divorce that names you")),
    ("name_change", gettext_lazy("Registered a change of your name")),
    ("address_change", gettext_lazy("Registered a change of your address")),
):
    access_action_declare(f"register.{_kind}", _said)


@transaction.atomic
def event_validate(*, event_id: int, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    event = event_for_action(event_id, "validate")
    # The facts are checked again: the registry may have changed since the declaration.
    event.data, event.event_date, _ = declaration_checked(declaration_parse(kind=event.kind, data=event.data))
    event_transition(event, to=EventState.VALIDATED, actor=actor)
    event.save()
    return event


@transaction.atomic
def event_reject(*, event_id: int, reason: str, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    if not reason.strip():
        raise DomainError("required", "Give the reason for rejecting, for the declarant.", field="reason")
    event = event_for_action(event_id, "reject")
    event_transition(event, to=EventState.REJECTED, actor=actor, reason=reason.strip()[:500])
    event.rejection_reason = reason.strip()[:500]
    event.save()
    return event


@transaction.atomic
def event_request_correction(*, event_id: int, note: str, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    if not note.strip():
        raise DomainError("required", "Say what needs correcting.", field="note")
    event = event_for_action(event_id, "request_correction")
    event_transition(event, to=EventState.CORRECTION_REQUESTED, actor=actor, reason=note.strip()[:500])
    event.correction_note = note.strip()[:500]
    event.save()
    return event


@transaction.atomic
def event_correct(*, event_id: int, data: dict[str, Any], actor: Principal) -> LifeEvent:
    actor.require("event.declare")
    event = event_for_action(event_id, "correct")
    merged = declaration_parse(kind=event.kind, data={**event.data, **data})
    event.data, event.event_date, persons = declaration_checked(merged)
    if event.kind == EventKind.BIRTH:
        event.mother_uin = event.data.get("mother_uin") or ""
    event_transition(event, to=EventState.CORRECTED, actor=actor, reason="Declaration corrected")
    event.save()
    if event.kind == EventKind.BIRTH:
        event.duplicates.filter(resolution="").update(resolution="superseded", resolved_at=timezone.now())
        event.has_open_duplicates = False
        duplicates_flag(event, mother=persons.get("mother_uin"))
    return event


def _next_number(kind: str, year: int) -> str:
    """The next registration number of ``kind`` in ``year``: the counter is incremented under its row
    lock in the registering transaction (gap-free: a rolled-back registration gives its number back),
    in one statement once the year's counter exists."""
    table = RegistrationCounter._meta.db_table
    with connection.cursor() as cursor:
        for _ in range(2):
            cursor.execute(
                f"UPDATE {table} SET last = last + 1 WHERE kind = %s AND year = %s RETURNING last",  # noqa: S608
                [kind, year],
            )
            row = cursor.fetchone()
            if row is not None:
                return rules.registration_number(kind=kind, year=year, sequence=int(row[0]))
            # The year's first registration of this kind: a concurrent one may create the row too.
            RegistrationCounter.objects.bulk_create(
                [RegistrationCounter(kind=kind, year=year, last=0)], ignore_conflicts=True
            )
    raise RuntimeError(f"no registration counter for {kind} {year}")


def _register_access(event: LifeEvent, *, actor: Principal) -> Access:
    return Access(
        actor=actor.name,
        actor_kind=actor.kind,
        action=f"register.{event.kind}",
        subject=event.subject.uin if event.subject else "",
        purpose=gettext_noop("civil registration"),
        detail={"event": event.pk, "number": event.number},
    )


def _register_audit(event: LifeEvent, *, actor: Principal) -> None:
    access_record_all([_register_access(event, actor=actor)])


def _registering(event: LifeEvent, *, actor: Principal, now: datetime) -> None:
    """Give ``event`` its number, time, author and timeliness (registered today)."""
    today = timezone.localdate(now)
    event.number = _next_number(event.kind, today.year)
    event.registered_at = now
    event.registered_by = actor.name
    if event.kind in (EventKind.BIRTH, EventKind.DEATH):
        event.timeliness = rules.timeliness(
            event_date=event.event_date,
            registered_on=today,
            target_days=settings.GOV21_REGISTRATION_TARGET_DAYS,
            late_days=settings.GOV21_REGISTRATION_LATE_DAYS,
        )


_UNRESOLVED = (
    "unresolved_duplicates",
    "This declaration may duplicate an existing record; resolve the possible duplicates first.",
)


@transaction.atomic
def event_register(*, event_id: int, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    event = event_for_action(event_id, "register")
    if event.has_open_duplicates:
        raise Conflict(*_UNRESOLVED)
    event.data, event.event_date, persons = declaration_checked(declaration_parse(kind=event.kind, data=event.data))
    _registering(event, actor=actor, now=timezone.now())
    if event.kind == EventKind.BIRTH:
        birth_apply(event, actor, parents=persons)
    else:
        _APPLY[EventKind(event.kind)](event, actor)
    event_transition(event, to=EventState.REGISTERED, actor=actor)
    event.save()
    _publish_registered(event)
    _register_audit(event, actor=actor)
    return event


# What the registry tells subscribed agencies through the exchange, per kind of registration.
_PUBLISHED: dict[str, str] = {
    EventKind.BIRTH: "birth.registered",
    EventKind.DEATH: "death.registered",
    EventKind.MARRIAGE: "marriage.registered",
    EventKind.NAME_CHANGE: "name.changed",
    EventKind.ADDRESS_CHANGE: "address.changed",
}


def _publish_registered(*events: LifeEvent) -> None:
    """Publish registrations in the registering transaction (an outbox: both commit or neither), those
    of one kind together. Only the number, the persons' UINs and the date: a subscriber that needs
    more asks the persons service, where the read is recorded for the citizen."""
    by_type: dict[str, list[tuple[dict[str, object], str]]] = {}
    for event in events:
        event_type = _PUBLISHED.get(event.kind)
        if event_type is None or event.number is None:
            continue
        # The declaration's id lets the system that declared it (the services portal) match the outcome.
        payload: dict[str, object] = {
            "number": event.number,
            "date": event.event_date.isoformat(),
            "declaration": event.pk,
        }
        if event.kind == EventKind.MARRIAGE:
            payload["uins"] = [p.uin for p in (event.subject, event.partner) if p is not None]
        else:
            payload["uin"] = event.subject.uin if event.subject is not None else None
        by_type.setdefault(event_type, []).append((payload, f"{event.number}:{event_type}"))
    for event_type, published in by_type.items():
        try:
            event_publish_many(
                publisher=agency_client("CRO", "civil-registry"), event_type=event_type, events=published
            )
        except NotFound as error:
            if error.code != "unknown_event_type":
                raise
            # The exchange of this deployment is not set up: the registry works without it.
            logger.warning("event type %s is not registered; %d not published", event_type, len(published))


_APPLY: dict[EventKind, Callable[[LifeEvent, Principal], None]] = {
    EventKind.BIRTH: birth_apply,
    EventKind.DEATH: death_apply,
    EventKind.MARRIAGE: marriage_apply,
    EventKind.DIVORCE: divorce_apply,
    EventKind.NAME_CHANGE: name_change_apply,
    EventKind.ADDRESS_CHANGE: address_change_apply,
}


def register_birth(*, birth: BirthFacts, actor: Principal) -> LifeEvent:
    """Declare, validate and register a birth in one go, for trusted intake such as a hospital whose
    system holds both rights: one transaction with the same checks, rows, access records and published
    event as the three steps, the facts checked once. A birth that may duplicate a known one is kept
    as a validated declaration for a registrar to resolve, and answered with a ``Conflict``."""
    actor.require("event.declare")
    actor.require("event.decide")
    with transaction.atomic():
        event = _birth_intake(birth, actor=actor)
    if event.has_open_duplicates:
        raise Conflict(*_UNRESOLVED)
    return event


def _birth_intake(birth: BirthFacts, *, actor: Principal) -> LifeEvent:
    checked = declaration_checked(birth)
    now = timezone.now()
    event, duplicates = declaration_event(birth, checked, actor=actor, now=now)
    if duplicates:
        event.state = EventState.VALIDATED
        event.save()
        DuplicateCandidate.objects.bulk_create(duplicates)
        EventTransition.objects.bulk_create(
            [EventTransition(event=event, from_state=a, to_state=b, actor=actor.name, at=now) for a, b in _INTAKE]
        )
        declaration_audit(event, actor=actor)
        return event
    _birth_write(event, checked.persons, actor=actor, now=now)
    return event


# The workflow's steps a trusted intake takes at once, each recorded as its transition.
_INTAKE = (("", EventState.DECLARED), (EventState.DECLARED, EventState.VALIDATED))
_REGISTERED = (*_INTAKE, (EventState.VALIDATED, EventState.REGISTERED))


def _birth_write(
    event: LifeEvent,
    parents: Mapping[str, Person],
    *,
    actor: Principal,
    now: datetime,
    batch: list[Access] | None = None,
) -> None:
    """Register a checked birth with no possible duplicate: the event is written once, registered,
    and its person's first version points at it; then its transitions, its access records (the
    declaration's and the registration's, in one append) and its published event. Given a
    ``batch``, the access records are added to it, and the caller appends and publishes them with
    the batch's others."""
    _registering(event, actor=actor, now=now)
    person = birth_person(event, parents=parents)
    version = version_new(
        person,
        previous=None,
        reason="Birth registered",
        author=actor.name,
        effective=person.birth_date,
        event=event,
    )
    person.save()
    event.subject = person
    event.state = EventState.REGISTERED
    event.save()
    version.save()
    EventTransition.objects.bulk_create(
        [EventTransition(event=event, from_state=a, to_state=b, actor=actor.name, at=now) for a, b in _REGISTERED]
    )
    accesses = [declaration_access(event, actor=actor), _register_access(event, actor=actor)]
    if batch is not None:
        batch.extend(accesses)
        return
    _publish_registered(event)
    access_record_all(accesses)


# Births one batch may carry: enough for a hospital's backlog of days, small enough that the
# transaction holding the registry's write lock stays well under a second.
BATCH_MAX: Final = 200
# Two births to one mother closer than this are possibly the same child (as for single declarations).
_SIBLING_WINDOW: Final = 270


def register_births(*, births: Sequence[BirthFacts], actor: Principal) -> list[LifeEvent]:
    """Register many births in one transaction, for a trusted intake entering a backlog (after a
    hurricane, a hospital's paper records): all of them, or none. Each birth is checked as
    :func:`register_birth` checks it; a birth that breaks a rule, or may duplicate a known birth or
    another of the batch, is reported by its place in the batch, and nothing is written. The caller
    corrects or removes those and sends the batch again; possible duplicates go the single way, where
    a registrar resolves them."""
    actor.require("event.declare")
    actor.require("event.decide")
    if not births or len(births) > BATCH_MAX:
        raise DomainError(
            "batch_size",
            gettext("Send between 1 and %(max)d births in one batch.") % {"max": BATCH_MAX},
            field="births",
        )
    with transaction.atomic():
        now = timezone.now()
        ready: list[tuple[LifeEvent, Mapping[str, Person]]] = []
        errors: list[dict[str, object]] = []
        mothers: dict[str, list[tuple[int, date]]] = {}
        for index, birth in enumerate(births):
            try:
                checked = declaration_checked(birth)
                event, duplicates = declaration_event(birth, checked, actor=actor, now=now)
            except DomainError as error:
                errors.append({"index": index, "code": error.code, "field": error.field, "detail": error.detail})
                continue
            twin = next(
                (
                    other
                    for other, born in mothers.get(birth.mother_uin or "", ())
                    if abs((born - birth.birth_date).days) <= _SIBLING_WINDOW
                ),
                None,
            )
            if birth.mother_uin:
                mothers.setdefault(birth.mother_uin, []).append((index, birth.birth_date))
            if duplicates or twin is not None:
                reasons = [c.reason for c in duplicates]
                if twin is not None:
                    reasons.append(gettext("Same mother as birth %(index)d of this batch") % {"index": twin})
                errors.append(
                    {
                        "index": index,
                        "code": "possible_duplicate",
                        "field": None,
                        "detail": gettext("This birth may duplicate a known one; declare it on its own: %(reasons)s")
                        % {"reasons": "; ".join(reasons)},
                    }
                )
                continue
            ready.append((event, checked.persons))
        if errors:
            raise DomainError(
                "batch_invalid",
                gettext("%(count)d of the %(total)d births cannot be registered; nothing was registered.")
                % {"count": len(errors), "total": len(births)},
                extra={"errors": errors},
            )
        accesses: list[Access] = []
        for event, parents in ready:
            _birth_write(event, parents, actor=actor, now=now, batch=accesses)
        _publish_registered(*(event for event, _parents in ready))
        access_record_all(accesses)
    return [event for event, _parents in ready]
