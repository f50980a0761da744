"""Writes of the civil registry: declaring, deciding and registering life events, correcting
records, issuing certificates. Each public function is one transaction; the audit row is written in
it; nothing is overwritten (person changes add a ``PersonVersion``)."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from pydantic import ValidationError
from rapidfuzz import fuzz

from gov21.audit.contracts import access_record
from gov21.core.crypto import verify_compact
from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.hooks import Hook
from gov21.core.ids import uin_check
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.exchange.contracts import agency_client, event_publish
from gov21.identity.contracts import (
    ASSERTION_TYP,
    assertion_issuer,
    assertion_jwks,
)
from gov21.registry import rules
from gov21.registry.keys import registry_keys
from gov21.registry.models import (
    AssertionUse,
    Certificate,
    CertificateStatus,
    DuplicateCandidate,
    EventKind,
    EventState,
    EventTransition,
    LifeEvent,
    MaritalStatus,
    Person,
    PersonStatus,
    PersonVersion,
    RegistrationCounter,
    Union,
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
    PersonFacts,
)
from gov21.registry.tasks import uin_pool_watch
from gov21.registry.uin_pool import uin_take

logger = logging.getLogger("gov21.registry")

# Fired with the person's UIN inside the transaction that registers their death: what must stop with
# the registration (their digital ID) is connected here by the platform's wiring, not called by name.
death_registered: Hook[str] = Hook("registry.death_registered")

SNAPSHOT_FIELDS: tuple[str, ...] = PersonFacts.fields()

# Which transitions each action allows, from which states.
_ALLOWED: dict[str, tuple[str, ...]] = {
    "validate": (EventState.DECLARED, EventState.CORRECTED),
    "register": (EventState.VALIDATED,),
    "reject": (EventState.DECLARED, EventState.VALIDATED, EventState.CORRECTION_REQUESTED, EventState.CORRECTED),
    "request_correction": (EventState.DECLARED, EventState.VALIDATED, EventState.CORRECTED),
    "correct": (EventState.CORRECTION_REQUESTED,),
    "certify": (EventState.REGISTERED, EventState.CERTIFIED),
}
CERTIFIABLE = (EventKind.BIRTH, EventKind.MARRIAGE, EventKind.DEATH)
OPEN_STATES = (EventState.DECLARED, EventState.VALIDATED, EventState.CORRECTION_REQUESTED, EventState.CORRECTED)


def event_actions(event: LifeEvent) -> set[str]:
    """The actions the workflow allows on ``event`` in its current state (before role checks)."""
    return {action for action, states in _ALLOWED.items() if event.state in states}


def _today() -> date:
    return timezone.localdate()


def person_snapshot(person: Person) -> PersonFacts:
    """What ``person`` holds now, as the facts kept with every version."""
    facts: dict[str, Any] = {name: getattr(person, name) for name in PersonFacts.columns()}
    facts["mother_uin"] = person.mother.uin if person.mother is not None else None
    facts["father_uin"] = person.father.uin if person.father is not None else None
    return PersonFacts.model_validate(facts)


def _refresh_search_fields(person: Person) -> None:
    person.name_norm = rules.normalise_name(f"{person.given_names} {person.family_name}")
    person.family_key = rules.family_key(person.family_name)


def _save_version(
    person: Person,
    *,
    previous: PersonFacts | None,
    reason: str,
    author: str,
    effective: date,
    event: LifeEvent | None,
) -> PersonVersion:
    """Persist the person's new state and append it to the history."""
    now = timezone.now()
    _refresh_search_fields(person)
    snapshot = person_snapshot(person)
    changed = [k for k in SNAPSHOT_FIELDS if previous is None or getattr(previous, k) != getattr(snapshot, k)]
    if previous is not None:
        if not changed:
            raise DomainError("no_change", "This change would not alter the record.")
        person.version += 1
    person.updated_at = now
    person.save()
    return PersonVersion.objects.create(
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


def _person_for_update(uin: str, *, field: str) -> Person:
    uin = uin_check(uin, field=field)
    person = one_or_none(
        Person.objects.select_related("mother", "father").select_for_update(of=("self",)).filter(uin=uin)
    )
    if person is None:
        raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field=field)
    return person


def _transition(event: LifeEvent, *, to: str, actor: Principal, reason: str = "") -> None:
    EventTransition.objects.create(
        event=event, from_state=event.state, to_state=to, actor=actor.name, at=timezone.now(), reason=reason
    )
    event.state = to


