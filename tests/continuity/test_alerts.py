"""What raises an alert about backups and restore drills, and what does not."""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone

from gov21.continuity.alerts import ERROR, WARNING, Alert, alert_log, alerts
from gov21.continuity.engine import BackupReport
from gov21.continuity.models import BackupRun, DrillRun
from gov21.continuity.services import BACKUP_RUNS_KEPT, record_backup, record_backup_failure

pytestmark = pytest.mark.django_db

OFFSITE = "/mnt/offsite"
EMBASSY = "s3://embassy/xa"


def backed_up(target: str, *, ago: timedelta = timedelta(minutes=1), sent: int = 4096) -> BackupRun:
    report = BackupReport(
        backup_id="20261128T120000000000Z-abc123",
        target=target,
        files=3,
        chunks=40,
        chunks_sent=3,
        bytes_read=40 << 20,
        bytes_sent=sent,
        seconds=1.5,
    )
    return record_backup(report=report, started_at=timezone.now() - ago)


def backup_failed(target: str, *, ago: timedelta = timedelta(seconds=30), error: str = "") -> BackupRun:
    return record_backup_failure(
        target=target,
        started_at=timezone.now() - ago,
        seconds=0.2,
        full=False,
        error=error or f"{target}: cannot write chunks/ab/abcd: Not a directory",
    )


def drilled(target: str, *, ago: timedelta = timedelta(days=1), ok: bool = True, error: str = "") -> DrillRun:
    detail: dict[str, Any] = {"checks": {"discovery": "ok", "person_read": "ok"}}
    if error:
        detail = {"checks": {}, "error": error}
    return DrillRun.objects.create(
        target=target,
        backup_id="20261128T120000000000Z-abc123",
        started_at=timezone.now() - ago,
        ok=ok,
        rpo_seconds=42.0 if ok else None,
        rto_seconds=12.5 if ok else None,
        detail=detail,
    )


@pytest.fixture
def configured(settings: Any) -> list[str]:
    settings.GOV21_BACKUP_TARGETS = [OFFSITE, EMBASSY]
    settings.GOV21_BACKUP_MAX_AGE_MINUTES = 15
    settings.GOV21_DRILL_OVERDUE_DAYS = 8
    return [OFFSITE, EMBASSY]


def codes(found: list[Alert]) -> set[tuple[str, str]]:
    return {(alert.target, alert.code) for alert in found}


def test_targets_backed_up_and_drilled_in_time_raise_no_alert(configured: list[str]) -> None:
    for target in configured:
        backup_failed(target, ago=timedelta(minutes=5))  # an earlier failure the newest backup made good
        backed_up(target)
        drilled(target, ago=timedelta(days=9), ok=False, error="an earlier drill failed")
        drilled(target)

    assert alerts() == []


def test_a_configured_target_with_nothing_on_record_raises_a_backup_and_a_drill_alert(configured: list[str]) -> None:
    found = alerts()

    assert codes(found) == {
        (OFFSITE, "backup_stale"),
        (OFFSITE, "drill_missing"),
        (EMBASSY, "backup_stale"),
        (EMBASSY, "drill_missing"),
    }
    assert [a.severity for a in found] == [ERROR, ERROR, WARNING, WARNING]  # errors first
    assert f"No backup to {OFFSITE} has succeeded yet." in [a.text for a in found]
    assert f"No restore drill has been run on {EMBASSY} yet." in [a.text for a in found]


def test_a_failed_last_backup_raises_an_error_with_its_reason(configured: list[str]) -> None:
    for target in configured:
        backed_up(target, ago=timedelta(minutes=3))
        drilled(target)
    backup_failed(EMBASSY, error="s3://embassy/xa: cannot write chunks/ab/abcd: Could not connect")

    (alert,) = alerts()

    assert (alert.severity, alert.target, alert.code) == (ERROR, EMBASSY, "backup_failed")
    assert alert.text == "The last backup to s3://embassy/xa failed: cannot write chunks/ab/abcd: Could not connect"


