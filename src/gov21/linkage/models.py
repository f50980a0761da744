"""The record linkage's tables: agencies' sources and their imported records (as the agency wrote
them and standardised), rows that could not be read, the registry's persons as the linkage index
holds them (one row per version of a record, kept current from the registry through the exchange),
runs with their checkpoints, candidate pairs, officers' decisions, and the registry's likely
duplicates."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    LINKED = "linked", _("Linked")
    REVIEW = "review", _("Clerical review")
    UNLINKED = "unlinked", _("Not linked")


class Source(models.Model):
    """An agency's list of people (its tax roll, its clinic's patients): owned by an exchange member."""

    code = models.SlugField(max_length=60, unique=True)
    agency = models.CharField(max_length=200)  # the exchange member or subsystem, e.g. XA/GOV/MSD/benefits
    upper = models.FloatField(default=0.95)
    lower = models.FloatField(default=0.5)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.code


class Record(models.Model):
    """One row of an agency's file: what it said (``raw``) and what linkage compares (standardised)."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="records")
    record_id = models.CharField(max_length=120)
    line = models.PositiveIntegerField()
    raw = models.JSONField()
    given = models.CharField(max_length=200, blank=True)
    surname = models.CharField(max_length=200, blank=True)
    former = models.JSONField(default=list)
    dob = models.DateField(null=True, blank=True)
    dob_ambiguous = models.BooleanField(default=False)
    sex = models.CharField(max_length=1, blank=True)
    address = models.CharField(max_length=300, blank=True)
    settlement = models.CharField(max_length=120, blank=True)
    parish = models.CharField(max_length=120, blank=True)
    mother = models.CharField(max_length=300, blank=True)
    father = models.CharField(max_length=300, blank=True)
    phone = models.CharField(max_length=20, blank=True)
    recorded_on = models.DateField(null=True, blank=True)
    # The outcome of the latest run, or of an officer's decision since.
    uin = models.CharField(max_length=10, blank=True)
    probability = models.FloatField(null=True, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, blank=True)
    reason = models.CharField(max_length=20, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["source", "record_id"], name="linkage_record_unique")]
        indexes = [models.Index(fields=["source", "status"], name="linkage_record_status_idx")]

    def __str__(self) -> str:
        return f"{self.source_id}:{self.record_id}"


class RowError(models.Model):
    """A row of an agency's file that could not be read: its line and why."""

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="row_errors")
    file_name = models.CharField(max_length=300)
    line = models.PositiveIntegerField()
    reason = models.CharField(max_length=500)
    at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.file_name}:{self.line}"


class IndexEntry(models.Model):
    """One version of a registry person's record as the linkage compares it (standardised)."""

    cursor = models.BigIntegerField(unique=True)  # the registry's order of versions
    uin = models.CharField(max_length=10, db_index=True)
    version = models.PositiveIntegerField()
    since = models.DateField()
    given = models.CharField(max_length=200)
    surname = models.CharField(max_length=200)
    dob = models.DateField()
    sex = models.CharField(max_length=1)
    address = models.CharField(max_length=300, blank=True)
    settlement = models.CharField(max_length=120, blank=True)
    parish = models.CharField(max_length=120, blank=True)
    marital = models.CharField(max_length=20, blank=True)
    status = models.CharField(max_length=20, blank=True)
    mother_uin = models.CharField(max_length=10, blank=True)
    father_uin = models.CharField(max_length=10, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["uin", "version"], name="linkage_index_version_unique")]

    def __str__(self) -> str:
        return f"{self.uin} v{self.version}"


class Run(models.Model):
    """A linkage of a source against the index: its steps are checkpointed, so an interrupted run
    continues where it stopped, and its outcomes reach the records in one transaction at the end."""

    STAGES = ("pairs", "estimate", "assign", "done")

    source = models.ForeignKey(Source, on_delete=models.PROTECT, related_name="runs")
    history = models.BooleanField(default=True)
    stage = models.CharField(max_length=10, default="pairs")
    checkpoint = models.BigIntegerField(default=0)  # the last record id whose pairs are stored
    model = models.JSONField(null=True, blank=True)
    counts = models.JSONField(default=dict)
    started_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.source_id} run {self.pk}"


class Pair(models.Model):
    """A record and a registry person it was compared with, and how each field agreed."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="pairs")
    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="pairs")
    uin = models.CharField(max_length=10)
    gamma = models.JSONField()
    weight = models.FloatField(null=True, blank=True)
    probability = models.FloatField(null=True, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "record", "uin"], name="linkage_pair_unique")]

    def __str__(self) -> str:
        return f"{self.record_id}~{self.uin}"


class Verdict(models.TextChoices):
    ACCEPT = "accept", _("Same person")
    REJECT = "reject", _("Different people")


class Decision(models.Model):
    """An officer's decision on a record and a person: kept for ever; a reversal is a new row that
    names the decision it reverses. Refines the next run's parameters."""

    record = models.ForeignKey(Record, on_delete=models.PROTECT, related_name="decisions")
    uin = models.CharField(max_length=10)
    verdict = models.CharField(max_length=10, choices=Verdict.choices)
    officer = models.CharField(max_length=150)
    at = models.DateTimeField()
    reverses = models.OneToOneField("self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversal")

    def __str__(self) -> str:
        return f"{self.record_id} {self.verdict} {self.uin}"


class Duplicate(models.Model):
    """Two registry persons likely to be one: listed for the registrar, never merged here."""

    uin_a = models.CharField(max_length=10)
    uin_b = models.CharField(max_length=10)
    probability = models.FloatField()
    found_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["uin_a", "uin_b"], name="linkage_duplicate_unique")]

    def __str__(self) -> str:
        return f"{self.uin_a}={self.uin_b}"