def _event_for_action(event_id: int, action: str) -> LifeEvent:
    event = one_or_none(LifeEvent.objects.select_for_update().filter(pk=event_id))
    if event is None:
        raise NotFound("event_not_found", f"No declaration with id {event_id}.")
    if event.state not in _ALLOWED[action]:
        raise Conflict(
            "invalid_transition",
            f"A declaration that is {event.get_state_display().lower()} cannot be {action.replace('_', ' ')}ed.",
            extra={"state": event.state},
        )
    return event


# ---------------------------------------------------------------------------------------------
# Person assertions: who asked, as the identity provider proves it


ASSERTION_HEADER = "X-Gov21-Assertion"
# An assertion is meant to live a couple of minutes; one that claims a longer life was not made
# by the provider as configured, and a long-lived one would be as good as a password in a log.
ASSERTION_MAX_SECONDS = 300
ASSERTION_SKEW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class AssertedPerson:
    """Who the provider says asked: a citizen (``uin``) or a public servant (``staff``)."""

    subject: str
    kind: str
    uin: str
    acr: str

    @property
    def is_staff(self) -> bool:
        return self.kind == "staff"


def _assertion_refused(code: str, detail: str) -> DomainError:
    return DomainError(code, detail, status=403, title="Assertion refused", field=ASSERTION_HEADER)


@transaction.atomic
def assertion_accept(*, token: str, audience: str, purpose: str, client: str) -> AssertedPerson:
    """Check a person assertion strictly (signature against the provider's published keys, type,
    issuer, audience, purpose, the system acting, lifetime) and record its ``jti`` so that it is
    accepted once only."""
    try:
        claims = verify_compact(token, assertion_jwks(), typ=ASSERTION_TYP)
    except DomainError as error:
        if error.code == "credential_expired":
            raise _assertion_refused("assertion_expired", "The person's assertion has expired.") from None
        raise _assertion_refused(
            "assertion_invalid", f"The person's assertion is not one the identity provider signed: {error.detail}"
        ) from None
    now = timezone.now().timestamp()
    issued, expires, jti = claims.get("iat"), claims.get("exp"), claims.get("jti")
    if claims.get("iss") != assertion_issuer():
        raise _assertion_refused("assertion_invalid", "The person's assertion comes from another issuer.")
    if not isinstance(issued, int) or not isinstance(expires, int) or not isinstance(jti, str) or not jti:
        raise _assertion_refused("assertion_invalid", "The person's assertion lacks iat, exp or jti.")
    if expires - issued > ASSERTION_MAX_SECONDS or issued > now + ASSERTION_SKEW_SECONDS:
        raise _assertion_refused("assertion_invalid", "The person's assertion claims an impossible lifetime.")
    if claims.get("aud") != audience:
        raise _assertion_refused("assertion_wrong_audience", f"The person's assertion is not meant for {audience}.")
    if claims.get("purpose") != purpose:
        raise _assertion_refused(
            "assertion_wrong_purpose", f"The person's assertion allows {claims.get('purpose')!r}, not {purpose!r}."
        )
    act = claims.get("act")
    if not isinstance(act, dict) or act.get("sub") != client:
        raise _assertion_refused(
            "assertion_wrong_client", "The person's assertion was issued to another system acting for them."
        )
    subject, kind = claims.get("sub"), claims.get("kind")
    if not isinstance(subject, str) or kind not in ("citizen", "staff"):
        raise _assertion_refused("assertion_invalid", "The person's assertion does not say who the person is.")
    if kind == "citizen" and not (len(subject) == 10 and subject.isascii() and subject.isdigit()):
        raise _assertion_refused("assertion_invalid", "The person's assertion does not name a valid UIN.")
    if kind == "staff" and not subject.startswith("staff:"):
        raise _assertion_refused("assertion_invalid", "The person's assertion does not name a public servant.")
    if len(jti) > 64:
        raise _assertion_refused("assertion_invalid", "The person's assertion has an overlong jti.")
    moment = timezone.now()
    AssertionUse.objects.filter(expires_at__lt=moment - timedelta(seconds=ASSERTION_SKEW_SECONDS)).delete()
    _, created = AssertionUse.objects.get_or_create(
        jti=jti,
        defaults={
            "subject": subject[:160],
            "purpose": purpose[:40],
            "client": client[:150],
            "used_at": moment,
            "expires_at": moment + timedelta(seconds=max(0.0, expires - now)),
        },
    )
    if not created:
        raise _assertion_refused("assertion_reused", "The person's assertion has already been used.")
    return AssertedPerson(
        subject=subject, kind=str(kind), uin=subject if kind == "citizen" else "", acr=str(claims.get("acr", ""))
    )


