"""The access log's reads: a person's records, and the verification of the whole chain."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from gov21.audit import chain
from gov21.audit.actions import access_action_label
from gov21.audit.models import AccessRecord
from gov21.core import chain as core


class AccessSeen(TypedDict):
    """One access to a person's data, as shown to that person: when, who, what and why."""

    at: datetime
    actor: str
    actor_kind: str
    action: str
    action_label: str
    purpose: str


def access_records_for(*, subject: str, limit: int = 100) -> list[AccessSeen]:
    rows = AccessRecord.objects.filter(subject=subject).order_by("-at")[:limit]
    return [
        AccessSeen(
            at=r.at,
            actor=r.actor,
            actor_kind=r.actor_kind,
            action=r.action,
            action_label=access_action_label(r.action),
            purpose=r.purpose,
        )
        for r in rows
    ]


def access_log_exists() -> bool:
    return chain.KIND.heads._default_manager.filter(chain=chain.CHAIN).exists()


def access_log_verify() -> core.VerifyReport:
    """Walk the access log: every record, link, signed head, countersignature and anchor."""
    return core.verify(chain.KIND, chain.CHAIN, chain.verify_signature)
