"""Each backup attempt is recorded; the scheduled loop retries a failing target with backoff while the
other targets are served, raises an alert, catches the target up when it returns, and sends each
target a complete copy once a day."""

from __future__ import annotations

import io
import logging
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from gov21.continuity.alerts import alerts
from gov21.continuity.engine import backups_on, home_keys, verify_backup
from gov21.continuity.management.commands import backup as backup_command
from gov21.continuity.models import BackupRun
from gov21.continuity.targets import DirectoryTarget
from gov21.core.principal import Principal
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db(transaction=True)
REGISTRAR = Principal(name="backup.test", kind="staff", roles=frozenset({"registrar"}))


def test_a_backup_is_recorded_with_what_it_sent(node: Path, tmp_path: Path) -> None:
    register_person(REGISTRAR)
    offsite = tmp_path / "offsite"

    call_command("backup", "--to", str(offsite), stdout=io.StringIO())
    distinct = len({path.name for path in (offsite / "chunks").rglob("*") if path.is_file()})
    call_command("backup", "--to", str(offsite), "--full", stdout=io.StringIO())

    first, full = BackupRun.objects.order_by("started_at")
    assert [first.backup_id, full.backup_id] == sorted(backups_on(DirectoryTarget(offsite)))
    assert (first.target, first.ok, first.full, first.error) == (str(offsite), True, False, "")
    # A first backup sends every chunk once at least (a PostgreSQL dump repeats some within one backup).
    assert 0 < distinct <= first.chunks_sent <= first.chunks and first.bytes_read > 0 and first.bytes_sent > 0
    assert full.full and full.chunks_sent == full.chunks  # every chunk sent again, though the target held most


def test_a_failed_backup_is_recorded_with_its_reason_and_logged(
    node: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("a file where the target should be")

    with pytest.raises(CommandError, match="Backup failed for"):
        call_command("backup", "--to", str(blocked), stdout=io.StringIO(), stderr=io.StringIO())

    run = BackupRun.objects.get()
    assert (run.target, run.ok, run.backup_id, run.chunks_sent) == (str(blocked), False, "", 0)
    assert "cannot write" in run.error
    assert [(r.name, r.levelno) for r in caplog.records if "cannot write" in r.getMessage()] == [
        ("gov21.continuity", logging.ERROR)
    ]
    assert BackupRun.objects.count() == 1  # a one-off backup is not retried: the operator is watching


class Stop(Exception):
    pass


def test_the_loop_retries_with_backoff_serves_the_others_alerts_and_catches_up(
    node: Path, tmp_path: Path, settings: Any, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    register_person(REGISTRAR)
    blocked, good = tmp_path / "usb", tmp_path / "offsite"
    blocked.write_text("the drive is not mounted: a file where the target should be")
    settings.GOV21_BACKUP_TARGETS = [str(blocked), str(good)]
    pauses: list[float] = []
    seen: dict[str, Any] = {}

    def pause(seconds: float) -> None:
        pauses.append(seconds)
        if len(pauses) == 3:  # the end of the first round: what the operator sees, then the drive returns
            seen["alerts"] = {(a.target, a.code) for a in alerts()}
            blocked.unlink()
        elif len(pauses) == 4:
            raise Stop

    monkeypatch.setattr(backup_command, "sleep", pause)
    err = io.StringIO()
    with pytest.raises(Stop):
        call_command("backup", "--every", "60", stdout=io.StringIO(), stderr=err)

    assert pauses[:2] == list(backup_command.RETRY_DELAYS) == [2.0, 4.0]
    assert 1.0 <= pauses[2] <= 60 and 1.0 <= pauses[3] <= 60
    usb = list(BackupRun.objects.filter(target=str(blocked)).order_by("started_at").values_list("ok", flat=True))
    assert usb == [False, False, False, True]  # three attempts in the first round, caught up in the second
    # A complete copy once a day: the new offsite target got one in the first round, so the second is incremental.
    offsite = BackupRun.objects.filter(target=str(good)).order_by("started_at")
    assert [(run.ok, run.full) for run in offsite] == [(True, True), (True, False)]
    assert f"ALERT: Backup failed for: {blocked}" in err.getvalue()
    assert seen["alerts"] == {
        (str(blocked), "backup_failed"),
        (str(blocked), "backup_stale"),
        (str(blocked), "drill_missing"),
        (str(good), "drill_missing"),
    }
    retries = [r for r in caplog.records if r.levelno == logging.WARNING and "trying again" in r.getMessage()]
    assert [r.getMessage().split(",")[0] for r in retries] == [
        f"Backup to {blocked} failed (attempt 1 of 3)",
        f"Backup to {blocked} failed (attempt 2 of 3)",
    ]

    # Nothing is lost while the drive was away: the backup it received holds every chunk, and verifies.
    caught_up = BackupRun.objects.filter(target=str(blocked), ok=True).get()
    assert caught_up.full and caught_up.chunks_sent == caught_up.chunks
    verify_backup(DirectoryTarget(blocked), home_keys(), caught_up.backup_id)
    assert {a.code for a in alerts() if a.target == str(blocked)} == {"drill_missing"}
