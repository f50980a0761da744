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
