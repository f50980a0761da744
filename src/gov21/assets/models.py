"""The register of public assets (buildings, roads, utilities, ports and airstrips) with their
inspections, and the disasters declared over them with the damage found. Every geometry is stored as
``core.spatial`` stores it (WKB in CRS84 beside its box). Inspections, changes and damage
assessments are added, never overwritten."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from gov21.core.spatial import SpatialRecord


class AssetKind(models.TextChoices):
    SCHOOL = "school", _("School")
    CLINIC = "clinic", _("Clinic")
    HOSPITAL = "hospital", _("Hospital")
    POLICE = "police", _("Police station")
    SHELTER = "shelter", _("Shelter")
    ROAD = "road", _("Road")
    WATER_MAIN = "water_main", _("Water main")
    POWER_LINE = "power_line", _("Power line")
    SUBSTATION = "substation", _("Substation")
    PORT = "port", _("Port")
    AIRSTRIP = "airstrip", _("Airstrip")


class Condition(models.TextChoices):
    GOOD = "good", _("Good")
    FAIR = "fair", _("Fair")
    POOR = "poor", _("Poor")
    UNUSABLE = "unusable", _("Unusable")


class Criticality(models.TextChoices):
    LOW = "low", _("Low")
    MEDIUM = "medium", _("Medium")
    HIGH = "high", _("High")
    CRITICAL = "critical", _("Critical")


class RoadClass(models.TextChoices):
    PRIMARY = "primary", _("Primary")
    SECONDARY = "secondary", _("Secondary")
    TERTIARY = "tertiary", _("Tertiary")
    TRACK = "track", _("Track")


class RoadSurface(models.TextChoices):
    PAVED = "paved", _("Paved")
    GRAVEL = "gravel", _("Gravel")
    EARTH = "earth", _("Earth")


class EventKind(models.TextChoices):
    HURRICANE = "hurricane", _("Hurricane")
    FLOOD = "flood", _("Flood")
    EARTHQUAKE = "earthquake", _("Earthquake")
    LANDSLIDE = "landslide", _("Landslide")
    FIRE = "fire", _("Fire")


class DamageLevel(models.TextChoices):
    NONE = "none", _("None")
    MINOR = "minor", _("Minor")
    MAJOR = "major", _("Major")
    DESTROYED = "destroyed", _("Destroyed")


class Asset(SpatialRecord):
    """A public asset as it stands now; its earlier states are in ``AssetChange``."""

    code = models.CharField(max_length=40, unique=True)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=20, choices=AssetKind.choices)
    # The exchange member code of the agency that owns it (MOE, MOH, PWD...).
    agency = models.CharField(max_length=40)
    # The parish its representative point lies in ("" when it lies in none: offshore).
    parish = models.CharField(max_length=12, blank=True)
    condition = models.CharField(max_length=10, choices=Condition.choices)
    replacement_value_cents = models.BigIntegerField()
    currency = models.CharField(max_length=3)
    criticality = models.CharField(max_length=10, choices=Criticality.choices)
    # Shelter places, hospital beds, school pupils: None when the kind has none.
    capacity = models.PositiveIntegerField(null=True, blank=True)
    road_class = models.CharField(max_length=10, choices=RoadClass.choices, blank=True)
    road_surface = models.CharField(max_length=10, choices=RoadSurface.choices, blank=True)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        indexes = [
            # A box query filters on all four columns; the west edge leads because a country is wider than tall.
            models.Index(fields=["min_lon", "max_lon", "min_lat", "max_lat"], name="asset_box_idx"),
            models.Index(fields=["kind", "parish"], name="asset_kind_parish_idx"),
            models.Index(fields=["agency"], name="asset_agency_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.name}"


class AssetChange(models.Model):
    """One version of an asset as it was written: the whole record, who wrote it, when and why."""

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="changes")
    version = models.PositiveIntegerField()
    data = models.JSONField()
    reason = models.CharField(max_length=300)
    changed_by = models.CharField(max_length=150)
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["asset", "version"], name="asset_change_uniq")]

    def __str__(self) -> str:
        return f"{self.asset_id} v{self.version}"


class Inspection(models.Model):
    """An inspection of an asset on a day: the condition found and the inspector's notes."""

    asset = models.ForeignKey(Asset, on_delete=models.PROTECT, related_name="inspections")
    inspected_on = models.DateField()
    condition = models.CharField(max_length=10, choices=Condition.choices)
    notes = models.TextField(blank=True)
    inspector = models.CharField(max_length=150)
    recorded_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["asset", "inspected_on"], name="inspection_asset_idx")]

    def __str__(self) -> str:
        return f"{self.asset_id} {self.inspected_on} {self.condition}"


