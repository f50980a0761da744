"""What the records say about each backup target: its latest backups and restore drills."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from gov21.continuity.models import BackupRun, DrillRun


def target_name(spec: str) -> str:
    """The name a target's records carry (its ``Target.name``), found without connecting to it."""
    if "://" in spec or spec.startswith("partner:"):
        return spec
    return str(Path(spec).expanduser())


def configured_targets() -> list[str]:
    """The names of the targets in ``GOV21_BACKUP_TARGETS``, in the order given."""
    return list(dict.fromkeys(target_name(spec) for spec in settings.GOV21_BACKUP_TARGETS))


@dataclass(frozen=True, slots=True)
class TargetState:
    name: str
    configured: bool
    last_backup: BackupRun | None
    last_good_backup: BackupRun | None
    last_drill: DrillRun | None
    last_good_drill: DrillRun | None


def _newest_backup(target: str, *, ok_only: bool = False) -> BackupRun | None:
    runs = BackupRun.objects.filter(target=target)
    return (runs.filter(ok=True) if ok_only else runs).order_by("-started_at", "-pk").first()


def _newest_drill(target: str, *, ok_only: bool = False) -> DrillRun | None:
    runs = DrillRun.objects.filter(target=target)
    return (runs.filter(ok=True) if ok_only else runs).order_by("-started_at", "-pk").first()


def target_states() -> list[TargetState]:
    """Every configured target, then every other target that has a backup or drill on record."""
    configured = configured_targets()
    recorded = set(BackupRun.objects.values_list("target", flat=True).distinct()) | set(
        DrillRun.objects.values_list("target", flat=True).distinct()
    )
    states = []
    for name in [*configured, *sorted(recorded - set(configured))]:
        last_backup = _newest_backup(name)
        last_drill = _newest_drill(name)
        states.append(
            TargetState(
                name=name,
                configured=name in configured,
                last_backup=last_backup,
                last_good_backup=last_backup
                if last_backup is None or last_backup.ok
                else _newest_backup(name, ok_only=True),
                last_drill=last_drill,
                last_good_drill=last_drill
                if last_drill is None or last_drill.ok
                else _newest_drill(name, ok_only=True),
            )
        )
    return states


def backup_runs_recent(*, limit: int = 20) -> list[BackupRun]:
    return list(BackupRun.objects.order_by("-started_at", "-pk")[:limit])


def drill_runs_recent(*, limit: int = 20) -> list[DrillRun]:
    return list(DrillRun.objects.order_by("-started_at", "-pk")[:limit])


def full_copy_due(target: str, *, every: timedelta) -> bool:
    """Whether ``target`` has received no complete copy (every chunk sent) within ``every``."""
    since = timezone.now() - every
    copies = BackupRun.objects.filter(target=target, ok=True, started_at__gte=since)
    return not copies.filter(Q(full=True) | Q(chunks_sent=F("chunks"))).exists()


def drills_latest() -> list[DrillRun]:
    """The newest drill per target."""
    seen: dict[str, DrillRun] = {}
    for run in DrillRun.objects.order_by("-started_at")[:200]:
        seen.setdefault(run.target, run)
    return list(seen.values())


@dataclass(frozen=True, slots=True)
class DrillNumbers:
    """Restore drills in the year before ``as_of``: how many ran and passed, and the worst data
    loss (RPO) and time to serve again (RTO) among those that passed, in seconds."""

    days: int
    drills: int
    passed: int
    worst_rpo_seconds: float | None
    worst_rto_seconds: float | None


def drill_numbers(*, as_of: datetime, days: int = 365) -> DrillNumbers:
    """One SQL aggregate over the drills of the last ``days`` days."""
    from django.db.models import Count, Max

    runs = DrillRun.objects.filter(started_at__gt=as_of - timedelta(days=days), started_at__lte=as_of)
    found = runs.aggregate(
        drills=Count("pk"),
        passed=Count("pk", filter=Q(ok=True)),
        rpo=Max("rpo_seconds", filter=Q(ok=True)),
        rto=Max("rto_seconds", filter=Q(ok=True)),
    )
    return DrillNumbers(
        days=days,
        drills=found["drills"],
        passed=found["passed"],
        worst_rpo_seconds=found["rpo"],
        worst_rto_seconds=found["rto"],
    )