# ---------------------------------------------------------------------------------------------
# Declarations: input is checked here (check_*), then stored.


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


def _date(value: Any, *, field: str) -> date:
    """A corrected date of birth, as typed."""
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError as exc:
        raise DomainError("invalid_date", "Give the date as YYYY-MM-DD.", field=field) from exc


def _check_date(value: date, *, field: str, today: date) -> None:
    rules.check_not_before_records(value=value, field=field)
    rules.check_not_future(value=value, today=today, field=field)


def _check_birth(facts: BirthFacts) -> None:
    min_age = settings.GOV21_MIN_PARENT_AGE
    for role, uin in (("mother", facts.mother_uin), ("father", facts.father_uin)):
        if uin is None:
            continue
        parent = one_or_none(Person.objects.filter(uin=uin).only("birth_date", "sex", "death_date"))
        if parent is None:
            raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field=f"{role}_uin")
        rules.check_parent(
            role=role,
            parent_birth=parent.birth_date,
            parent_sex=parent.sex,
            parent_death=parent.death_date,
            child_birth=facts.birth_date,
            min_age=min_age,
        )


def _check_death(facts: DeathFacts) -> None:
    person = one_or_none(Person.objects.filter(uin=facts.uin).only("birth_date", "status"))
    if person is None:
        raise NotFound("person_not_found", f"No person with UIN {facts.uin} is registered.", field="uin")
    rules.check_death(birth_date=person.birth_date, status=person.status, death_date=facts.death_date)


def _open_union(person_id: int) -> Union | None:
    return (
        Union.objects.filter(Q(partner_a_id=person_id) | Q(partner_b_id=person_id), dissolved_on__isnull=True)
        .order_by("-married_on")
        .first()
    )


def _check_marriage(facts: MarriageFacts) -> None:
    if facts.partner_a_uin == facts.partner_b_uin:
        raise DomainError("same_person", "The two parties must be different people.", field="partner_b_uin")
    for field, uin in (("partner_a_uin", facts.partner_a_uin), ("partner_b_uin", facts.partner_b_uin)):
        person = one_or_none(Person.objects.filter(uin=uin))
        if person is None:
            raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field=field)
        rules.check_marriage_party(
            field=field,
            birth_date=person.birth_date,
            status=person.status,
            death_date=person.death_date,
            married=_open_union(person.pk) is not None,
            on=facts.date,
            min_age=settings.GOV21_MARRIAGE_AGE,
        )


def _check_divorce(facts: DivorceFacts) -> None:
    union = _union_between(facts.partner_a_uin, facts.partner_b_uin)
    if union is None:
        raise Conflict("not_married", "These two people are not married to each other.", field="partner_b_uin")
    if facts.date < union.married_on:
        raise DomainError("divorce_before_marriage", "The divorce date is before the marriage.", field="date")


def _union_between(a: str, b: str) -> Union | None:
    return (
        Union.objects.filter(dissolved_on__isnull=True)
        .filter(
            Q(partner_a__uin=a, partner_b__uin=b) | Q(partner_a__uin=b, partner_b__uin=a),
        )
        .first()
    )


def _check_living(uin: str) -> None:
    person = one_or_none(Person.objects.filter(uin=uin).only("status"))
    if person is None:
        raise NotFound("person_not_found", f"No person with UIN {uin} is registered.", field="uin")
    if person.status == PersonStatus.DECEASED:
        raise Conflict("already_deceased", "This person is recorded as deceased.", field="uin")


def _check_name_change(facts: NameChangeFacts) -> None:
    _check_living(facts.uin)
    if not facts.given_names and not facts.family_name:
        raise DomainError("required", "Give a new given name or family name.", field="family_name")


def _check_address_change(facts: AddressChangeFacts) -> None:
    _check_living(facts.uin)


