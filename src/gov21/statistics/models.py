from __future__ import annotations

from django.db import models


class TableRelease(models.Model):
    """One numbered release of a statistical table, as published after disclosure control: every
    cell (margins included) in the order of ``disclosure.full_cells``, null where suppressed. Which
    suppressed cells were small is kept here, never published: the audit of the next release needs it."""

    dataset = models.CharField(max_length=100)
    version = models.PositiveIntegerField()
    year = models.PositiveIntegerField()
    created_at = models.DateTimeField()
    shape = models.JSONField()
    values = models.JSONField()
    primary = models.JSONField()
    # The interior counts the release was protected from, flattened in the order of the interior
    # cells of ``disclosure.full_cells``; kept here, never published: the next release's audit starts from
    # them (decision 0074). Null for releases made before they were kept.
    counts = models.JSONField(null=True, blank=True)
    # What the protection cost: suppressed cells, and the share of the counted people in them.
    suppressed = models.PositiveIntegerField()
    hidden_share = models.FloatField()
    # The data portal's version and datastore resource, once published there.
    portal_version = models.PositiveIntegerField(null=True, blank=True)
    portal_resource = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["dataset", "version"], name="statistics_release_number")]
        indexes = [models.Index(fields=["dataset", "-version"], name="statistics_release_latest")]

    def __str__(self) -> str:
        return f"{self.dataset} v{self.version}"


class TableCount(models.Model):
    """The office's latest count of a table (interior cells, in the order of ``TableRelease.counts``),
    kept whether or not it changed anything published: never published, it is what an event's
    recount is compared with, and what a rebuild from scratch must find again (decision 0074)."""

    dataset = models.CharField(max_length=100, unique=True)
    year = models.PositiveIntegerField()
    counted_at = models.DateTimeField()
    shape = models.JSONField()
    counts = models.JSONField()

    def __str__(self) -> str:
        return f"{self.dataset} counted {self.counted_at:%Y-%m-%d %H:%M}"


class Forecast(models.Model):
    """One run of the population projection and service demand forecasts with its back-test
    (``statistics.forecasting``): model outputs from counts, nobody in them. ``result`` holds the
    years, the quantiles of every series and the back-test's errors."""

    created_at = models.DateTimeField()
    base_year = models.PositiveIntegerField()
    result = models.JSONField()

    class Meta:
        indexes = [models.Index(fields=["-created_at"], name="statistics_forecast_latest")]

    def __str__(self) -> str:
        return f"forecast from {self.base_year} ({self.created_at:%Y-%m-%d})"


class ApplicationEvent(models.Model):
    """One application event of the one-stop shop as the statistics office received it through the
    exchange: the service, the day and the outcome, nobody in it."""

    event_type = models.CharField(max_length=40)
    seq = models.BigIntegerField()
    service = models.CharField(max_length=64)
    agency = models.CharField(max_length=64, blank=True)
    day = models.DateField()
    decision = models.CharField(max_length=10, blank=True)
    automatic = models.BooleanField(null=True)
    hours = models.FloatField(null=True)
    target_hours = models.FloatField(null=True)
    within_target = models.BooleanField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["event_type", "seq"], name="statistics_application_event")]
        indexes = [models.Index(fields=["day"], name="statistics_application_day")]

    def __str__(self) -> str:
        return f"{self.event_type} #{self.seq}"
