"""The one-stop shop's application events for the statistics office, published through the
exchange by the service engine in the caller's transaction: the service, its agency, the day and,
once decided, the outcome, whether the engine decided it alone and how long it took against the
target. Never the applicant nor the application's reference."""

from __future__ import annotations

import logging
from datetime import datetime

from django.utils import timezone

from gov21.core.errors import NotFound
from gov21.exchange.contracts import agency_client, event_publish
from gov21.onestop.models import Application

logger = logging.getLogger("gov21.onestop.published")

DECIDED = (Application.State.APPROVED, Application.State.REFUSED)


def application_event(application: Application, *, to: str, actor_kind: str, at: datetime) -> None:
    """Publish ``application.submitted`` or ``application.decided`` for a move of ``application``
    to state ``to`` at ``at``; nothing for any other move."""
    if to == Application.State.SUBMITTED:
        event_type = "application.submitted"
    elif to in DECIDED:
        event_type = "application.decided"
    else:
        return
    payload: dict[str, object] = {
        "service": application.service.code,
        "agency": application.agency,
        "date": timezone.localdate(at).isoformat(),
    }
    if event_type == "application.decided":
        submitted = application.submitted_at or at
        due = application.due_at
        payload |= {
            "decision": str(to),
            "automatic": actor_kind == "system",
            "hours": round((at - submitted).total_seconds() / 3600, 3),
            "target_hours": round((due - submitted).total_seconds() / 3600, 3) if due else None,
            "within_target": due is None or at <= due,
        }
    try:
        event_publish(
            publisher=agency_client("PORTAL", "services"),
            event_type=event_type,
            payload=payload,
            idempotency_key=f"{application.reference}:{to}:{at.isoformat()}",
        )
    except NotFound as error:
        if error.code != "unknown_event_type":
            raise
        # The exchange of this deployment is not set up: the shop works without it.
        logger.warning("event type %s is not registered; not published", event_type)
