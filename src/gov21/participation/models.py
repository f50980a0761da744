"""E-participation: processes run by an agency (petitions, participatory budgets, consultations, surveys),
their signatures, ballots, comments, opinion statements and the public moderation log.

No row holds a UIN: a person appears only as a pseudonym, an HMAC of their UIN under a key of the
process's own, so the same person is the same pseudonym within one process and unlinkable across
processes. One person, one signature or ballot is a UNIQUE constraint on (process, pseudonym)."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _


class Process(models.Model):
    class Kind(models.TextChoices):
        PETITION = "petition", _("Petition")
        BUDGET = "budget", _("Participatory budget")
        CONSULTATION = "consultation", _("Consultation")
        SURVEY = "survey", _("Survey")
        PROPOSALS = "proposals", _("Citizens' proposals")

    class Phase(models.TextChoices):
        INFORMATION = "information", _("Information")
        CONSULTATION = "consultation", _("Consultation")
        PROPOSALS = "proposals", _("Proposals")
        VOTING = "voting", _("Voting")
        RESULTS = "results", _("Results")
        FOLLOW_UP = "follow-up", _("Follow-up")

    slug = models.SlugField(max_length=60, unique=True)
    kind = models.CharField(max_length=16, choices=Kind.choices)
    title = models.CharField(max_length=200)
    summary = models.TextField(default="")
    # The exchange member (agency) that runs the process and must answer it.
    agency = models.CharField(max_length=20)
    # The parish whose residents take part; empty for the whole country.
    parish = models.CharField(max_length=10, default="", blank=True)
    phase = models.CharField(max_length=16, choices=Phase.choices, default=Phase.INFORMATION)
    opens_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    # Signatures after which the agency must answer publicly (petitions); 0 for none.
    threshold = models.PositiveIntegerField(default=0)
    budget_cents = models.BigIntegerField(default=0)
    # Days a citizens' proposal collects supports, from the day it is made (proposals only).
    support_days = models.PositiveSmallIntegerField(default=90)
    answer = models.TextField(default="")
    answered_at = models.DateTimeField(null=True)
    # Names the file of the process's pseudonym key under the data directory (never the key itself).
    key_id = models.CharField(max_length=32, unique=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return self.slug


class Signature(models.Model):
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="signatures")
    pseudonym = models.CharField(max_length=64)
    signed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "pseudonym"], name="one_signature_per_person")]

    def __str__(self) -> str:
        return f"signature {self.pk}"


class Project(models.Model):
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="projects")
    code = models.SlugField(max_length=40)
    title = models.CharField(max_length=200)
    cost_cents = models.BigIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "code"], name="one_project_code_per_process")]
        ordering = ["code"]

    def __str__(self) -> str:
        return self.code


class Ballot(models.Model):
    """A person's current choice in a budget vote; replaced (with a new receipt) when they change it."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="ballots")
    pseudonym = models.CharField(max_length=64)
    # SHA-256 of the receipt code only the voter was shown: published beside the choice.
    receipt_digest = models.CharField(max_length=64, unique=True)
    projects = models.JSONField()  # sorted project codes
    cast_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "pseudonym"], name="one_ballot_per_person")]

    def __str__(self) -> str:
        return f"ballot {self.pk}"


class Comment(models.Model):
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="comments")
    # The proposal whose debate the comment belongs to; none for a comment on the process itself.
    proposal = models.ForeignKey("Proposal", on_delete=models.PROTECT, null=True, related_name="comments")
    section = models.CharField(max_length=60, default="", blank=True)
    parent = models.ForeignKey("self", on_delete=models.PROTECT, null=True, related_name="replies")
    pseudonym = models.CharField(max_length=64, default="")
    # An answer written by the agency, in its name; a person's comment otherwise.
    official = models.BooleanField(default=False)
    body = models.TextField()
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["process", "pseudonym", "created_at"], name="participation_comment_rate")]

    def __str__(self) -> str:
        return f"comment {self.pk}"


class AbuseReport(models.Model):
    comment = models.ForeignKey(Comment, on_delete=models.PROTECT, related_name="reports")
    pseudonym = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    reported_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["comment", "pseudonym"], name="one_report_per_person")]

    def __str__(self) -> str:
        return f"report {self.pk}"


class Block(models.Model):
    """A participant a moderator stopped from writing in a process, with the reason in the log."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="blocks")
    pseudonym = models.CharField(max_length=64)
    at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "pseudonym"], name="one_block_per_person")]

    def __str__(self) -> str:
        return f"block {self.pk}"


class ModerationEntry(models.Model):
    """The public moderation log: what a moderator did, to what, and why. Written once."""

    class Action(models.TextChoices):
        HIDE = "hide", _("Hidden")
        BLOCK = "block", _("Participant blocked")

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="moderation")
    comment = models.ForeignKey(Comment, on_delete=models.PROTECT, null=True)
    statement = models.ForeignKey("Statement", on_delete=models.PROTECT, null=True)
    action = models.CharField(max_length=10, choices=Action.choices)
    reason = models.CharField(max_length=500)
    moderator = models.CharField(max_length=150)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-pk"]

    def __str__(self) -> str:
        return f"{self.action} {self.pk}"


class Statement(models.Model):
    """A short statement participants agree with, disagree with or pass on (the opinion map)."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="statements")
    text = models.CharField(max_length=280)
    pseudonym = models.CharField(max_length=64, default="")
    hidden = models.BooleanField(default=False)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"statement {self.pk}"


