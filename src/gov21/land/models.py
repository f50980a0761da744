"""The land register after the Land Administration Domain Model (ISO 19152): parties, spatial units
(parcels and buildings), rights, restrictions and responsibilities, the source documents behind
them, and the transactions that change them.

Nothing is overwritten. A spatial unit or a right is a row valid from the moment the transaction
that opened it was registered until the moment a later one closed it (``valid_to``, None while it
holds), so the register reads as of any moment by the same two comparisons.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from django.db import models
from django.utils.translation import gettext_lazy as _

from gov21.core.spatial import SpatialRecord


class PartyKind(models.TextChoices):
    PERSON = "person", _("Person")
    BUSINESS = "business", _("Business")
    AGENCY = "agency", _("Agency")
    GROUP = "group", _("Group")


class Party(models.Model):
    """Who holds a right: a person by UIN, a business by its registration number, an agency by its
    exchange member code, or a group (joint owners) whose members hold shares of it."""

    kind = models.CharField(max_length=10, choices=PartyKind.choices)
    # The UIN, registration number or member code; for a group, a key made of its members and shares.
    identifier = models.CharField(max_length=400)
    # As the register that holds the party named it when the party was first recorded.
    name = models.CharField(max_length=300, blank=True, default="")
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["kind", "identifier"], name="land_party_unique")]

    def __str__(self) -> str:
        return f"{self.kind}:{self.identifier}"


class GroupMember(models.Model):
    """A member of a group party and the share of the group's rights it holds (an exact fraction)."""

    group = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="members")
    member = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="memberships")
    share_numerator = models.PositiveIntegerField()
    share_denominator = models.PositiveIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["group", "member"], name="land_group_member_unique")]

    def __str__(self) -> str:
        return f"{self.member} {self.share} of {self.group}"

    @property
    def share(self) -> Fraction:
        return Fraction(self.share_numerator, self.share_denominator)


class TransactionKind(models.TextChoices):
    FIRST_REGISTRATION = "first_registration", _("First registration")
    TRANSFER = "transfer", _("Transfer on sale")
    INHERITANCE = "inheritance", _("Inheritance")
    MORTGAGE = "mortgage", _("Mortgage")
    DISCHARGE = "discharge", _("Discharge of a mortgage")
    LEASE = "lease", _("Lease")
    EASEMENT = "easement", _("Easement")
    SUBDIVISION = "subdivision", _("Subdivision")
    MERGER = "merger", _("Merger")


class TransactionState(models.TextChoices):
    LODGED = "lodged", _("Lodged")
    CHECKED = "checked", _("Checked")
    REGISTERED = "registered", _("Registered")
    REJECTED = "rejected", _("Rejected")


class Transaction(models.Model):
    """A change asked of the register: lodged, checked by someone else, then registered (or rejected
    with a reason). ``facts`` holds what was asked, in the shape of its kind's record."""

    number = models.CharField(max_length=20, unique=True)
    kind = models.CharField(max_length=20, choices=TransactionKind.choices)
    state = models.CharField(max_length=12, choices=TransactionState.choices, default=TransactionState.LODGED)
    # The parcels it concerns, by number (the parcels as they stood when it was lodged).
    parcels = models.JSONField(default=list)
    facts = models.JSONField(default=dict)
    lodged_by = models.CharField(max_length=150)
    lodged_at = models.DateTimeField()
    checked_by = models.CharField(max_length=150, blank=True, default="")
    checked_at = models.DateTimeField(null=True, blank=True)
    registered_by = models.CharField(max_length=150, blank=True, default="")
    registered_at = models.DateTimeField(null=True, blank=True)
    rejection_reason = models.CharField(max_length=500, blank=True, default="")
    # The parcel numbers it made (a first registration, a subdivision, a merger), once registered.
    made = models.JSONField(default=list)
    sources: models.ManyToManyField[Source, Any] = models.ManyToManyField(
        "Source", blank=True, related_name="transactions"
    )

    class Meta:
        indexes = [models.Index(fields=["state", "lodged_at"], name="land_tx_state")]

    def __str__(self) -> str:
        return self.number


class TransactionStep(models.Model):
    """One move of a transaction through its workflow, with its author."""

    transaction = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="steps")
    from_state = models.CharField(max_length=12, blank=True, default="")
    to_state = models.CharField(max_length=12)
    actor = models.CharField(max_length=150)
    at = models.DateTimeField()
    reason = models.CharField(max_length=500, blank=True, default="")

    def __str__(self) -> str:
        return f"{self.transaction_id}: {self.from_state} -> {self.to_state}"


