from __future__ import annotations

from django.db import models

from gov21.core.chain import ChainHeadBase, TreeHeadBase


class AccessRecord(models.Model):
    """Who read or changed whose personal data, when and why. An append-only hash chain (chain
    ``access``) with signed, countersigned tree heads, so a row edited or removed is found."""

    at = models.DateTimeField()
    actor = models.CharField(max_length=150)
    actor_kind = models.CharField(max_length=16)
    action = models.CharField(max_length=40)
    subject = models.CharField(max_length=40, blank=True)  # the person's UIN, when there is one
    purpose = models.CharField(max_length=300)
    detail = models.JSONField(default=dict, blank=True)
    chain = models.CharField(max_length=100, default="access")
    seq = models.BigIntegerField(default=0)
    prev_hash = models.CharField(max_length=64, default="")
    entry_hash = models.CharField(max_length=64, default="")

    class Meta:
        indexes = [models.Index(fields=["subject", "at"], name="access_subject_idx")]
        constraints = [models.UniqueConstraint(fields=["chain", "seq"], name="audit_access_seq_uniq")]

    def __str__(self) -> str:
        return f"{self.at:%Y-%m-%d %H:%M} {self.actor} {self.action} {self.subject}"


class AccessChainHead(ChainHeadBase):
    """The access log's last sequence number and hash; appends lock this row."""


class AccessTreeHead(TreeHeadBase):
    """A signed tree head over a run of the access log."""

    class Meta:
        constraints = [models.UniqueConstraint(fields=["chain", "last_seq"], name="audit_head_uniq")]
