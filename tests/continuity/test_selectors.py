from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gov21.continuity.engine import BackupReport
from gov21.continuity.selectors import full_copy_due
from gov21.continuity.services import record_backup, record_backup_failure

pytestmark = pytest.mark.django_db
DAY = timedelta(days=1)


def _backup(*, ago: timedelta, sent: int, full: bool = False) -> None:
    report = BackupReport(backup_id="b", target="/mnt/offsite", chunks=40, chunks_sent=sent, full=full)
    record_backup(report=report, started_at=timezone.now() - ago)


def test_a_complete_copy_is_due_once_a_day_and_a_first_backup_counts_as_one() -> None:
    assert full_copy_due("/mnt/offsite", every=DAY)
    _backup(ago=timedelta(days=2), sent=40, full=True)
    _backup(ago=timedelta(hours=1), sent=3)
    record_backup_failure(
        target="/mnt/offsite", started_at=timezone.now(), seconds=1, full=True, error="/mnt/offsite: disk full"
    )
    assert full_copy_due("/mnt/offsite", every=DAY)

    _backup(ago=timedelta(minutes=5), sent=40)  # every chunk was new to the target: as good as a full copy

    assert not full_copy_due("/mnt/offsite", every=DAY)
    assert full_copy_due("/mnt/offsite", every=timedelta(minutes=1))
    assert full_copy_due("s3://embassy/xa", every=DAY)