class Counter(models.Model):
    """The last number given in a series (transactions of a year, parcels of a parish), incremented
    under the row's lock in the transaction that uses it, so numbers are unique and gap-free."""

    series = models.CharField(max_length=40, unique=True)
    last = models.PositiveIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.series}: {self.last}"


class Versioned(models.Model):
    """A row valid from the registration of the transaction that opened it until one closed it."""

    valid_from = models.DateTimeField()
    valid_to = models.DateTimeField(null=True, blank=True)
    opened_by = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+")
    closed_by = models.ForeignKey(Transaction, on_delete=models.PROTECT, related_name="+", null=True, blank=True)

    class Meta:
        abstract = True


class Parcel(SpatialRecord, Versioned):
    """A version of a parcel: its boundary (CRS84), its area measured in the projected CRS, its number
    (kept by every version; a subdivision or merger retires numbers and gives new ones), its parish
    and its land use."""

    number = models.CharField(max_length=30)
    parish = models.CharField(max_length=10)
    area_m2 = models.FloatField()
    land_use = models.CharField(max_length=30, default="residential")

    class Meta:
        indexes = [
            models.Index(fields=["number", "valid_to"], name="land_parcel_number"),
            # A box query reads the current parcels through this index (see core.spatial.bbox_filter).
            models.Index(fields=["valid_to", "min_lon", "max_lon", "min_lat", "max_lat"], name="land_parcel_box"),
        ]

    def __str__(self) -> str:
        return self.number


class Building(SpatialRecord, Versioned):
    """A building's footprint, on the parcel it stands on (by number)."""

    parcel_number = models.CharField(max_length=30)
    use = models.CharField(max_length=30, default="dwelling")
    storeys = models.PositiveSmallIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["parcel_number", "valid_to"], name="land_building_parcel"),
            models.Index(fields=["valid_to", "min_lon", "max_lon", "min_lat", "max_lat"], name="land_building_box"),
        ]

    def __str__(self) -> str:
        return f"building on {self.parcel_number}"


class RightKind(models.TextChoices):
    OWNERSHIP = "ownership", _("Ownership")
    STATE_LAND = "state_land", _("State land")
    LEASE = "lease", _("Lease")
    MORTGAGE = "mortgage", _("Mortgage")
    EASEMENT = "easement", _("Easement")


class Right(Versioned):
    """A right, restriction or responsibility on a parcel held by a party (LADM's RRR). Ownership and
    state land are the title; leases, mortgages and easements encumber it."""

    parcel_number = models.CharField(max_length=30)
    kind = models.CharField(max_length=12, choices=RightKind.choices)
    party = models.ForeignKey(Party, on_delete=models.PROTECT, related_name="rights")
    # A mortgage's principal in cents, a lease's end, an easement's description.
    amount_cents = models.BigIntegerField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    description = models.CharField(max_length=300, blank=True, default="")

    class Meta:
        indexes = [
            models.Index(fields=["parcel_number", "valid_to"], name="land_right_parcel"),
            models.Index(fields=["party", "valid_to"], name="land_right_party"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} on {self.parcel_number}"


class SourceKind(models.TextChoices):
    DEED = "deed", _("Deed")
    SURVEY_PLAN = "survey_plan", _("Survey plan")
    COURT_ORDER = "court_order", _("Court order")
    POWER_OF_ATTORNEY = "power_of_attorney", _("Power of attorney")
    DEATH_CERTIFICATE = "death_certificate", _("Death certificate")


class Source(models.Model):
    """A document behind a transaction, stored as a file under the data directory named by its
    SHA-256, and checked against it whenever it is read."""

    sha256 = models.CharField(max_length=64, unique=True)
    kind = models.CharField(max_length=20, choices=SourceKind.choices)
    filename = models.CharField(max_length=200)
    media_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    uploaded_by = models.CharField(max_length=150)
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.kind} {self.sha256[:12]}"


class Extract(models.Model):
    """A title extract issued as a signed document: what the register said of a parcel at a moment."""

    serial = models.CharField(max_length=30, unique=True)
    parcel_number = models.CharField(max_length=30)
    as_of = models.DateTimeField()
    credential = models.TextField()
    issued_by = models.CharField(max_length=150)
    issued_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.serial


class ReceivedEvent(models.Model):
    """An event the land register received from the exchange, so a redelivery is handled once."""

    event_type = models.CharField(max_length=100)
    seq = models.BigIntegerField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_type", "seq"], name="land_event_once")]

    def __str__(self) -> str:
        return f"{self.event_type}#{self.seq}"
