"""What every life event shares: the workflow's states and the actions each allows, the transition
written with its author, and the date checks every declaration and correction passes."""

from __future__ import annotations

from datetime import date

from django.utils import timezone

from gov21.core.errors import Conflict, NotFound
from gov21.core.principal import Principal
from gov21.core.queries import one_or_none
from gov21.registry import rules
from gov21.registry.models import EventKind, EventState, EventTransition, LifeEvent

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


def local_today() -> date:
    """Today in the instance's time zone: the day the registry records."""
    return timezone.localdate()


def date_check(value: date, *, field: str, today: date) -> None:
    """A ``DomainError`` on ``field`` if ``value`` is before the registry's records began or after ``today``."""
    rules.check_not_before_records(value=value, field=field)
    rules.check_not_future(value=value, today=today, field=field)


def event_transition(event: LifeEvent, *, to: str, actor: Principal, reason: str = "") -> None:
    """Move ``event`` to state ``to`` and record the transition with its author (the caller saves ``event``)."""
    EventTransition.objects.create(
        event=event, from_state=event.state, to_state=to, actor=actor.name, at=timezone.now(), reason=reason
    )
    event.state = to


def event_for_action(event_id: int, action: str) -> LifeEvent:
    """The event, locked for update, if its state allows ``action``; otherwise a ``NotFound`` or ``Conflict``."""
    event = one_or_none(LifeEvent.objects.select_for_update().filter(pk=event_id))
    if event is None:
        raise NotFound("event_not_found", f"No declaration with id {event_id}.")
    if event.state not in _ALLOWED[action]:
        raise Conflict(
            "invalid_transition",
            f"A declaration that is {event.state.replace('_', ' ')} cannot be {action.replace('_', ' ')}ed.",
            extra={"state": event.state},
        )
    return event
