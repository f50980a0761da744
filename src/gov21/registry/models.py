"""Population and civil registry tables.

``Person`` holds the current state of each record for fast reads and search; ``PersonVersion`` holds
every state the record has ever had (full snapshots, append-only), which is what history and ``as_of``
queries read. Rows are never deleted.
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Sex(models.TextChoices):
    FEMALE = "F", _("Female")
    MALE = "M", _("Male")
    UNSPECIFIED = "X", _("Unspecified")


class PersonStatus(models.TextChoices):
    ALIVE = "alive", _("Alive")
    DECEASED = "deceased", _("Deceased")


class MaritalStatus(models.TextChoices):
    SINGLE = "single", _("Never married")
    MARRIED = "married", _("Married")
    DIVORCED = "divorced", _("Divorced")
    WIDOWED = "widowed", _("Widowed")


class Person(models.Model):
    uin = models.CharField(max_length=10, unique=True)
    given_names = models.CharField(max_length=200)
    family_name = models.CharField(max_length=200)
    former_names = models.JSONField(default=list, blank=True)
    sex = models.CharField(max_length=1, choices=Sex.choices)
    birth_date = models.DateField()
    birth_parish = models.CharField(max_length=12)
    birth_settlement = models.CharField(max_length=120, blank=True)
    mother = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    father = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    citizenship = models.CharField(max_length=2, default="XA")
    address_parish = models.CharField(max_length=12, blank=True)
    address_settlement = models.CharField(max_length=120, blank=True)
    address_line = models.CharField(max_length=200, blank=True)
    address_since = models.DateField(null=True, blank=True)
    marital_status = models.CharField(max_length=10, choices=MaritalStatus.choices, default=MaritalStatus.SINGLE)
    status = models.CharField(max_length=10, choices=PersonStatus.choices, default=PersonStatus.ALIVE)
    death_date = models.DateField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)
    # Normalised (lower-case, unaccented) names for search, and phonetic keys for duplicate detection.
    name_norm = models.CharField(max_length=400, db_index=False)
    family_key = models.CharField(max_length=16)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["family_key", "birth_date"], name="person_dup_idx"),
            models.Index(fields=["mother", "birth_date"], name="person_mother_idx"),
            models.Index(fields=["name_norm"], name="person_name_idx"),
            # The residents of a place, counted or named in the order of their addresses.
            models.Index(fields=["address_parish", "address_settlement", "address_line"], name="person_address_idx"),
            # The population's numbers read the persons of a few months of birth, and those whose
            # death falls after the day counted (decision 0081).
            models.Index(fields=["birth_date"], name="person_birth_idx"),
            # Partial: alive is the common case, and an index holding it would tempt the planner to
            # read every living person for "no date of death".
            models.Index(fields=["death_date"], name="person_death_idx", condition=models.Q(death_date__isnull=False)),
        ]

    def __str__(self) -> str:
        return f"{self.uin} {self.given_names} {self.family_name}"


class PopulationMonth(models.Model):
    """The living persons with a parish of address, counted by parish, sex and month of birth. Kept
    by the database itself, in the statement that writes a person (triggers, migration 0007), so
    that no write path can forget it; the population's numbers read these few thousand counts
    instead of every person (decision 0081). Never written by the application."""

    parish = models.CharField(max_length=12)
    sex = models.CharField(max_length=1)
    birth_month = models.CharField(max_length=7)  # "YYYY-MM"
    persons = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["parish", "sex", "birth_month"], name="population_month_key"),
        ]

    def __str__(self) -> str:
        return f"{self.parish} {self.sex} {self.birth_month}: {self.persons}"


class PersonVersion(models.Model):
    """One state of a person record. Append-only: a change or correction adds a row."""

    person = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="versions")
    version = models.PositiveIntegerField()
    recorded_at = models.DateTimeField()
    effective_date = models.DateField()
    data = models.JSONField()
    changed = models.JSONField(default=list)
    reason = models.CharField(max_length=500)
    author = models.CharField(max_length=150)
    event = models.ForeignKey("LifeEvent", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["person", "version"], name="person_version_unique")]
        indexes = [models.Index(fields=["person", "recorded_at"], name="person_version_time_idx")]

    def __str__(self) -> str:
        return f"{self.person_id} v{self.version}"


class EventKind(models.TextChoices):
    BIRTH = "birth", _("Birth")
    DEATH = "death", _("Death")
    MARRIAGE = "marriage", _("Marriage")
    DIVORCE = "divorce", _("Divorce")
    NAME_CHANGE = "name_change", _("Change of name")
    ADDRESS_CHANGE = "address_change", _("Change of address")


class EventState(models.TextChoices):
    DECLARED = "declared", _("Declared")
    VALIDATED = "validated", _("Validated")
    REGISTERED = "registered", _("Registered")
    CERTIFIED = "certified", _("Certified")
    REJECTED = "rejected", _("Rejected")
    CORRECTION_REQUESTED = "correction_requested", _("Correction requested")
    CORRECTED = "corrected", _("Corrected")


class Timeliness(models.TextChoices):
    ON_TIME = "on_time", _("On time")
    LATE = "late", _("Late")
    DELAYED = "delayed", _("Delayed")


class LifeEvent(models.Model):
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    state = models.CharField(max_length=24, choices=EventState.choices, default=EventState.DECLARED)
    number = models.CharField(max_length=20, null=True, blank=True, unique=True)
    event_date = models.DateField()
    data = models.JSONField()
    subject = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    partner = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    declared_at = models.DateTimeField()
    declared_by = models.CharField(max_length=150)
    registered_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.CharField(max_length=150, blank=True)
    timeliness = models.CharField(max_length=10, choices=Timeliness.choices, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True)
    correction_note = models.CharField(max_length=500, blank=True)
    has_open_duplicates = models.BooleanField(default=False)
    # The declared mother of a birth, kept as a column so the duplicate check finds her other
    # pending declarations through an index instead of reading every open declaration's JSON.
    mother_uin = models.CharField(max_length=10, blank=True, db_index=True)
    # The person who declared through an agency's system, as the identity provider's assertion
    # proved it; empty when the declaration came with no such proof (a clerk, an officer, a system).
    declarant_uin = models.CharField(max_length=10, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["state", "declared_at"], name="event_queue_idx"),
            models.Index(fields=["subject", "kind"], name="event_subject_idx"),
            # The events of one kind in a year, for the numbers service (decision 0081).
            models.Index(fields=["kind", "event_date"], name="event_kind_date_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} {self.number or self.pk} ({self.state})"


class EventTransition(models.Model):
    event = models.ForeignKey(LifeEvent, on_delete=models.PROTECT, related_name="transitions")
    from_state = models.CharField(max_length=24, blank=True)
    to_state = models.CharField(max_length=24)
    actor = models.CharField(max_length=150)
    at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.event_id}: {self.from_state} -> {self.to_state}"


class RegistrationCounter(models.Model):
    """Last registration number handed out per event kind and year. Incremented under a row lock in the
    same transaction that registers the event, so numbers are gap-free: a rolled-back registration
    gives its number back."""

    kind = models.CharField(max_length=16)
    year = models.PositiveIntegerField()
    last = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "year"], name="counter_unique")]

    def __str__(self) -> str:
        return f"{self.kind} {self.year}: {self.last}"


class Union(models.Model):
    """A marriage between two registered persons, dissolved by divorce or death."""

    partner_a = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    partner_b = models.ForeignKey(Person, on_delete=models.PROTECT, related_name="+")
    married_on = models.DateField()
    marriage_event = models.ForeignKey(LifeEvent, null=True, on_delete=models.PROTECT, related_name="+")
    dissolved_on = models.DateField(null=True, blank=True)
    dissolution = models.CharField(max_length=10, blank=True)  # "divorce" | "death"
    divorce_event = models.ForeignKey(LifeEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        indexes = [
            models.Index(fields=["partner_a", "dissolved_on"], name="union_a_idx"),
            models.Index(fields=["partner_b", "dissolved_on"], name="union_b_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.partner_a_id} + {self.partner_b_id} ({self.married_on})"


class DuplicateCandidate(models.Model):
    """A declaration that may describe a person (or a pending declaration) already known."""

    event = models.ForeignKey(LifeEvent, on_delete=models.PROTECT, related_name="duplicates")
    person = models.ForeignKey(Person, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    other_event = models.ForeignKey(LifeEvent, null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    score = models.FloatField()
    reason = models.CharField(max_length=300)
    resolution = models.CharField(max_length=12, blank=True)  # "" open | "distinct" | "duplicate"
    resolved_by = models.CharField(max_length=150, blank=True)
    resolved_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.event_id} ~ {self.person_id or self.other_event_id}"


class CertificateStatus(models.TextChoices):
    VALID = "valid", _("Valid")
    REVOKED = "revoked", _("Revoked")
    SUPERSEDED = "superseded", _("Superseded")


class Certificate(models.Model):
    serial = models.CharField(max_length=40, unique=True)
    event = models.ForeignKey(LifeEvent, on_delete=models.PROTECT, related_name="certificates")
    kind = models.CharField(max_length=16, choices=EventKind.choices)
    issued_at = models.DateTimeField()
    issued_by = models.CharField(max_length=150)
    facts = models.JSONField()
    credential = models.TextField()
    status = models.CharField(max_length=12, choices=CertificateStatus.choices, default=CertificateStatus.VALID)
    status_reason = models.CharField(max_length=300, blank=True)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    def __str__(self) -> str:
        return self.serial


class UinPoolEntry(models.Model):
    """A pre-generated, never-issued UIN. ``rank`` is random so issue order says nothing about
    generation order."""

    uin = models.CharField(max_length=10, primary_key=True)
    rank = models.BigIntegerField(db_index=True)

    def __str__(self) -> str:
        return self.uin


class AssertionUse(models.Model):
    """A person assertion the registry accepted: its ``jti`` may never be accepted again. Rows are
    kept until the assertion expires, after which its ``exp`` refuses it anyway."""

    jti = models.CharField(max_length=64, unique=True)
    subject = models.CharField(max_length=160)
    purpose = models.CharField(max_length=40)
    client = models.CharField(max_length=150)
    used_at = models.DateTimeField()
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return f"assertion {self.jti} ({self.purpose})"
