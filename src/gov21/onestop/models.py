"""The one-stop shop's tables: service definitions (versioned), applications and their history,
offers made proactively, documents issued, the agency registers the services keep (licences,
benefits, business names), notifications, payments and feedback."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from gov21.core.outbox import OutboxRow


class ServiceDefinition(models.Model):
    """One version of a service, as loaded from its definition file or edited by an administrator.
    Versions are never changed once an application uses them: a change is a new version."""

    code = models.CharField(max_length=64)
    version = models.PositiveIntegerField()
    definition = models.JSONField()
    digest = models.CharField(max_length=64)
    active = models.BooleanField(default=True)
    source = models.CharField(max_length=200, default="file")
    created_at = models.DateTimeField()
    created_by = models.CharField(max_length=150, default="")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="service_version_unique")]
        indexes = [models.Index(fields=["code", "active"])]

    def __str__(self) -> str:
        return f"{self.code} v{self.version}"


class Application(models.Model):
    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        SUBMITTED = "submitted", _("Submitted")
        AWAITING_CONFIRMATION = "awaiting_confirmation", _("Waiting for the other party to confirm")
        AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
        IN_REVIEW = "in_review", _("With an officer")
        INFO_REQUESTED = "info_requested", _("More information requested")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")
        REVIEW_REQUESTED = "review_requested", _("Review requested")
        COMPLETED = "completed", _("Completed")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    reference = models.CharField(max_length=20, unique=True)
    service = models.ForeignKey(ServiceDefinition, on_delete=models.PROTECT, related_name="applications")
    applicant_uin = models.CharField(max_length=10, db_index=True)
    applicant_user = models.IntegerField(null=True)
    state = models.CharField(max_length=24, choices=State.choices, default=State.DRAFT, db_index=True)
    answers = models.JSONField(default=dict)
    verified = models.JSONField(default=dict)
    consent_at = models.DateTimeField(null=True)
    language = models.CharField(max_length=8, default="en")
    checks = models.JSONField(default=list)
    decision = models.CharField(max_length=20, default="")
    decided_by = models.CharField(max_length=150, default="")
    reasons = models.JSONField(default=list)
    info_request = models.TextField(default="")
    agency = models.CharField(max_length=64, default="", db_index=True)
    assigned_to = models.CharField(max_length=150, default="", db_index=True)
    offer = models.ForeignKey("Offer", null=True, on_delete=models.SET_NULL, related_name="applications")
    external_ref = models.CharField(max_length=64, default="", db_index=True)
    created_at = models.DateTimeField()
    submitted_at = models.DateTimeField(null=True)
    due_at = models.DateTimeField(null=True, db_index=True)
    decided_at = models.DateTimeField(null=True)
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["agency", "state", "due_at"])]

    def __str__(self) -> str:
        return self.reference


class Transition(models.Model):
    """Every change of an application's state, with who made it and why."""

    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="transitions")
    from_state = models.CharField(max_length=24)
    to_state = models.CharField(max_length=24)
    actor = models.CharField(max_length=150)
    actor_kind = models.CharField(max_length=16)  # citizen | staff | system
    note = models.TextField(default="")
    at = models.DateTimeField()

    class Meta:
        ordering = ["at", "id"]

    def __str__(self) -> str:
        return f"{self.application_id}: {self.from_state} → {self.to_state}"


class ReviewRequest(models.Model):
    """An applicant's request that a refusal be looked at again by an officer who did not make it.
    Written once, never changed: its outcome is a :class:`ReviewDecision`, written once too, and each
    step is also a :class:`Transition` of the application. One request per decision, kept by the
    database: ``decision_at`` is the time of the decision asked about."""

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="review_requests")
    decision_at = models.DateTimeField()
    # Who made the decision under review: the one officer who may not decide the review.
    decision_by = models.CharField(max_length=150)
    requested_by = models.CharField(max_length=10)
    requested_at = models.DateTimeField()
    disagreement = models.TextField()
    new_information = models.TextField(default="")
    working_days = models.PositiveSmallIntegerField()
    due_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["application", "decision_at"], name="review_once_per_decision")]

    def __str__(self) -> str:
        return f"review of {self.application_id} asked {self.requested_at:%Y-%m-%d}"


