"""Possible duplicates of a declared birth: flagged when it is declared or corrected, resolved by a registrar."""

from __future__ import annotations

from datetime import date, timedelta

from django.db import transaction
from django.utils import timezone
from rapidfuzz import fuzz

from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry import rules
from gov21.registry.models import DuplicateCandidate, EventKind, EventState, LifeEvent, Person
from gov21.registry.services.events import OPEN_STATES, event_transition


def duplicates_find(event: LifeEvent, *, mother: Person | None) -> list[DuplicateCandidate]:
    """Births that may already be known, as unsaved candidates of ``event`` (which may itself be
    unsaved): the same mother within 9 months (twins are found too and resolved by the registrar),
    or a similar name with a close date of birth. ``mother`` is the declared mother, as the checks read her."""
    facts = event.data
    birth = date.fromisoformat(facts["birth_date"])
    given = rules.normalise_name(facts["given_names"])
    found: list[DuplicateCandidate] = []
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
        LifeEvent.objects.filter(mother_uin=mother.uin, kind=EventKind.BIRTH, state__in=OPEN_STATES)
        .exclude(pk=event.pk or 0)
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
