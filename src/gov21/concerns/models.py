"""Problems reported by the public (Open311 GeoReport v2 service requests), the categories they are
reported in (each handled by one agency of the exchange), their photos, the notes and public updates
written on them, and the keys of client applications that use the Open311 API."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Category(models.Model):
    """An Open311 service: what can be reported (a pothole, a water leak), and who handles it."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=400, blank=True, default="")
    group = models.CharField(max_length=80, blank=True, default="")
    keywords = models.CharField(max_length=200, blank=True, default="")
    # The exchange member and subsystem whose queue receives the reports (e.g. PWD/works).
    agency = models.CharField(max_length=40)
    subsystem = models.CharField(max_length=40)
    # How long the agency has to resolve a report: the service-level timer.
    target_hours = models.PositiveIntegerField(default=168)
    # Open311 attribute definitions (service definition), checked by records.Attribute.
    attributes = models.JSONField(default=list, blank=True)
    active = models.BooleanField(default=True)

    def __str__(self) -> str:
        return self.code


class ClientKey(models.Model):
    """A client application's Open311 key, kept only as its SHA-256 digest. A key bound to an agency
    (its exchange member code) also reads the personal details of the reports routed to it."""

    name = models.CharField(max_length=120)
    digest = models.CharField(max_length=64, unique=True)
    agency = models.CharField(max_length=40, blank=True, default="")
    created_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.name


class Status(models.TextChoices):
    OPEN = "open", _("Open")
    CLOSED = "closed", _("Closed")


class Report(models.Model):
    """A service request. ``token`` answers the Open311 token resource; ``merged_into`` points a
    duplicate at the report it was merged into."""

    token = models.CharField(max_length=40, unique=True)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="reports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    status_notes = models.CharField(max_length=1000, blank=True, default="")
    description = models.TextField(max_length=4000, blank=True, default="")
    # The agency handling it now (reassignment changes it); its exchange member code.
    agency = models.CharField(max_length=40)
    requested_at = models.DateTimeField(db_index=True)
    updated_at = models.DateTimeField()
    expected_at = models.DateTimeField()
    # When it was last closed (empty while open): the open data's time to close.
    closed_at = models.DateTimeField(null=True, blank=True)
    lat = models.FloatField(null=True, blank=True)
    lon = models.FloatField(null=True, blank=True)
    address = models.CharField(max_length=300, blank=True, default="")
    address_id = models.CharField(max_length=100, blank=True, default="")
    parish = models.CharField(max_length=10, blank=True, default="")
    media_url = models.URLField(max_length=1000, blank=True, default="")
    attributes = models.JSONField(default=dict, blank=True)
    merged_into = models.ForeignKey("self", on_delete=models.PROTECT, null=True, blank=True, related_name="duplicates")
    # Personal data: never in public answers, the map or the open data.
    person_uin = models.CharField(max_length=20, blank=True, default="", db_index=True)
    email = models.CharField(max_length=254, blank=True, default="")
    phone = models.CharField(max_length=40, blank=True, default="")
    first_name = models.CharField(max_length=100, blank=True, default="")
    last_name = models.CharField(max_length=100, blank=True, default="")
    device_id = models.CharField(max_length=100, blank=True, default="")
    account_id = models.CharField(max_length=100, blank=True, default="")
    client_key = models.ForeignKey(ClientKey, on_delete=models.PROTECT, null=True, blank=True)
    # The language the reporter wrote in: what they are told of the report is written in it.
    language = models.CharField(max_length=8, blank=True, default="en")

    class Meta:
        indexes = [
            models.Index(fields=["category", "requested_at"], name="concerns_report_cat_time"),
            models.Index(fields=["status", "requested_at"], name="concerns_report_status_time"),
            models.Index(fields=["agency", "status", "requested_at"], name="concerns_report_queue"),
        ]

    def __str__(self) -> str:
        return str(self.pk)


class Photo(models.Model):
    """A photo of a report, re-encoded as JPEG without its metadata."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="photos")
    jpeg = models.BinaryField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"photo {self.pk} of report {self.report_id}"


class NoteKind(models.TextChoices):
    INTERNAL = "internal", _("Internal note")
    PUBLIC = "public", _("Public update")


class Note(models.Model):
    """What an agency wrote on a report: an internal note, or a public update shown with it."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="notes")
    kind = models.CharField(max_length=10, choices=NoteKind.choices)
    text = models.TextField(max_length=4000)
    author = models.CharField(max_length=150)
    status = models.CharField(max_length=10, choices=Status.choices, blank=True, default="")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} note on report {self.report_id}"


class Notice(models.Model):
    """What a reporter must be told about their report: its status changed, or the agency wrote a
    public update. Written in the transaction of the change; the notification outbox takes it
    (``concerns.contracts.report_notices_pending``) and marks it told, so it is told exactly once."""

    report = models.ForeignKey(Report, on_delete=models.CASCADE, related_name="notices")
    # Whom to tell: the signed-in reporter's UIN, and/or the email address they left.
    uin = models.CharField(max_length=20, blank=True, default="")
    email = models.CharField(max_length=254, blank=True, default="")
    language = models.CharField(max_length=8, default="en")
    status = models.CharField(max_length=10, choices=Status.choices, blank=True, default="")
    text = models.CharField(max_length=1000, blank=True, default="")
    created_at = models.DateTimeField()
    told_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # Only the notices still to tell: the outbox's scan stays small however many were told.
            models.Index(fields=["id"], condition=models.Q(told_at__isnull=True), name="concerns_notice_pending"),
        ]

    def __str__(self) -> str:
        return f"notice {self.pk} on report {self.report_id}"
