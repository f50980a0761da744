"""What the continuity app writes besides backups themselves: the record of every backup attempt and
of every restore drill."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.db import transaction

from gov21.continuity.engine import BackupReport
from gov21.continuity.models import BackupRun, DrillRun

# `gov21 up` backs up every minute: a month of attempts is enough to see a pattern, and bounded.
BACKUP_RUNS_KEPT = timedelta(days=30)


def record_backup(*, report: BackupReport, started_at: datetime) -> BackupRun:
    """Record a backup that was written whole to its target."""
    return _record(
        BackupRun(
            target=report.target,
            backup_id=report.backup_id,
            started_at=started_at,
            seconds=report.seconds,
            ok=True,
            full=report.full,
            chunks=report.chunks,
            chunks_sent=report.chunks_sent,
            bytes_read=report.bytes_read,
            bytes_sent=report.bytes_sent,
        )
    )


def record_backup_failure(*, target: str, started_at: datetime, seconds: float, full: bool, error: str) -> BackupRun:
    """Record an attempt that left no backup on ``target``, with the reason an operator can act on."""
    return _record(
        BackupRun(target=target, started_at=started_at, seconds=seconds, ok=False, full=full, error=error[:4000])
    )


def _record(run: BackupRun) -> BackupRun:
    with transaction.atomic():
        run.save()
        # The newest good backup of a target is kept however old: it is what the alert names.
        newest_good = (
            BackupRun.objects.filter(target=run.target, ok=True).order_by("-started_at").values_list("pk", flat=True)
        )
        BackupRun.objects.filter(target=run.target, started_at__lt=run.started_at - BACKUP_RUNS_KEPT).exclude(
            pk__in=list(newest_good[:1])
        ).delete()
    return run


def drill_record(
    *,
    target: str,
    backup_id: str,
    started_at: datetime,
    ok: bool,
    rpo: float | None,
    rto: float | None,
    detail: dict[str, Any],
) -> DrillRun:
    """Record a restore drill: the backup it restored, whether every check passed, the RPO and RTO it
    measured (none when it failed before measuring them) and what each check found."""
    return DrillRun.objects.create(
        target=target,
        backup_id=backup_id,
        started_at=started_at,
        ok=ok,
        rpo_seconds=rpo,
        rto_seconds=rto,
        detail=detail,
    )