class ReviewDecision(models.Model):
    """An officer's decision on a review: the refusal upheld, or overturned (the application is then
    approved), with the reason the applicant reads. Written once."""

    class Outcome(models.TextChoices):
        UPHELD = "upheld", _("The refusal is upheld")
        OVERTURNED = "overturned", _("The refusal is overturned")

    request = models.OneToOneField(ReviewRequest, on_delete=models.PROTECT, related_name="decision")
    outcome = models.CharField(max_length=12, choices=Outcome.choices)
    reason = models.TextField()
    decided_by = models.CharField(max_length=150)
    decided_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.outcome} ({self.request_id})"


class Offer(models.Model):
    """A service offered to a person because of an event a registry published (e.g. child benefit
    after a birth): the person confirms with one action or declines."""

    class State(models.TextChoices):
        OPEN = "open", pgettext_lazy("offer", "Open")
        ACCEPTED = "accepted", pgettext_lazy("offer", "Accepted")
        DECLINED = "declined", pgettext_lazy("offer", "Declined")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    uin = models.CharField(max_length=10, db_index=True)
    service_code = models.CharField(max_length=64)
    facts = models.JSONField(default=dict)
    source_event = models.CharField(max_length=100)
    state = models.CharField(max_length=12, choices=State.choices, default=State.OPEN)
    created_at = models.DateTimeField()
    answered_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["uin", "service_code", "source_event"], name="offer_once_per_event")
        ]

    def __str__(self) -> str:
        return f"{self.service_code} for {self.uin}"


class Document(models.Model):
    """A document a service issued (licence, registration, benefit award), with its signed credential."""

    class Status(models.TextChoices):
        VALID = "valid", _("Valid")
        REVOKED = "revoked", _("Revoked")
        EXPIRED = "expired", _("Expired")

    serial = models.CharField(max_length=24, unique=True)
    kind = models.CharField(max_length=40)
    title = models.CharField(max_length=200)
    holder_uin = models.CharField(max_length=10, db_index=True)
    agency = models.CharField(max_length=64)
    application = models.ForeignKey(Application, null=True, on_delete=models.SET_NULL, related_name="documents")
    facts = models.JSONField(default=list)
    credential = models.TextField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.VALID)
    status_reason = models.CharField(max_length=300, default="")
    issued_at = models.DateTimeField()
    valid_until = models.DateField(null=True)

    def __str__(self) -> str:
        return self.serial


class LicenceStatus(models.TextChoices):
    """Where a driving licence stands, in the words its holder reads."""

    VALID = "valid", _("Valid")
    EXPIRED = "expired", _("Expired")
    SUSPENDED = "suspended", _("Suspended")
    CLOSED = "closed", _("Closed")


class Licence(models.Model):
    """The licensing authority's register of driving licences."""

    number = models.CharField(max_length=16, unique=True)
    holder_uin = models.CharField(max_length=10, db_index=True)
    classes = models.CharField(max_length=20, default="B")
    status = models.CharField(max_length=12, default="valid")  # valid | expired | suspended | closed
    issued_on = models.DateField()
    expires_on = models.DateField()
    closed_reason = models.CharField(max_length=200, default="")

    def __str__(self) -> str:
        return self.number

    def current_status(self) -> str:
        from django.utils import timezone

        if self.status == "valid" and self.expires_on < timezone.localdate():
            return "expired"
        return self.status


class BenefitStatus(models.TextChoices):
    ACTIVE = "active", _("Being paid")
    CLOSED = "closed", _("Stopped")


class BenefitKind(models.TextChoices):
    CHILD_BENEFIT = "child-benefit", _("Child benefit")


