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


class Assessment(models.Model):
    """One agency's self-assessment in one round, against one version of the questionnaire: answered
    by its staff, then signed off by a reviewer who answered none of it; signed, it is read-only."""

    agency = models.CharField(max_length=40)
    round = models.PositiveSmallIntegerField()
    questionnaire_version = models.CharField(max_length=20)
    opened_by = models.CharField(max_length=150)
    opened_at = models.DateTimeField()
    signed_off_by = models.CharField(max_length=150, blank=True)
    signed_off_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["agency", "round"], name="readiness_assessment_once")]

    def __str__(self) -> str:
        return f"{self.agency} {self.round}"


class Answer(models.Model):
    """The maturity level an agency claims on one pillar, and the evidence for it: a link, or a file
    kept under the data directory by its SHA-256."""

    assessment = models.ForeignKey(Assessment, on_delete=models.CASCADE, related_name="answers")
    pillar = models.CharField(max_length=40)
    level = models.PositiveSmallIntegerField()
    evidence_url = models.URLField(max_length=500, blank=True)
    evidence_name = models.CharField(max_length=200, blank=True)
    evidence_sha256 = models.CharField(max_length=64, blank=True)
    answered_by = models.CharField(max_length=150)
    answered_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["assessment", "pillar"], name="readiness_answer_once")]

    def __str__(self) -> str:
        return f"{self.assessment_id} {self.pillar}"


class SkillsRound(models.Model):
    """A round of the public service's ICT skills survey. ``salt`` keys the one-way marks that stop
    a person answering twice without recording who answered what."""

    code = models.CharField(max_length=40, unique=True)
    title = models.CharField(max_length=200)
    framework_version = models.CharField(max_length=20)
    salt = models.CharField(max_length=64)
    opened_at = models.DateTimeField()
    # A closed round takes no more answers; its gaps stay readable.
    closed_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return self.code


class SkillsResponse(models.Model):
    """One anonymous answer: the ministry, the role and a level per competency; no person, no time
    finer than the day (a time would let the answer be matched to a sign-in)."""

    round = models.ForeignKey(SkillsRound, on_delete=models.CASCADE, related_name="responses")
    ministry = models.CharField(max_length=40)
    role = models.CharField(max_length=40)
    levels = models.JSONField()
    answered_on = models.DateField()

    def __str__(self) -> str:
        return f"{self.round_id} {self.ministry} {self.role}"


class SkillsParticipation(models.Model):
    """That someone answered a round: an HMAC of their name under the round's salt, held apart from
    the answers (no key joins them)."""

    round = models.ForeignKey(SkillsRound, on_delete=models.CASCADE, related_name="participations")
    mark = models.CharField(max_length=64)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "mark"], name="readiness_skills_once")]

    def __str__(self) -> str:
        return self.mark[:8]


class RegionalMember(models.Model):
    """On a regional hub: which exchange instance speaks for which country."""

    instance = models.CharField(max_length=20, unique=True)
    country_code = models.CharField(max_length=3, unique=True)

    def __str__(self) -> str:
        return f"{self.instance} {self.country_code}"


class RegionalSubmission(models.Model):
    """On a regional hub: a country's self-assessment for a round, as its national instance sent it
    through the exchange (signed by the sending member; ``message_id`` names the logged message).
    A country sends a round again to correct it: the newer replaces the older."""

    country_code = models.CharField(max_length=3)
    round = models.PositiveSmallIntegerField()
    client = models.CharField(max_length=200)
    message_id = models.CharField(max_length=100)
    agencies = models.PositiveSmallIntegerField()
    # pillar -> mean maturity level of the country's signed-off agencies, from 0 to 4
    levels = models.JSONField()
    received_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["country_code", "round"], name="readiness_submission_once")]

    def __str__(self) -> str:
        return f"{self.country_code} {self.round}"


class IndicatorRound(models.Model):
    """One measurement of the live indicators: when, and how long it took. Rounds are kept, so that
    each can be compared with the last."""

    measured_at = models.DateTimeField(unique=True)
    seconds = models.FloatField(default=0.0)

    class Meta:
        ordering = ["-measured_at"]

    def __str__(self) -> str:
        return f"indicators {self.measured_at:%Y-%m-%d %H:%M}"


class IndicatorValue(models.Model):
    """One live indicator in one round: its value, and the numerator and denominator it was computed
    from (None where the indicator is not a share, or could not be computed: nothing to count)."""

    round = models.ForeignKey(IndicatorRound, on_delete=models.CASCADE, related_name="values")
    code = models.CharField(max_length=40)
    value = models.FloatField(null=True)
    numerator = models.FloatField(null=True)
    denominator = models.FloatField(null=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "code"], name="readiness_indicator_once")]

    def __str__(self) -> str:
        return f"{self.round_id} {self.code}"


class AccessibilityCheck(models.Model):
    """A page of the public portal checked against the WCAG rules that can be checked on its HTML,
    in one round: which rules failed (empty: the page passed)."""

    round = models.ForeignKey(IndicatorRound, on_delete=models.CASCADE, related_name="pages")
    path = models.CharField(max_length=200)
    status = models.PositiveSmallIntegerField()
    failures = models.JSONField(default=list)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["round", "path"], name="readiness_a11y_once")]

    def __str__(self) -> str:
        return f"{self.round_id} {self.path}"
