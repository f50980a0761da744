"""Recording access to personal data. Call inside the transaction of the change it records.

The access log is a hash chain with signed tree heads (``gov21.core.chain``): each record is one
append under the log's locked head row, and every ``SEAL_EVERY`` records a head is signed."""

from __future__ import annotations

from datetime import datetime
from typing import TypedDict

from django.utils import timezone
from pydantic import JsonValue

from gov21.audit import chain
from gov21.audit.models import AccessRecord
from gov21.core import chain as core

ACCESS_CHAIN = chain.CHAIN


class AccessSeen(TypedDict):
    """One access to a person's data, as shown to that person: when, who, what and why."""

    at: datetime
    actor: str
    actor_kind: str
    action: str
    purpose: str


def access_record(
    *, actor: str, actor_kind: str, action: str, subject: str, purpose: str, detail: dict[str, JsonValue] | None = None
) -> None:
    core.append(
        chain.KIND,
        chain.CHAIN,
        {
            "at": timezone.now(),
            "actor": actor[:150],
            "actor_kind": actor_kind[:16],
            "action": action[:40],
            "subject": subject[:40],
            "purpose": purpose[:300],
            "detail": detail or {},
        },
        signer=chain.sign,
    )


def access_records_for(*, subject: str, limit: int = 100) -> list[AccessSeen]:
    rows = AccessRecord.objects.filter(subject=subject).order_by("-at")[:limit]
    return [
        AccessSeen(at=r.at, actor=r.actor, actor_kind=r.actor_kind, action=r.action, purpose=r.purpose) for r in rows
    ]


def access_log_exists() -> bool:
    return chain.KIND.heads._default_manager.filter(chain=chain.CHAIN).exists()


def access_log_verify() -> core.VerifyReport:
    """Walk the access log: every record, link, signed head, countersignature and anchor."""
    return core.verify(chain.KIND, chain.CHAIN, chain.verify_signature)


def access_log_seal() -> core.TreeHeadBase | None:
    return core.seal(chain.KIND, chain.CHAIN, chain.sign)


def access_log_anchor() -> int:
    return core.anchor(chain.KIND, chain.CHAIN)
