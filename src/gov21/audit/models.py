from __future__ import annotations

from django.db import models


class AccessRecord(models.Model):
    """Who read or changed whose personal data, when and why."""

    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    actor_kind = models.CharField(max_length=16)
    action = models.CharField(max_length=40)
    subject = models.CharField(max_length=40, blank=True)  # the person's UIN, when there is one
    purpose = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)

    class Meta:
        indexes = [models.Index(fields=["subject", "at"], name="access_subject_idx")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.subject}"
