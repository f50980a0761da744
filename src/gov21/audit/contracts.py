"""Recording access to personal data. Call inside the transaction of the change it records."""

from __future__ import annotations

from typing import Any

from django.db import connection
from django.utils import timezone

from gov21.audit.models import AccessRecord

# Written on every read of personal data, so hand-written rather than compiled by the ORM per call.
ACCESS_INSERT_SQL = (
    f"INSERT INTO {AccessRecord._meta.db_table} "  # noqa: S608 - table name from the model
    "(at, actor, actor_kind, action, subject, purpose, detail) VALUES (%s, %s, %s, %s, %s, %s, %s)"
)


def access_record(
    *, actor: str, actor_kind: str, action: str, subject: str, purpose: str, detail: dict[str, Any] | None = None
) -> None:
    ops = connection.ops
    with connection.cursor() as cursor:
        cursor.execute(
            ACCESS_INSERT_SQL,
            [
                ops.adapt_datetimefield_value(timezone.now()),
                actor[:150],
                actor_kind[:16],
                action[:40],
                subject[:40],
                purpose[:300],
                ops.adapt_json_value(detail or {}, None),
            ],
        )


def access_records_for(*, subject: str, limit: int = 100) -> list[dict[str, Any]]:
    rows = AccessRecord.objects.filter(subject=subject).order_by("-at")[:limit]
    return [
        {"at": r.at, "actor": r.actor, "actor_kind": r.actor_kind, "action": r.action, "purpose": r.purpose}
        for r in rows
    ]