class StatementVote(models.Model):
    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="statement_votes")
    statement = models.ForeignKey(Statement, on_delete=models.PROTECT, related_name="votes")
    pseudonym = models.CharField(max_length=64)
    value = models.SmallIntegerField()  # 1 agree, -1 disagree, 0 pass
    at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["statement", "pseudonym"], name="one_statement_vote_per_person"),
            models.CheckConstraint(condition=models.Q(value__in=[-1, 0, 1]), name="statement_vote_value"),
        ]

    def __str__(self) -> str:
        return f"vote {self.pk}"


class OpinionMap(models.Model):
    """The latest opinion map of a consultation, recomputed in the background as votes arrive."""

    process = models.OneToOneField(Process, on_delete=models.PROTECT, related_name="opinion_map")
    # Set when a vote arrives and a recomputation is queued; cleared by the worker that starts it.
    stale = models.BooleanField(default=False)
    computed_at = models.DateTimeField(null=True)
    votes_seen = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict)

    def __str__(self) -> str:
        return f"map of {self.process_id}"


class SurveyQuestion(models.Model):
    """One question of a survey, in the order it is asked."""

    class Kind(models.TextChoices):
        SINGLE = "single", _("Single choice")
        MULTIPLE = "multiple", _("Multiple choice")
        SCALE = "scale", _("Scale from 1 to 5")
        TEXT = "text", _("Free text")

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="questions")
    position = models.PositiveSmallIntegerField()
    kind = models.CharField(max_length=10, choices=Kind.choices)
    text = models.CharField(max_length=300)
    required = models.BooleanField(default=True)
    # The options of a choice question: [[code, label], ...]; empty for a scale or free text.
    options = models.JSONField(default=list)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["process", "position"], name="one_question_per_position"),
        ]
        ordering = ["position"]

    def __str__(self) -> str:
        return f"question {self.pk}"


class SurveyResponse(models.Model):
    """A person's current answers to a survey; replaced when they answer again before the close."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="survey_responses")
    pseudonym = models.CharField(max_length=64)
    # {question id (text): option code | [option codes] | 1..5 | free text}; an unanswered optional
    # question is absent.
    answers = models.JSONField()
    answered_at = models.DateTimeField()
    changed_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "pseudonym"], name="one_survey_response_per_person")]

    def __str__(self) -> str:
        return f"response {self.pk}"


class Proposal(models.Model):
    """A citizen's proposal in a process's proposals phase. It collects supports until ``closes_at``
    (its window); reaching the process's threshold within the window obliges the agency to answer
    publicly; a proposal that did not reach it is marked expired when the window ends."""

    class State(models.TextChoices):
        OPEN = "open", _("Collecting supports")
        REACHED = "reached", _("Threshold reached")
        EXPIRED = "expired", _("Expired")

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="proposals")
    title = models.CharField(max_length=150)
    body = models.TextField()
    # The author's pseudonym in the process (never shown).
    pseudonym = models.CharField(max_length=64)
    state = models.CharField(max_length=10, choices=State.choices, default=State.OPEN)
    # Kept equal to the proposal's rows of ProposalSupport by the service that adds one.
    supports = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    closes_at = models.DateTimeField()
    reached_at = models.DateTimeField(null=True)
    answer = models.TextField(default="")
    answered_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["-supports", "-pk"]
        indexes = [models.Index(fields=["process", "pseudonym", "created_at"], name="participation_proposal_rate")]

    def __str__(self) -> str:
        return f"proposal {self.pk}"


class ProposalSupport(models.Model):
    """One person's support of a proposal: one per (proposal, pseudonym), decided by the database."""

    proposal = models.ForeignKey(Proposal, on_delete=models.PROTECT, related_name="support_rows")
    pseudonym = models.CharField(max_length=64)
    supported_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["proposal", "pseudonym"], name="one_support_per_person")]

    def __str__(self) -> str:
        return f"support {self.pk}"


class Eligibility(models.Model):
    """That a participant of a process was found eligible by the civil registry, and when: read once
    per person and process through the exchange and trusted until the process closes. Only the
    answer is kept, under the process's pseudonym; never the person's age, parish or UIN."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="eligibilities")
    pseudonym = models.CharField(max_length=64)
    read_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "pseudonym"], name="one_eligibility_per_person")]

    def __str__(self) -> str:
        return f"eligibility {self.pk}"


class Section(models.Model):
    """One section of the draft a consultation is on, in the order of the draft."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="sections")
    position = models.PositiveSmallIntegerField()
    heading = models.CharField(max_length=200)
    text = models.TextField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["process", "position"], name="one_section_per_position")]
        ordering = ["position"]

    def __str__(self) -> str:
        return f"section {self.pk}"


class Amendment(models.Model):
    """A participant's suggested replacement text for a section, supported by others and accepted or
    rejected by the agency with a public reason."""

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Under consideration")
        ACCEPTED = "accepted", _("Accepted")
        REJECTED = "rejected", _("Rejected")

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="amendments")
    section = models.ForeignKey(Section, on_delete=models.PROTECT, related_name="amendments")
    text = models.TextField()
    pseudonym = models.CharField(max_length=64)
    supports = models.PositiveIntegerField(default=0)
    state = models.CharField(max_length=10, choices=State.choices, default=State.PROPOSED)
    reason = models.TextField(default="")
    created_at = models.DateTimeField()
    decided_at = models.DateTimeField(null=True)

    class Meta:
        ordering = ["section__position", "-supports", "pk"]
        indexes = [models.Index(fields=["process", "pseudonym", "created_at"], name="participation_amendment_rate")]

    def __str__(self) -> str:
        return f"amendment {self.pk}"


class AmendmentSupport(models.Model):
    amendment = models.ForeignKey(Amendment, on_delete=models.PROTECT, related_name="support_rows")
    pseudonym = models.CharField(max_length=64)
    supported_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["amendment", "pseudonym"], name="one_amendment_support_per_person")
        ]

    def __str__(self) -> str:
        return f"amendment support {self.pk}"
