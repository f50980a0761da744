"""Possible duplicates of a declared birth: flagged when it is declared or corrected, resolved by a registrar."""

from __future__ import annotations

from datetime import date, timedelta

import orjson
from django.db import connection, transaction
from django.utils import timezone
from rapidfuzz import fuzz

from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry import rules
from gov21.registry.models import DuplicateCandidate, EventKind, EventState, LifeEvent, Person
from gov21.registry.services.events import OPEN_STATES, event_transition

# The three reads of every declared birth, written by hand: compiling them through the ORM cost more
# CPU than running them (a quarter of a registration's, profiled), and they never change shape.
_PERSON = Person._meta.db_table
_SIBLINGS_SQL = (
    f"SELECT id, given_names, birth_date FROM {_PERSON} "  # noqa: S608
    "WHERE mother_id = %s AND birth_date >= %s AND birth_date <= %s"
)
_PENDING_SQL = (
    f"SELECT id, data, event_date FROM {LifeEvent._meta.db_table} "  # noqa: S608
    f"WHERE mother_uin = %s AND kind = %s AND state IN ({', '.join(['%s'] * len(OPEN_STATES))}) "
    "AND id <> %s AND event_date >= %s AND event_date <= %s"
)
_NEAR_SQL = (
    f"SELECT id, given_names, family_name, birth_date FROM {_PERSON} "  # noqa: S608
    "WHERE family_key = %s AND birth_date >= %s AND birth_date <= %s"
)


def _day(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def duplicates_find(event: LifeEvent, *, mother: Person | None) -> list[DuplicateCandidate]:
    """Births that may already be known, as unsaved candidates of ``event`` (which may itself be
    unsaved): the same mother within 9 months (twins are found too and resolved by the registrar),
    or a similar name with a close date of birth. ``mother`` is the declared mother, as the checks read her."""
    facts = event.data
    birth = date.fromisoformat(facts["birth_date"])
    given = rules.normalise_name(facts["given_names"])
    found: list[DuplicateCandidate] = []
    window = timedelta(days=270)
    start, end = (birth - window).isoformat(), (birth + window).isoformat()
    with connection.cursor() as cursor:
        if mother is not None:
            cursor.execute(_SIBLINGS_SQL, [mother.pk, start, end])
            for sibling_id, sibling_given, sibling_born in cursor.fetchall():
                found.append(
                    DuplicateCandidate(
                        event=event,
                        person_id=sibling_id,
                        score=fuzz.ratio(given, rules.normalise_name(sibling_given)) / 100,
                        reason=f"Same mother; {sibling_given} born {_day(sibling_born).isoformat()}",
                    )
                )
            # Only undecided declarations: registered births are persons, checked above. The
            # (indexed) mother's UIN and state keep this from scanning every birth ever registered.
            cursor.execute(_PENDING_SQL, [mother.uin, EventKind.BIRTH, *OPEN_STATES, event.pk or 0, start, end])
            for other_id, data, other_date in cursor.fetchall():
                other_given = (orjson.loads(data) if isinstance(data, str | bytes) else data)["given_names"]
                found.append(
                    DuplicateCandidate(
                        event=event,
                        other_event_id=other_id,
                        score=fuzz.ratio(given, rules.normalise_name(other_given)) / 100,
                        reason=f"Another declaration for the same mother ({other_given}, {_day(other_date)})",
                    )
                )
        known = {c.person_id for c in found}
        cursor.execute(
            _NEAR_SQL,
            [
                rules.family_key(facts["family_name"]),
                (birth - timedelta(days=3)).isoformat(),
                (birth + timedelta(days=3)).isoformat(),
            ],
        )
        near = cursor.fetchall()
    for person_id, person_given, person_family, person_born in near:
        score = fuzz.token_sort_ratio(given, rules.normalise_name(person_given))
        if score >= 85 and person_id not in known:
            found.append(
                DuplicateCandidate(
                    event=event,
                    person_id=person_id,
                    score=score / 100,
                    reason=f"Similar name and date of birth: {person_given} {person_family}, "
                    f"{_day(person_born).isoformat()}",
                )
            )
    return found


def duplicates_flag(event: LifeEvent, *, mother: Person | None) -> None:
    """Flag the possible duplicates of a saved birth declaration (see :func:`duplicates_find`)."""
    found = duplicates_find(event, mother=mother)
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
        event_transition(event, to=EventState.REJECTED, actor=actor, reason=f"Duplicate: {candidate.reason}")
        event.rejection_reason = f"Duplicate of an existing record ({candidate.reason})"
    event.has_open_duplicates = event.duplicates.filter(resolution="").exists()
    event.save()
    return event