def test_no_successful_backup_within_the_limit_is_an_error(configured: list[str], settings: Any) -> None:
    for target in configured:
        drilled(target)
    backed_up(OFFSITE, ago=timedelta(minutes=14))
    backed_up(EMBASSY, ago=timedelta(minutes=16))

    (alert,) = alerts()
    assert (alert.target, alert.code, alert.severity) == (EMBASSY, "backup_stale", ERROR)
    assert alert.text.replace("\xa0", " ") == f"The last successful backup to {EMBASSY} was 16 minutes ago."

    settings.GOV21_BACKUP_MAX_AGE_MINUTES = 60
    assert alerts() == []


def test_a_failed_drill_is_an_error_and_an_overdue_drill_a_warning(configured: list[str], settings: Any) -> None:
    for target in configured:
        backed_up(target)
    drilled(OFFSITE, ago=timedelta(days=9))
    drilled(EMBASSY, ago=timedelta(days=2))
    drilled(EMBASSY, ago=timedelta(hours=1), ok=False, error="the restored node did not start serving")

    found = alerts()

    assert [(a.severity, a.target, a.code) for a in found] == [
        (ERROR, EMBASSY, "drill_failed"),
        (WARNING, OFFSITE, "drill_overdue"),
    ]
    assert found[0].text == f"The last restore drill on {EMBASSY} failed: the restored node did not start serving"
    assert found[1].text.replace("\xa0", " ").startswith(f"The last successful restore drill on {OFFSITE} was 1 week")
    assert found[1].text.endswith("one is due every 8 days.")

    settings.GOV21_DRILL_OVERDUE_DAYS = 10
    assert codes(alerts()) == {(EMBASSY, "drill_failed")}


def test_a_drill_whose_smoke_checks_failed_names_them() -> None:
    DrillRun.objects.create(
        target=OFFSITE,
        started_at=timezone.now(),
        ok=False,
        detail={"checks": {"discovery": "ok", "person_read": "HTTP 500", "certificate_verify": "revoked"}},
    )

    (alert,) = alerts()

    assert alert.text == f"The last restore drill on {OFFSITE} failed: person_read HTTP 500, certificate_verify revoked"


def test_a_target_only_on_record_raises_what_its_records_show() -> None:
    """A backup taken once with --to, a drill run once with --from: no schedule is expected of them,
    but a failure or an overdue drill is still worth knowing."""
    backed_up("/media/usb", ago=timedelta(days=3))
    drilled("/media/usb", ago=timedelta(days=3))
    assert alerts() == []

    backup_failed("/media/usb")
    drilled("/mnt/old", ago=timedelta(days=30))

    assert codes(alerts()) == {("/media/usb", "backup_failed"), ("/mnt/old", "drill_overdue")}


def test_a_configured_directory_is_matched_to_its_records_by_its_full_path(settings: Any) -> None:
    settings.GOV21_BACKUP_TARGETS = ["~/gov21-offsite"]
    home = str(Path.home() / "gov21-offsite")
    backed_up(home)
    drilled(home)

    assert alerts() == []


def test_old_backup_records_are_dropped_but_the_last_good_one_is_kept() -> None:
    good = backed_up(OFFSITE, ago=BACKUP_RUNS_KEPT + timedelta(days=5))
    backup_failed(OFFSITE, ago=BACKUP_RUNS_KEPT + timedelta(days=2))
    backed_up(EMBASSY, ago=BACKUP_RUNS_KEPT + timedelta(days=2))

    backup_failed(OFFSITE)

    assert list(BackupRun.objects.filter(target=OFFSITE).order_by("started_at").values_list("ok", flat=True)) == [
        True,
        False,
    ]
    assert BackupRun.objects.filter(target=OFFSITE).first() == good
    assert BackupRun.objects.filter(target=EMBASSY).count() == 1  # another target's records are its own


def test_an_alert_is_logged_at_its_severity(caplog: pytest.LogCaptureFixture) -> None:
    alert_log(Alert(ERROR, OFFSITE, "The last backup to /mnt/offsite failed: disk full", "backup_failed"))
    alert_log(Alert(WARNING, OFFSITE, "No restore drill has been run on /mnt/offsite yet.", "drill_missing"))

    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("gov21.continuity", logging.ERROR, "The last backup to /mnt/offsite failed: disk full [backup_failed]"),
        ("gov21.continuity", logging.WARNING, "No restore drill has been run on /mnt/offsite yet. [drill_missing]"),
    ]