def check_declaration(facts: Declaration) -> None:
    """Check a declaration against the registry's rules and records; a ``DomainError`` if it breaks one."""
    for field, uin in facts.uins().items():
        uin_check(uin, field=field)
    _check_date(facts.event_date(), field=facts.EVENT_DATE, today=_today())
    if isinstance(facts, BirthFacts):
        _check_birth(facts)
    elif isinstance(facts, DeathFacts):
        _check_death(facts)
    elif isinstance(facts, MarriageFacts):
        _check_marriage(facts)
    elif isinstance(facts, DivorceFacts):
        _check_divorce(facts)
    elif isinstance(facts, NameChangeFacts):
        _check_name_change(facts)
    elif isinstance(facts, AddressChangeFacts):
        _check_address_change(facts)


def _declaration_checked(facts: Declaration) -> tuple[dict[str, Any], date]:
    """Check ``facts``; return them as they are kept with the event, and the event's date."""
    check_declaration(facts)
    return facts.model_dump(mode="json"), facts.event_date()


def _subject_uin(kind: str, facts: dict[str, Any]) -> str | None:
    if kind == EventKind.BIRTH:
        return None
    return str(facts.get("uin") or facts.get("partner_a_uin"))


@transaction.atomic
def event_declare(*, declaration: Declaration, actor: Principal, declarant_uin: str = "") -> LifeEvent:
    """Record a declaration. ``declarant_uin`` is the person who declared through an agency's
    system, when the identity provider's assertion proved it (see :func:`assertion_accept`)."""
    actor.require("event.declare")
    kind = declaration.KIND
    facts, event_date = _declaration_checked(declaration)
    subject_uin = _subject_uin(kind, facts)
    subject = one_or_none(Person.objects.filter(uin=subject_uin)) if subject_uin else None
    partner = one_or_none(Person.objects.filter(uin=facts["partner_b_uin"])) if "partner_b_uin" in facts else None
    now = timezone.now()
    event = LifeEvent(
        kind=kind,
        state=EventState.DECLARED,
        event_date=event_date,
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
            event_date=event_date,
            registered_on=timezone.localdate(now),
            target_days=settings.GOV21_REGISTRATION_TARGET_DAYS,
            late_days=settings.GOV21_REGISTRATION_LATE_DAYS,
        )
    event.save()
    EventTransition.objects.create(event=event, from_state="", to_state=EventState.DECLARED, actor=actor.name, at=now)
    if kind == EventKind.BIRTH:
        _flag_duplicates(event)
    access_record(
        actor=actor.name,
        actor_kind=actor.kind,
        action=f"declare.{kind}",
        subject=subject_uin or "",
        purpose="civil registration",
        detail={"event": event.pk},
    )
    return event


def _flag_duplicates(event: LifeEvent) -> None:
    """Flag births that may already be known: the same mother within 9 months (twins are flagged too
    and resolved by the registrar), or a similar name with a close date of birth."""
    facts = event.data
    birth = date.fromisoformat(facts["birth_date"])
    given = rules.normalise_name(facts["given_names"])
    found: list[DuplicateCandidate] = []
    mother = one_or_none(Person.objects.filter(uin=facts["mother_uin"]).only("id")) if facts["mother_uin"] else None
    window = timedelta(days=270)
    if mother is not None:
        for sibling in Person.objects.filter(
            mother=mother, birth_date__gte=birth - window, birth_date__lte=birth + window
        ).only("uin", "given_names", "birth_date"):
            found.append(
                DuplicateCandidate(
                    event=event,
                    person=sibling,
                    score=fuzz.ratio(given, rules.normalise_name(sibling.given_names)) / 100,
                    reason=f"Same mother; {sibling.given_names} born {sibling.birth_date.isoformat()}",
                )
            )
    pending = (
        # Only undecided declarations: registered births are persons, checked above. Filtering on the
        # (indexed) state first keeps this from scanning every birth ever registered.
        LifeEvent.objects.filter(mother_uin=facts["mother_uin"], kind=EventKind.BIRTH, state__in=OPEN_STATES)
        .exclude(pk=event.pk)
        .filter(event_date__gte=birth - window, event_date__lte=birth + window)
        if mother is not None
        else LifeEvent.objects.none()
    )
    for other in pending:
        found.append(
            DuplicateCandidate(
                event=event,
                other_event=other,
                score=fuzz.ratio(given, rules.normalise_name(other.data["given_names"])) / 100,
                reason=f"Another declaration for the same mother ({other.data['given_names']}, {other.event_date})",
            )
        )
    known = {c.person_id for c in found}
    key = rules.family_key(facts["family_name"])
    near = Person.objects.filter(
        family_key=key, birth_date__gte=birth - timedelta(days=3), birth_date__lte=birth + timedelta(days=3)
    ).only("id", "uin", "given_names", "family_name", "birth_date")
    for person in near:
        score = fuzz.token_sort_ratio(given, rules.normalise_name(person.given_names))
        if score >= 85 and person.pk not in known:
            found.append(
                DuplicateCandidate(
                    event=event,
                    person=person,
                    score=score / 100,
                    reason=f"Similar name and date of birth: {person.given_names} {person.family_name}, "
                    f"{person.birth_date.isoformat()}",
                )
            )
    if found:
        DuplicateCandidate.objects.bulk_create(found)
        event.has_open_duplicates = True
        event.save(update_fields=["has_open_duplicates"])