class DisasterEvent(SpatialRecord):
    """A declared disaster and the area it struck (a polygon, or a track buffered by a radius)."""

    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=12, choices=EventKind.choices)
    occurred_on = models.DateField()
    # When the area was given as a track: the radius it was buffered by (km); None for a polygon.
    buffer_km = models.FloatField(null=True, blank=True)
    track_wkb = models.BinaryField(null=True, blank=True)
    area_km2 = models.FloatField()
    declared_by = models.CharField(max_length=150)
    declared_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.name


class ResidentsPurpose(models.TextChoices):
    """The lawful purposes for which the civil registry names the residents of a place struck."""

    WELFARE_CHECK = "welfare_check", _("Welfare check")
    EVACUATION = "evacuation", _("Evacuation")
    RELIEF_DISTRIBUTION = "relief_distribution", _("Relief distribution")


class ResidentsListing(models.Model):
    """An officer's statement of why they need the residents of a disaster's area by name: the
    lawful purpose, the reason in their own words, and the settlement (none: every settlement in the
    area). Every page of names read under it carries it to the civil registry, and from there to each
    person named. Kept as stated, never changed."""

    event = models.ForeignKey(DisasterEvent, on_delete=models.PROTECT, related_name="listings")
    purpose = models.CharField(max_length=20, choices=ResidentsPurpose.choices)
    reason = models.CharField(max_length=250)
    parish = models.CharField(max_length=12, blank=True)
    settlement = models.CharField(max_length=120, blank=True)
    stated_by = models.CharField(max_length=150)
    stated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.event_id}: {self.purpose} by {self.stated_by}"


class DamageAssessment(models.Model):
    """The damage found to an asset, or to a land parcel by its number, after an event. A later
    assessment of the same thing stands over the earlier one, which is kept."""

    event = models.ForeignKey(DisasterEvent, on_delete=models.PROTECT, related_name="assessments")
    asset = models.ForeignKey(Asset, null=True, blank=True, on_delete=models.PROTECT, related_name="assessments")
    parcel_number = models.CharField(max_length=60, blank=True)
    # For a parcel, the parish the assessor names; for an asset, the asset's own.
    parish = models.CharField(max_length=12, blank=True)
    level = models.CharField(max_length=10, choices=DamageLevel.choices)
    notes = models.TextField(blank=True)
    assessed_by = models.CharField(max_length=150)
    assessed_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(models.Q(asset__isnull=False) & models.Q(parcel_number=""))
                | (models.Q(asset__isnull=True) & ~models.Q(parcel_number="")),
                name="assessment_asset_or_parcel",
            )
        ]
        indexes = [models.Index(fields=["event", "asset"], name="assessment_event_asset_idx")]

    def __str__(self) -> str:
        return f"{self.event_id} {self.asset_id or self.parcel_number} {self.level}"


class DamagePhoto(models.Model):
    """A photograph of damage, stored under the data directory by the SHA-256 of its bytes."""

    assessment = models.ForeignKey(DamageAssessment, on_delete=models.PROTECT, related_name="photos")
    sha256 = models.CharField(max_length=64)
    media_type = models.CharField(max_length=20)
    size = models.PositiveIntegerField()
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    uploaded_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.sha256
