from __future__ import annotations

from django.db import models


class DrillRun(models.Model):
    """One restore drill: a backup brought back in a scratch directory, started and checked."""

    target = models.CharField(max_length=300)
    backup_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    ok = models.BooleanField()
    rpo_seconds = models.FloatField(null=True, blank=True)  # age of the newest data the backup brought back
    rto_seconds = models.FloatField(null=True, blank=True)  # from the start of the restore to serving
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["target", "started_at"], name="drill_target_idx")]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.target} {'ok' if self.ok else 'FAILED'}"


class BackupRun(models.Model):
    """One attempt to back this node up to one target: what it sent, or why it failed."""

    target = models.CharField(max_length=300)
    backup_id = models.CharField(max_length=64, blank=True)
    started_at = models.DateTimeField()
    seconds = models.FloatField(default=0.0)
    ok = models.BooleanField()
    full = models.BooleanField(default=False)  # every chunk sent again, whether the target held it or not
    chunks = models.PositiveIntegerField(default=0)
    chunks_sent = models.PositiveIntegerField(default=0)
    bytes_read = models.PositiveBigIntegerField(default=0)
    bytes_sent = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["target", "started_at"], name="backup_target_idx"),
            models.Index(fields=["started_at"], name="backup_started_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.started_at:%Y-%m-%d %H:%M} {self.target} {'ok' if self.ok else 'FAILED'}"