@transaction.atomic
def duplicate_resolve(*, candidate_id: int, resolution: str, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    if resolution not in {"distinct", "duplicate"}:
        raise DomainError("invalid_resolution", "Resolve as 'distinct' or 'duplicate'.", field="resolution")
    candidate = one_or_none(DuplicateCandidate.objects.select_for_update().filter(pk=candidate_id))
    if candidate is None:
        raise NotFound("duplicate_not_found", f"No possible duplicate with id {candidate_id}.")
    if candidate.resolution:
        raise Conflict("already_resolved", "This possible duplicate has already been resolved.")
    candidate.resolution = resolution
    candidate.resolved_by = actor.name
    candidate.resolved_at = timezone.now()
    candidate.save()
    event = LifeEvent.objects.select_for_update().get(pk=candidate.event_id)
    if resolution == "duplicate" and event.state not in (EventState.REJECTED, EventState.REGISTERED):
        _transition(event, to=EventState.REJECTED, actor=actor, reason=f"Duplicate: {candidate.reason}")
        event.rejection_reason = f"Duplicate of an existing record ({candidate.reason})"
    event.has_open_duplicates = event.duplicates.filter(resolution="").exists()
    event.save()
    return event


@transaction.atomic
def event_validate(*, event_id: int, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    event = _event_for_action(event_id, "validate")
    # The facts are checked again: the registry may have changed since the declaration.
    event.data, event.event_date = _declaration_checked(declaration_parse(kind=event.kind, data=event.data))
    _transition(event, to=EventState.VALIDATED, actor=actor)
    event.save()
    return event


@transaction.atomic
def event_reject(*, event_id: int, reason: str, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    if not reason.strip():
        raise DomainError("required", "Give the reason for rejecting, for the declarant.", field="reason")
    event = _event_for_action(event_id, "reject")
    _transition(event, to=EventState.REJECTED, actor=actor, reason=reason.strip()[:500])
    event.rejection_reason = reason.strip()[:500]
    event.save()
    return event


@transaction.atomic
def event_request_correction(*, event_id: int, note: str, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    if not note.strip():
        raise DomainError("required", "Say what needs correcting.", field="note")
    event = _event_for_action(event_id, "request_correction")
    _transition(event, to=EventState.CORRECTION_REQUESTED, actor=actor, reason=note.strip()[:500])
    event.correction_note = note.strip()[:500]
    event.save()
    return event


@transaction.atomic
def event_correct(*, event_id: int, data: dict[str, Any], actor: Principal) -> LifeEvent:
    actor.require("event.declare")
    event = _event_for_action(event_id, "correct")
    merged = declaration_parse(kind=event.kind, data={**event.data, **data})
    event.data, event.event_date = _declaration_checked(merged)
    if event.kind == EventKind.BIRTH:
        event.mother_uin = event.data.get("mother_uin") or ""
    _transition(event, to=EventState.CORRECTED, actor=actor, reason="Declaration corrected")
    event.save()
    if event.kind == EventKind.BIRTH:
        event.duplicates.filter(resolution="").update(resolution="superseded", resolved_at=timezone.now())
        event.has_open_duplicates = False
        _flag_duplicates(event)
    return event


def _next_number(kind: str, year: int) -> str:
    RegistrationCounter.objects.bulk_create([RegistrationCounter(kind=kind, year=year, last=0)], ignore_conflicts=True)
    counter = RegistrationCounter.objects.select_for_update().get(kind=kind, year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return rules.registration_number(kind=kind, year=year, sequence=counter.last)


@transaction.atomic
def event_register(*, event_id: int, actor: Principal) -> LifeEvent:
    actor.require("event.decide")
    event = _event_for_action(event_id, "register")
    if event.has_open_duplicates:
        raise Conflict(
            "unresolved_duplicates",
            "This declaration may duplicate an existing record; resolve the possible duplicates first.",
        )
    event.data, event.event_date = _declaration_checked(declaration_parse(kind=event.kind, data=event.data))
    now = timezone.now()
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
    _APPLY[EventKind(event.kind)](event, actor)
    _transition(event, to=EventState.REGISTERED, actor=actor)
    event.save()
    _publish_registered(event)
    access_record(
        actor=actor.name,
        actor_kind=actor.kind,
        action=f"register.{event.kind}",
        subject=event.subject.uin if event.subject else "",
        purpose="civil registration",
        detail={"event": event.pk, "number": event.number},
    )
    return event


# What the registry tells subscribed agencies through the exchange, per kind of registration.
_PUBLISHED: dict[str, str] = {
    EventKind.BIRTH: "birth.registered",
    EventKind.DEATH: "death.registered",
    EventKind.MARRIAGE: "marriage.registered",
    EventKind.NAME_CHANGE: "name.changed",
    EventKind.ADDRESS_CHANGE: "address.changed",
}


def _publish_registered(event: LifeEvent) -> None:
    """Publish the registration in the registering transaction (an outbox: both commit or neither). Only the
    number, the persons' UINs and the date: a subscriber that needs more asks the persons service,
    where the read is recorded for the citizen."""
    event_type = _PUBLISHED.get(event.kind)
    if event_type is None or event.number is None:
        return
    # The declaration's id lets the system that declared it (the services portal) match the outcome.
    payload: dict[str, Any] = {
        "number": event.number,
        "date": event.event_date.isoformat(),
        "declaration": event.pk,
    }
    if event.kind == EventKind.MARRIAGE:
        payload["uins"] = [p.uin for p in (event.subject, event.partner) if p is not None]
    else:
        payload["uin"] = event.subject.uin if event.subject is not None else None
    try:
        event_publish(
            publisher=agency_client("CRO", "civil-registry"),
            event_type=event_type,
            payload=payload,
            idempotency_key=f"{event.number}:{event_type}",
        )
    except NotFound as error:
        if error.code != "unknown_event_type":
            raise
        # The exchange of this deployment is not set up: the registry works without it.
        logger.warning("event type %s is not registered; %s not published", event_type, event.number)


def _apply_birth(event: LifeEvent, actor: Principal) -> None:
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
    _save_version(
        person, previous=None, reason="Birth registered", author=actor.name, effective=birth_date, event=event
    )
    event.subject = person


# How each registered event changes a person's facts. These are pure, so that the bulk loader of
# the demo nation replays a life exactly as registering its events one by one would.


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


def _record_change(
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
    _save_version(person, previous=before, reason=reason, author=actor.name, effective=effective, event=event)


def _apply_death(event: LifeEvent, actor: Principal) -> None:
    person = _person_for_update(event.data["uin"], field="uin")
    death_date = date.fromisoformat(event.data["death_date"])
    _record_change(
        person,
        partial(facts_deceased, death_date=death_date),
        reason="Death registered",
        actor=actor,
        effective=death_date,
        event=event,
    )
    death_registered.fire(person.uin)  # same transaction: the digital ID stops with the registration
    union = _open_union(person.pk)
    if union is not None:
        union.dissolved_on = death_date
        union.dissolution = "death"
        union.save()
        partner_id = union.partner_b_id if union.partner_a_id == person.pk else union.partner_a_id
        partner = Person.objects.select_related("mother", "father").select_for_update(of=("self",)).get(pk=partner_id)
        _record_change(partner, facts_widowed, reason="Spouse died", actor=actor, effective=death_date, event=event)
    event.subject = person


def _apply_marriage(event: LifeEvent, actor: Principal) -> None:
    facts = event.data
    on = date.fromisoformat(facts["date"])
    a = _person_for_update(facts["partner_a_uin"], field="partner_a_uin")
    b = _person_for_update(facts["partner_b_uin"], field="partner_b_uin")
    Union.objects.create(partner_a=a, partner_b=b, married_on=on, marriage_event=event)
    for person, key in ((a, "partner_a_new_family_name"), (b, "partner_b_new_family_name")):
        _record_change(
            person,
            partial(facts_married, new_family_name=facts.get(key) or ""),
            reason="Marriage registered",
            actor=actor,
            effective=on,
            event=event,
        )
    event.subject, event.partner = a, b


def _apply_divorce(event: LifeEvent, actor: Principal) -> None:
    facts = event.data
    on = date.fromisoformat(facts["date"])
    union = _union_between(facts["partner_a_uin"], facts["partner_b_uin"])
    if union is None:
        raise Conflict("not_married", "These two people are not married to each other.", field="partner_b_uin")
    union.dissolved_on = on
    union.dissolution = "divorce"
    union.divorce_event = event
    union.save()
    a = _person_for_update(facts["partner_a_uin"], field="partner_a_uin")
    b = _person_for_update(facts["partner_b_uin"], field="partner_b_uin")
    for person, key in ((a, "partner_a_new_family_name"), (b, "partner_b_new_family_name")):
        _record_change(
            person,
            partial(facts_divorced, new_family_name=facts.get(key) or ""),
            reason="Divorce registered",
            actor=actor,
            effective=on,
            event=event,
        )
    event.subject, event.partner = a, b


def _apply_name_change(event: LifeEvent, actor: Principal) -> None:
    facts = event.data
    person = _person_for_update(facts["uin"], field="uin")
    _record_change(
        person,
        partial(facts_renamed, family_name=facts.get("family_name") or "", given_names=facts.get("given_names") or ""),
        reason=f"Change of name: {facts['reason']}",
        actor=actor,
        effective=date.fromisoformat(facts["date"]),
        event=event,
    )
    event.subject = person


def _apply_address_change(event: LifeEvent, actor: Principal) -> None:
    facts = event.data
    person = _person_for_update(facts["uin"], field="uin")
    on = date.fromisoformat(facts["date"])
    moved = partial(facts_moved, parish=facts["parish"], settlement=facts["settlement"], line=facts["line"], since=on)
    _record_change(person, moved, reason="Change of address", actor=actor, effective=on, event=event)
    event.subject = person


_APPLY = {
    EventKind.BIRTH: _apply_birth,
    EventKind.DEATH: _apply_death,
    EventKind.MARRIAGE: _apply_marriage,
    EventKind.DIVORCE: _apply_divorce,
    EventKind.NAME_CHANGE: _apply_name_change,
    EventKind.ADDRESS_CHANGE: _apply_address_change,
}

CORRECTABLE_FIELDS = frozenset(
    {"given_names", "family_name", "sex", "birth_date", "birth_parish", "birth_settlement", "citizenship"}
)


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
    person = _person_for_update(uin, field="uin")
    before = person_snapshot(person)
    for key, value in changes.items():
        if key == "birth_date":
            value = _date(value, field="birth_date")
            _check_date(value, field="birth_date", today=_today())
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
    version = _save_version(
        person,
        previous=before,
        reason=f"Correction: {reason.strip()[:480]}",
        author=actor.name,
        effective=_today(),
        event=None,
    )
    access_record(
        actor=actor.name, actor_kind=actor.kind, action="person.correct", subject=person.uin, purpose=reason.strip()
    )
    return version


# ---------------------------------------------------------------------------------------------
# Certificates


@dataclass(frozen=True, slots=True)
class CertificateFacts:
    title: str
    facts: list[tuple[str, str]]
    claims: dict[str, Any]


def certificate_facts(event: LifeEvent) -> CertificateFacts:
    d = event.data
    if event.kind == EventKind.BIRTH:
        child = event.subject
        assert child is not None
        mother = child.mother
        father = child.father
        facts = [
            ("Name", f"{child.given_names} {child.family_name}"),
            ("UIN", child.uin),
            ("Sex", child.get_sex_display()),
            ("Date of birth", child.birth_date.isoformat()),
            ("Place of birth", ", ".join(p for p in (child.birth_settlement, child.birth_parish) if p)),
            ("Mother", f"{mother.given_names} {mother.family_name}" if mother else "—"),
            ("Father", f"{father.given_names} {father.family_name}" if father else "—"),
        ]
        claims = {
            "n": f"{child.given_names} {child.family_name}",
            "uin": child.uin,
            "sx": child.sex,
            "dob": child.birth_date.isoformat(),
            "pob": child.birth_parish,
            "mo": f"{mother.given_names} {mother.family_name}" if mother else None,
            "fa": f"{father.given_names} {father.family_name}" if father else None,
        }
        return CertificateFacts("Certificate of Birth", facts, claims)
    if event.kind == EventKind.DEATH:
        person = event.subject
        assert person is not None
        facts = [
            ("Name", f"{person.given_names} {person.family_name}"),
            ("UIN", person.uin),
            ("Date of birth", person.birth_date.isoformat()),
            ("Date of death", d["death_date"]),
            ("Place of death", d.get("place_parish") or "—"),
        ]
        claims = {
            "n": f"{person.given_names} {person.family_name}",
            "uin": person.uin,
            "dob": person.birth_date.isoformat(),
            "dod": d["death_date"],
        }
        return CertificateFacts("Certificate of Death", facts, claims)
    a = event.subject
    b = event.partner
    assert a is not None and b is not None
    names = [f"{a.given_names} {a.family_name}", f"{b.given_names} {b.family_name}"]
    facts = [
        ("Party", f"{names[0]} ({a.uin})"),
        ("Party", f"{names[1]} ({b.uin})"),
        ("Date of marriage", d["date"]),
        ("Parish", d.get("parish") or "—"),
    ]
    claims = {"p1": names[0], "u1": a.uin, "p2": names[1], "u2": b.uin, "dom": d["date"], "par": d.get("parish")}
    return CertificateFacts("Certificate of Marriage", facts, claims)


@transaction.atomic
def certificate_issue(*, event_id: int, actor: Principal, supersede: bool = True) -> Certificate:
    """Sign a new certificate of a registration. A registrar's issue (``supersede``, the default)
    replaces the certificates in circulation, as after a correction; a certified copy ordered
    through the exchange (``supersede=False``) is one more valid certificate beside them, because
    the holder of the earlier one did nothing to lose it."""
    actor.require("certificate.issue")
    event = _event_for_action(event_id, "certify")
    if event.kind not in CERTIFIABLE:
        raise DomainError(
            "not_certifiable", "Certificates are issued for births, marriages and deaths.", status=409, field="kind"
        )
    event = LifeEvent.objects.select_related("subject__mother", "subject__father", "partner").get(pk=event.pk)
    content = certificate_facts(event)
    now = timezone.now()
    serial = f"{rules.REGISTRATION_PREFIX[event.kind]}C-{now:%Y}-{secrets.token_hex(5).upper()}"
    claims = {
        "iss": f"{settings.GOV21_INSTANCE}/registry",
        "ct": event.kind,
        "sn": serial,
        "no": event.number,
        "iat": int(now.timestamp()),
        **{k: v for k, v in content.claims.items() if v is not None},
    }
    credential = registry_keys().sign(claims)
    previous = (
        list(Certificate.objects.select_for_update().filter(event=event, status=CertificateStatus.VALID))
        if supersede
        else []
    )
    certificate = Certificate.objects.create(
        serial=serial,
        event=event,
        kind=event.kind,
        issued_at=now,
        issued_by=actor.name,
        facts=[list(f) for f in content.facts],
        credential=credential,
    )
    for old in previous:
        old.status = CertificateStatus.SUPERSEDED
        old.status_reason = f"Replaced by {serial}"
        old.superseded_by = certificate
        old.save()
    if event.state != EventState.CERTIFIED:
        _transition(event, to=EventState.CERTIFIED, actor=actor, reason=f"Certificate {serial} issued")
        event.save()
    access_record(
        actor=actor.name,
        actor_kind=actor.kind,
        action="certificate.issue",
        subject=event.subject.uin if event.subject else "",
        purpose="certificate issued",
        detail={"serial": serial, "event": event.number},
    )
    return certificate


@transaction.atomic
def certificate_revoke(*, serial: str, reason: str, actor: Principal) -> Certificate:
    actor.require("certificate.issue")
    if not reason.strip():
        raise DomainError("required", "Give the reason for revoking.", field="reason")
    certificate = one_or_none(Certificate.objects.select_for_update().filter(serial=serial))
    if certificate is None:
        raise NotFound("certificate_not_found", f"No certificate with serial {serial}.")
    if certificate.status != CertificateStatus.VALID:
        raise Conflict("certificate_not_valid", f"This certificate is already {certificate.status}.")
    certificate.status = CertificateStatus.REVOKED
    certificate.status_reason = reason.strip()[:300]
    certificate.save()
    return certificate


def register_birth(*, birth: BirthFacts, actor: Principal) -> LifeEvent:
    """Declare, validate and register a birth in one go (for trusted intake such as a hospital)."""
    event = event_declare(declaration=birth, actor=actor)
    event = event_validate(event_id=event.pk, actor=actor)
    return event_register(event_id=event.pk, actor=actor)
