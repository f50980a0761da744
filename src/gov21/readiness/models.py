"""Published external indices (the UN EGDI, one row per country and survey year) and the record of
each import; the skills survey's anonymous answers."""

from __future__ import annotations

from django.db import models


class EgdiImport(models.Model):
    """One loaded survey year: which file (by its SHA-256), when, and the countries whose published
    EGDI differs from the mean of its components."""

    year = models.PositiveSmallIntegerField(unique=True)
    sha256 = models.CharField(max_length=64)
    countries = models.PositiveSmallIntegerField()
    discrepancies = models.JSONField(default=list)
    imported_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"EGDI {self.year}"


class EgdiCountry(models.Model):
    """A country's published EGDI and components in one survey year, as published (None: missing)."""

    survey = models.ForeignKey(EgdiImport, on_delete=models.CASCADE, related_name="rows")
    country_code = models.CharField(max_length=3)
    country_name = models.CharField(max_length=120)
    published_rank = models.PositiveSmallIntegerField(null=True)
    egdi = models.FloatField(null=True)
    epart = models.FloatField(null=True)
    osi = models.FloatField(null=True)
    hci = models.FloatField(null=True)
    tii = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["survey", "country_code"], name="readiness_egdi_once")]
        ordering = ["country_code"]

    def __str__(self) -> str:
        return f"{self.country_code} {self.survey_id}"