class Benefit(models.Model):
    """The social development ministry's register of benefit awards."""

    kind = models.CharField(max_length=40)
    claimant_uin = models.CharField(max_length=10, db_index=True)
    beneficiary_uin = models.CharField(max_length=10, default="", db_index=True)
    status = models.CharField(max_length=12, default="active")  # active | closed
    weekly_amount = models.IntegerField(default=0)
    started_on = models.DateField()
    closed_on = models.DateField(null=True)
    closed_reason = models.CharField(max_length=200, default="")
    application = models.ForeignKey(Application, null=True, on_delete=models.SET_NULL)

    def __str__(self) -> str:
        return f"{self.kind} {self.pk}"


class Business(models.Model):
    """The register of business names."""

    number = models.CharField(max_length=16, unique=True)
    name = models.CharField(max_length=120)
    name_key = models.CharField(max_length=120, unique=True)
    owner_uin = models.CharField(max_length=10, db_index=True)
    activity = models.CharField(max_length=200)
    address = models.CharField(max_length=300)
    status = models.CharField(max_length=12, default="registered")
    registered_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.number} {self.name}"


class Notification(OutboxRow):
    """One message to one person on one channel: an outbox row (``core.outbox``), sent after the
    change that caused it committed, retried with backoff until delivered or failed for good."""

    class Status(models.TextChoices):
        CREATED = "created", pgettext_lazy("notification", "Created")
        SENDING = "sending", pgettext_lazy("notification", "Sending")
        DELIVERED = "delivered", pgettext_lazy("notification", "Delivered")
        FAILED = "failed", pgettext_lazy("notification", "Failed")

    uin = models.CharField(max_length=10, db_index=True)
    channel = models.CharField(max_length=8)  # inbox | email | sms
    address = models.CharField(max_length=200, default="")
    template = models.CharField(max_length=80)
    language = models.CharField(max_length=8, default="en")
    subject = models.CharField(max_length=200, default="")
    body = models.TextField()
    link = models.CharField(max_length=200, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED, db_index=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True)
    read_at = models.DateTimeField(null=True)

    def __str__(self) -> str:
        return f"{self.channel} {self.template} ({self.status})"


class Payment(models.Model):
    class Status(models.TextChoices):
        CREATED = "created", pgettext_lazy("payment", "Created")
        STARTED = "started", pgettext_lazy("payment", "Started")
        SUCCESS = "success", pgettext_lazy("payment", "Paid")
        FAILED = "failed", pgettext_lazy("payment", "Failed")
        CANCELLED = "cancelled", pgettext_lazy("payment", "Cancelled")

    application = models.ForeignKey(Application, on_delete=models.PROTECT, related_name="payments")
    amount = models.PositiveIntegerField()  # in cents
    currency = models.CharField(max_length=3)
    method = models.CharField(max_length=12)  # counter | hosted
    provider_id = models.CharField(max_length=64, default="", db_index=True)
    next_url = models.CharField(max_length=500, default="")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.CREATED)
    confirmed_by = models.CharField(max_length=150, default="")
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.method} payment {self.pk} ({self.status})"


class Feedback(models.Model):
    service_code = models.CharField(max_length=64, default="", db_index=True)
    application_ref = models.CharField(max_length=20, default="")
    rating = models.PositiveSmallIntegerField(null=True)
    comment = models.TextField(default="")
    page = models.CharField(max_length=200, default="")
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"feedback {self.pk}"


class DataConsent(models.Model):
    """A citizen's consent, before an application, to have named facts fetched from registries."""

    uin = models.CharField(max_length=10, db_index=True)
    application = models.ForeignKey(Application, on_delete=models.CASCADE, related_name="consents")
    sources = models.JSONField(default=list)
    given_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"consent {self.pk} ({self.uin})"


class ReceivedEvent(models.Model):
    """Events already acted on: delivery is at least once, the effect exactly once."""

    event_type = models.CharField(max_length=64)
    seq = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_type", "seq"], name="received_event_once")]

    def __str__(self) -> str:
        return f"{self.event_type}#{self.seq}"
