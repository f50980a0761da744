"""What an operator must look at now, read from the records of backups and restore drills.

For each target in ``GOV21_BACKUP_TARGETS``:

* no successful backup within ``GOV21_BACKUP_MAX_AGE_MINUTES`` (or none ever): ``backup_stale``;
* the last backup attempt failed: ``backup_failed``;
* no restore drill ever: ``drill_missing``;
* the last drill failed: ``drill_failed``;
* the last successful drill is older than ``GOV21_DRILL_OVERDUE_DAYS``: ``drill_overdue``.

A target that is not configured but has records (a backup taken once with ``--to``, a drill run with
``--from``) raises only what its records show: a failed last backup or drill, an overdue drill.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from gov21.continuity.models import DrillRun
from gov21.continuity.selectors import TargetState, target_states

ERROR = "error"
WARNING = "warning"

logger = logging.getLogger("gov21.continuity")


@dataclass(frozen=True, slots=True)
class Alert:
    severity: str  # ERROR or WARNING
    target: str
    text: str
    code: str  # backup_stale, backup_failed, drill_missing, drill_failed, drill_overdue


def backup_max_age() -> timedelta:
    return timedelta(minutes=settings.GOV21_BACKUP_MAX_AGE_MINUTES)


def drill_overdue_after() -> timedelta:
    return timedelta(days=settings.GOV21_DRILL_OVERDUE_DAYS)


def drill_failure(run: DrillRun) -> str:
    """Why a drill failed, in a line: its error, or the smoke checks that did not pass."""
    detail: dict[str, Any] = run.detail if isinstance(run.detail, dict) else {}
    if detail.get("error"):
        return str(detail["error"])
    checks = detail.get("checks") or {}
    failing = [f"{name} {value}" for name, value in checks.items() if value != "ok"]
    return ", ".join(failing) or _("no smoke check ran")


def alerts(*, now: datetime | None = None, states: list[TargetState] | None = None) -> list[Alert]:
    """The current alerts, errors first, each target's in a fixed order."""
    now = now or timezone.now()
    found: list[Alert] = []
    for state in target_states() if states is None else states:
        found.extend(_backup_alerts(state, now))
        found.extend(_drill_alerts(state, now))
    return sorted(found, key=lambda alert: alert.severity != ERROR)


def _backup_alerts(state: TargetState, now: datetime) -> list[Alert]:
    found = []
    last, good = state.last_backup, state.last_good_backup
    if last is not None and not last.ok:
        found.append(
            Alert(
                ERROR,
                state.name,
                _("The last backup to %(target)s failed: %(error)s")
                % {"target": state.name, "error": last.error.removeprefix(f"{state.name}: ")},
                "backup_failed",
            )
        )
    if state.configured:
        if good is None:
            found.append(
                Alert(
                    ERROR,
                    state.name,
                    _("No backup to %(target)s has succeeded yet.") % {"target": state.name},
                    "backup_stale",
                )
            )
        elif now - good.started_at > backup_max_age():
            found.append(
                Alert(
                    ERROR,
                    state.name,
                    _("The last successful backup to %(target)s was %(age)s ago.")
                    % {"target": state.name, "age": timesince(good.started_at, now)},
                    "backup_stale",
                )
            )
    return found


def _drill_alerts(state: TargetState, now: datetime) -> list[Alert]:
    found = []
    last, good = state.last_drill, state.last_good_drill
    if last is None:
        if state.configured:
            found.append(
                Alert(
                    WARNING,
                    state.name,
                    _("No restore drill has been run on %(target)s yet.") % {"target": state.name},
                    "drill_missing",
                )
            )
        return found
    if not last.ok:
        found.append(
            Alert(
                ERROR,
                state.name,
                _("The last restore drill on %(target)s failed: %(error)s")
                % {"target": state.name, "error": drill_failure(last)},
                "drill_failed",
            )
        )
    if good is not None and now - good.started_at > drill_overdue_after():
        found.append(
            Alert(
                WARNING,
                state.name,
                _("The last successful restore drill on %(target)s was %(age)s ago; one is due every %(days)s days.")
                % {
                    "target": state.name,
                    "age": timesince(good.started_at, now),
                    "days": settings.GOV21_DRILL_OVERDUE_DAYS,
                },
                "drill_overdue",
            )
        )
    return found


def alert_log(alert: Alert) -> None:
    """Send an alert to the log, where the node's monitoring picks it up."""
    logger.log(logging.ERROR if alert.severity == ERROR else logging.WARNING, "%s [%s]", alert.text, alert.code)
