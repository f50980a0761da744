"""Recording access to personal data. Call inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.utils import timezone

from gov21.audit.models import AccessRecord


def access_record(
    *, actor: str, actor_kind: str, action: str, subject: str, purpose: str, detail: dict[str, Any] | None = None
) -> None:
    AccessRecord.objects.create(
        at=timezone.now(),
        actor=actor,
        actor_kind=actor_kind,
        action=action,
        subject=subject,
        purpose=purpose[:300],
        detail=detail or {},
    )


def access_records_for(*, subject: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = AccessRecord.objects.filter(subject=subject).order_by("-at")[:limit]
    return [
        {"at": r.at, "actor": r.actor, "actor_kind": r.actor_kind, "action": r.action, "purpose": r.purpose}
        for r in rows
    ]
