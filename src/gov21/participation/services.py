"""Writes of e-participation. Every act of a person (sign, vote, comment, state, report) takes the
person's UIN and sign-in level from the edge, checks the level, reads their eligibility from the
civil registry through the exchange, and stores only their pseudonym for the process."""

from __future__ import annotations

import hashlib
import secrets
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gov21.core.crypto import random_token
from gov21.core.errors import DomainError
from gov21.core.forms import CONTROL_CHARACTERS
from gov21.core.geography import parishes
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.identity.contracts import HIGH, SUBSTANTIAL
from gov21.participation.keys import pseudonym
from gov21.participation.models import (
    AbuseReport,
    Amendment,
    AmendmentSupport,
    Ballot,
    Block,
    Comment,
    Eligibility,
    ModerationEntry,
    OpinionMap,
    Process,
    Project,
    Proposal,
    ProposalSupport,
    Section,
    Signature,
    Statement,
    StatementVote,
    SurveyQuestion,
    SurveyResponse,
)

# Why the civil registry is read: shown to the person among the uses of their data.
ELIGIBILITY_PURPOSE = gettext_noop("Check that you may take part in a petition, consultation or vote")
ADULT_AGE = 18
# Against flooding: at most this many comments, statements or reports per person per window.
WRITE_LIMIT = 5
WRITE_WINDOW = timedelta(minutes=10)
MAX_COMMENT = 5000
# The longest free-text answer to a survey question.
MAX_SURVEY_TEXT = 2000
SCALE = range(1, 6)
# A citizens' proposal collects supports for this many days unless its process says otherwise.
SUPPORT_DAYS = 90
MAX_PROPOSAL_TITLE = 150


@dataclass(frozen=True)
class ProjectFacts:
    code: str
    title: str
    cost_cents: int


@dataclass(frozen=True)
class SectionFacts:
    """A section of a consultation's draft: its heading and its text."""

    heading: str
    text: str


@dataclass(frozen=True)
class QuestionFacts:
    """A survey question: its kind (single, multiple, scale, text), its text, and for a choice
    question its options as (code, label) pairs."""

    kind: str
    text: str
    options: tuple[tuple[str, str], ...] = ()
    required: bool = True


def _questions_check(questions: Sequence[QuestionFacts]) -> None:
    if not questions:
        raise DomainError("no_questions", _("A survey needs at least one question."), field="questions")
    for q in questions:
        if q.kind not in SurveyQuestion.Kind.values or not q.text.strip():
            raise DomainError("question", _("Each question needs a kind and a text."), field="questions")
        choice = q.kind in (SurveyQuestion.Kind.SINGLE, SurveyQuestion.Kind.MULTIPLE)
        codes = [code for code, _label in q.options]
        if choice and (len(codes) < 2 or len(set(codes)) != len(codes)):
            raise DomainError(
                "options", _("A choice question needs at least two options with different codes."), field="questions"
            )
        if not choice and codes:
            raise DomainError("options", _("Only a choice question has options."), field="questions")


def _process(slug: str, *, lock: bool = False) -> Process:
    rows = Process.objects.select_for_update() if lock else Process.objects
    try:
        return rows.get(slug=slug)
    except Process.DoesNotExist:
        raise DomainError("unknown_process", _("There is no such process."), status=404) from None


_FIRST_PHASE: dict[str, str] = {
    Process.Kind.BUDGET: Process.Phase.VOTING,
    Process.Kind.PROPOSALS: Process.Phase.PROPOSALS,
}


def process_create(
    *,
    slug: str,
    kind: str,
    title: str,
    agency: str,
    opens_at: datetime,
    closes_at: datetime,
    summary: str = "",
    parish: str = "",
    threshold: int = 0,
    budget_cents: int = 0,
    support_days: int = SUPPORT_DAYS,
    projects: Sequence[ProjectFacts] = (),
    questions: Sequence[QuestionFacts] = (),
    sections: Sequence[SectionFacts] = (),
    actor: Principal,
) -> Process:
    """A process run by ``agency`` (an exchange member code), open from ``opens_at`` to ``closes_at``."""
    actor.require("participation.answer")
    if actor.grants and agency not in actor.agencies_where("participation.answer"):
        raise DomainError("other_agency", _("Create processes only for your own agency."), status=403, field="agency")
    if kind not in Process.Kind.values:
        raise DomainError(
            "unknown_kind",
            _("Choose a petition, a participatory budget, a consultation, a survey or citizens' proposals."),
            field="kind",
        )
    if parish and parish not in {code for code, _name in parishes()}:
        raise DomainError("unknown_parish", _("There is no such parish."), field="parish")
    if closes_at <= opens_at:
        raise DomainError("dates", _("A process must close after it opens."), field="closes_at")
    if kind == Process.Kind.BUDGET and (budget_cents <= 0 or not projects):
        raise DomainError("budget", _("A participatory budget needs an amount and projects."), field="budget_cents")
    if kind == Process.Kind.SURVEY:
        _questions_check(questions)
    if sections and kind != Process.Kind.CONSULTATION:
        raise DomainError("sections", _("Only a consultation has a draft in sections."), field="sections")
    if any(not f.heading.strip() or not f.text.strip() for f in sections):
        raise DomainError("sections", _("Each section needs a heading and a text."), field="sections")
    if kind == Process.Kind.PROPOSALS and threshold < 1:
        raise DomainError(
            "threshold", _("Citizens' proposals need the number of supports that obliges an answer."), field="threshold"
        )
    if not 1 <= support_days <= 365:
        raise DomainError("support_days", _("A proposal collects supports for 1 to 365 days."), field="support_days")
    with transaction.atomic():
        if Process.objects.filter(slug=slug).exists():
            raise DomainError("slug_taken", _("A process already has this address."), status=409, field="slug")
        process = Process.objects.create(
            slug=slug,
            kind=kind,
            title=title,
            summary=summary,
            agency=agency,
            parish=parish,
            phase=_FIRST_PHASE.get(kind, Process.Phase.CONSULTATION),
            opens_at=opens_at,
            closes_at=closes_at,
            threshold=threshold,
            budget_cents=budget_cents,
            support_days=support_days,
            key_id=secrets.token_hex(16),
            created_at=timezone.now(),
        )
        Project.objects.bulk_create(
            Project(process=process, code=p.code, title=p.title, cost_cents=p.cost_cents) for p in projects
        )
        if kind == Process.Kind.CONSULTATION:
            OpinionMap.objects.create(process=process)
            Section.objects.bulk_create(
                Section(process=process, position=i, heading=f.heading.strip(), text=f.text.strip())
                for i, f in enumerate(sections, start=1)
            )
        if kind == Process.Kind.SURVEY:
            SurveyQuestion.objects.bulk_create(
                SurveyQuestion(
                    process=process,
                    position=i,
                    kind=q.kind,
                    text=q.text.strip(),
                    required=q.required,
                    options=[[code, label] for code, label in q.options],
                )
                for i, q in enumerate(questions, start=1)
            )
    return process


def process_phase_set(*, slug: str, phase: str, actor: Principal) -> None:
    actor.require("participation.answer")
    if phase not in Process.Phase.values:
        raise DomainError("unknown_phase", _("There is no such phase."), field="phase")
    with transaction.atomic():
        process = _process(slug, lock=True)
        _agency_check(process, actor)
        process.phase = phase
        process.save(update_fields=["phase"])


# --- who may take part ------------------------------------------------------------------------


def level_check(level: str) -> None:
    """Signing and voting need a sign-in at level substantial or high."""
    if level not in (SUBSTANTIAL, HIGH):
        raise DomainError(
            "level_too_low",
            _("Sign in with your password and a code from your app, or with a passkey, to take part."),
            status=403,
        )


def _open_check(process: Process, now: datetime) -> None:
    if now < process.opens_at:
        raise DomainError("not_open", _("This process is not open yet."), status=409)
    if now >= process.closes_at:
        raise DomainError("closed", _("This process has closed."), status=409)


def _age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def eligibility_check(*, process: Process, uin: str) -> None:
    """Adult, alive and (for a parish's process) living in the parish: asked of the civil registry
    through the exchange for this act, kept nowhere."""
    person: dict[str, Any] = exchange_json(
        client=agency_client("DGO", "participation"),
        service=agency_service("CRO", "civil-registry", "persons"),
        path=f"/{uin}",
        user_id=uin,
        issue=ELIGIBILITY_PURPOSE,
    )
    if person.get("status") == "deceased":
        raise DomainError("not_eligible", _("Only living residents may take part."), status=403)
    born = date.fromisoformat(str(person.get("birth_date", ""))[:10])
    if _age_on(born, timezone.localdate()) < ADULT_AGE:
        raise DomainError("not_adult", _("Only adults (18 and over) may take part."), status=403)
    if process.parish and person.get("address_parish") != process.parish:
        raise DomainError("other_parish", _("Only residents of the parish may take part in this process."), status=403)


def _participant(*, slug: str, uin: str, level: str) -> tuple[Process, str]:
    return _participant_in(_process(slug), uin=uin, level=level)


def _participant_in(process: Process, *, uin: str, level: str) -> tuple[Process, str]:
    """The person's pseudonym in an open process once they are known to be eligible. The civil
    registry is asked once per person and process; a positive answer is kept under the pseudonym
    (with the time it was read) until the process closes, a refusal is kept nowhere and asked again."""
    level_check(level)
    _open_check(process, timezone.now())
    who = pseudonym(key_id=process.key_id, uin=uin)
    if not Eligibility.objects.filter(process=process, pseudonym=who).exists():
        eligibility_check(process=process, uin=uin)
        # Two first acts of one person at the same moment both read; the constraint keeps one answer.
        Eligibility.objects.bulk_create(
            [Eligibility(process=process, pseudonym=who, read_at=timezone.now())], ignore_conflicts=True
        )
    return process, who


def participant_confirm(*, slug: str, uin: str, level: str) -> None:
    """Whether the person may take part in an open process, asked when they open its page: the page
    says so before they fill in a form, and the act they then send finds the answer already kept."""
    _participant(slug=slug, uin=uin, level=level)


def _writer_check(
    process: Process, who: str, model: type[Comment] | type[Statement] | type[Proposal] | type[Amendment]
) -> None:
    if Block.objects.filter(process=process, pseudonym=who).exists():
        raise DomainError("blocked", _("A moderator stopped you from writing in this process."), status=403)
    since = timezone.now() - WRITE_WINDOW
    if model.objects.filter(process=process, pseudonym=who, created_at__gte=since).count() >= WRITE_LIMIT:
        raise DomainError(
            "too_many", _("You have written a lot in a short time. Wait a few minutes and try again."), status=429
        )


def _text(value: str, limit: int, field: str) -> str:
    value = value.strip()
    if not value:
        raise DomainError("empty", _("Write something first."), field=field)
    if len(value) > limit or "\x00" in value:
        raise DomainError("too_long", _("Write at most %(limit)s characters.") % {"limit": limit}, field=field)
    return value


# --- petitions -----------------------------------------------------------------------------------


def petition_sign(*, slug: str, uin: str, level: str) -> int:
    """Sign once; a second signature by the same person (even at the same moment) is refused."""
    process, who = _participant(slug=slug, uin=uin, level=level)
    if process.kind != Process.Kind.PETITION:
        raise DomainError("not_petition", _("This process takes no signatures."), status=409)
    try:
        with transaction.atomic():
            Signature.objects.create(process=process, pseudonym=who, signed_at=timezone.now())
    except IntegrityError:
        raise DomainError("already_signed", _("You have already signed this petition."), status=409) from None
    return Signature.objects.filter(process=process).count()


def _agency_check(process: Process, actor: Principal) -> None:
    """An officer whose roles are granted per agency answers only for the agency running the process."""
    if actor.grants and process.agency not in actor.agencies_where("participation.answer"):
        raise DomainError("other_agency", _("Only the agency that runs the process answers it."), status=403)


def petition_answer(*, slug: str, answer: str, actor: Principal) -> None:
    """The agency's public answer, owed once the signatures reach the threshold."""
    actor.require("participation.answer")
    text = _text(answer, MAX_COMMENT, "answer")
    with transaction.atomic():
        process = _process(slug, lock=True)
        _agency_check(process, actor)
        process.answer, process.answered_at = text, timezone.now()
        process.save(update_fields=["answer", "answered_at"])


# --- participatory budgets -----------------------------------------------------------------------


def ballot_cast(*, slug: str, uin: str, level: str, projects: Sequence[str]) -> str:
    """Record (or replace) the person's ballot and return its new receipt code, shown only to them."""
    process, who = _participant(slug=slug, uin=uin, level=level)
    return ballot_record(process=process, who=who, projects=projects)


def ballot_record(*, process: Process, who: str, projects: Sequence[str]) -> str:
    """The ballot of an eligible participant ``who`` (a pseudonym), checked against the budget."""
    if process.kind != Process.Kind.BUDGET:
        raise DomainError("not_budget", _("This process takes no ballots."), status=409)
    chosen = sorted(set(projects))
    if not chosen:
        raise DomainError("empty_ballot", _("Choose at least one project."), field="projects")
    offered = _project_costs(process)
    if not set(chosen) <= set(offered):
        raise DomainError("unknown_project", _("Choose only projects of this budget."), field="projects")
    if sum(offered[code] for code in chosen) > process.budget_cents:
        raise DomainError(
            "over_budget", _("The projects you chose cost more than the budget. Remove one."), field="projects"
        )
    receipt = random_token(16)
    digest = hashlib.sha256(receipt.encode()).hexdigest()
    now = timezone.now()
    # One statement: INSERT ... ON CONFLICT (process, pseudonym) DO UPDATE. The same person's ballots
    # arriving at the same moment are ordered by the database, and the last one written stands.
    Ballot.objects.bulk_create(
        [Ballot(process=process, pseudonym=who, projects=chosen, receipt_digest=digest, cast_at=now, changed_at=now)],
        update_conflicts=True,
        unique_fields=["process", "pseudonym"],
        update_fields=["projects", "receipt_digest", "changed_at"],
    )
    return receipt


# A budget's projects are made with the process and never change: their costs are read once per
# process (keyed by its pseudonym key, which no other process shares) and kept for the next ballots.
_costs_lock = threading.Lock()
_costs: dict[str, dict[str, int]] = {}


def _project_costs(process: Process) -> dict[str, int]:
    found = _costs.get(process.key_id)
    if found is None:
        found = dict(Project.objects.filter(process=process).values_list("code", "cost_cents"))
        with _costs_lock:
            if len(_costs) > 1000:
                _costs.clear()
            _costs[process.key_id] = found
    return found


# --- consultations: comments, statements and moderation -----------------------------------------


def comment_post(
    *, slug: str, uin: str, level: str, body: str, section: str = "", parent: int | None = None
) -> Comment:
    process, who = _participant(slug=slug, uin=uin, level=level)
    return _comment_write(process, who, body=body, section=section, parent=parent, proposal=None)


def _comment_write(
    process: Process, who: str, *, body: str, section: str, parent: int | None, proposal: Proposal | None
) -> Comment:
    text = _text(body, MAX_COMMENT, "body")
    _writer_check(process, who, Comment)
    reply_to = None
    if parent is not None:
        reply_to = Comment.objects.filter(process=process, proposal=proposal, pk=parent, hidden=False).first()
        if reply_to is None:
            raise DomainError("unknown_comment", _("There is no such comment."), status=404)
    return Comment.objects.create(
        process=process,
        proposal=proposal,
        section=section[:60],
        parent=reply_to,
        pseudonym=who,
        body=text,
        created_at=timezone.now(),
    )


def comment_answer(*, slug: str, body: str, actor: Principal, parent: int | None = None) -> Comment:
    """The agency's official response, before the process closes."""
    actor.require("participation.answer")
    process = _process(slug)
    _agency_check(process, actor)
    _open_check(process, timezone.now())
    reply_to = Comment.objects.filter(process=process, pk=parent).first() if parent is not None else None
    return Comment.objects.create(
        process=process,
        parent=reply_to,
        official=True,
        body=_text(body, MAX_COMMENT, "body"),
        created_at=timezone.now(),
    )


def abuse_report(*, comment_id: int, uin: str, level: str, reason: str) -> None:
    comment = Comment.objects.select_related("process").filter(pk=comment_id).first()
    if comment is None:
        raise DomainError("unknown_comment", _("There is no such comment."), status=404)
    level_check(level)
    who = pseudonym(key_id=comment.process.key_id, uin=uin)
    try:
        with transaction.atomic():
            AbuseReport.objects.create(
                comment=comment, pseudonym=who, reason=_text(reason, 500, "reason"), reported_at=timezone.now()
            )
    except IntegrityError:
        raise DomainError("already_reported", _("You have already reported this comment."), status=409) from None


def _moderate(actor: Principal, reason: str) -> str:
    actor.require("participation.moderate")
    return _text(reason, 500, "reason")


def comment_hide(*, comment_id: int, reason: str, actor: Principal) -> None:
    why = _moderate(actor, reason)
    with transaction.atomic():
        comment = Comment.objects.select_for_update().filter(pk=comment_id).first()
        if comment is None:
            raise DomainError("unknown_comment", _("There is no such comment."), status=404)
        if comment.hidden:
            raise DomainError("already_hidden", _("This comment is already hidden."), status=409)
        comment.hidden = True
        comment.save(update_fields=["hidden"])
        ModerationEntry.objects.create(
            process_id=comment.process_id,
            comment=comment,
            action=ModerationEntry.Action.HIDE,
            reason=why,
            moderator=actor.name,
            at=timezone.now(),
        )


def statement_hide(*, statement_id: int, reason: str, actor: Principal) -> None:
    why = _moderate(actor, reason)
    with transaction.atomic():
        statement = Statement.objects.select_for_update().filter(pk=statement_id, hidden=False).first()
        if statement is None:
            raise DomainError("unknown_statement", _("There is no such statement."), status=404)
        statement.hidden = True
        statement.save(update_fields=["hidden"])
        ModerationEntry.objects.create(
            process_id=statement.process_id,
            statement=statement,
            action=ModerationEntry.Action.HIDE,
            reason=why,
            moderator=actor.name,
            at=timezone.now(),
        )


def author_block(*, comment_id: int, reason: str, actor: Principal) -> None:
    """Stop the author of a comment from writing in its process; the log names the comment, not them."""
    why = _moderate(actor, reason)
    comment = Comment.objects.filter(pk=comment_id, official=False).first()
    if comment is None:
        raise DomainError("unknown_comment", _("There is no such comment."), status=404)
    try:
        with transaction.atomic():
            Block.objects.create(process_id=comment.process_id, pseudonym=comment.pseudonym, at=timezone.now())
            ModerationEntry.objects.create(
                process_id=comment.process_id,
                comment=comment,
                action=ModerationEntry.Action.BLOCK,
                reason=why,
                moderator=actor.name,
                at=timezone.now(),
            )
    except IntegrityError:
        raise DomainError("already_blocked", _("The author is already blocked."), status=409) from None


def statement_add(*, slug: str, uin: str, level: str, text: str) -> Statement:
    process, who = _participant(slug=slug, uin=uin, level=level)
    if process.kind != Process.Kind.CONSULTATION:
        raise DomainError("not_consultation", _("This process takes no statements."), status=409)
    _writer_check(process, who, Statement)
    return Statement.objects.create(
        process=process, text=_text(text, 280, "text"), pseudonym=who, created_at=timezone.now()
    )


def statement_vote(*, slug: str, uin: str, level: str, statement_id: int, value: int) -> None:
    """Agree (1), disagree (-1) or pass (0); voting again on a statement changes the vote."""
    process, who = _participant(slug=slug, uin=uin, level=level)
    statement_vote_record(process=process, who=who, statement_id=statement_id, value=value)


def statement_vote_record(*, process: Process, who: str, statement_id: int, value: int) -> None:
    if value not in (-1, 0, 1):
        raise DomainError("vote_value", _("Choose agree, disagree or pass."), field="value")
    statement = Statement.objects.filter(process=process, pk=statement_id, hidden=False).first()
    if statement is None:
        raise DomainError("unknown_statement", _("There is no such statement."), status=404)
    now = timezone.now()
    with transaction.atomic():
        StatementVote.objects.update_or_create(
            statement=statement, pseudonym=who, defaults={"value": value, "at": now, "process": process}
        )
        # One recomputation queued however many votes arrive before the worker starts it.
        if OpinionMap.objects.filter(process=process, stale=False).update(stale=True):
            transaction.on_commit(lambda: _map_enqueue(process.pk))


def _map_enqueue(process_id: int) -> None:
    from gov21.participation.tasks import opinion_map_refresh

    opinion_map_refresh.enqueue(process_id)


# --- surveys -------------------------------------------------------------------------------------


def survey_answer(*, slug: str, uin: str, level: str, answers: Mapping[int, Sequence[str]]) -> None:
    """Record (or replace, until the close) the person's answers to a survey."""
    process, who = _participant(slug=slug, uin=uin, level=level)
    survey_record(process=process, who=who, answers=answers)


def _survey_value(q: SurveyQuestion, given: list[str]) -> str | list[str] | int | None:
    """The stored answer to one question from what was sent for it (None when unanswered)."""
    field = f"q{q.pk}"
    values = {"question": q.text}
    if not given:
        if q.required:
            raise DomainError("required", _("Answer the question: %(question)s") % values, field=field)
        return None
    if q.kind == SurveyQuestion.Kind.TEXT:
        text = given[0]
        if len(given) > 1 or len(text) > MAX_SURVEY_TEXT:
            raise DomainError(
                "too_long",
                _("Write at most %(limit)s characters for: %(question)s") % {**values, "limit": f"{MAX_SURVEY_TEXT:,}"},
                field=field,
            )
        return text
    if q.kind == SurveyQuestion.Kind.SCALE:
        if len(given) != 1 or not given[0].isdigit() or int(given[0]) not in SCALE:
            raise DomainError("scale", _("Choose a number from 1 to 5 for: %(question)s") % values, field=field)
        return int(given[0])
    codes = {code for code, _label in q.options}
    if not set(given) <= codes:
        raise DomainError(
            "unknown_option", _("Choose only the options offered for: %(question)s") % values, field=field
        )
    if q.kind == SurveyQuestion.Kind.SINGLE:
        if len(set(given)) != 1:
            raise DomainError("one_option", _("Choose one option for: %(question)s") % values, field=field)
        return given[0]
    return sorted(set(given))


def survey_record(*, process: Process, who: str, answers: Mapping[int, Sequence[str]]) -> None:
    """The answers of an eligible participant ``who`` (a pseudonym), checked question by question:
    each value is stripped, empty ones dropped, and the first question wrongly answered refuses all."""
    if process.kind != Process.Kind.SURVEY:
        raise DomainError("not_survey", _("This process takes no survey answers."), status=409)
    questions = list(SurveyQuestion.objects.filter(process=process).order_by("position"))
    known = {q.pk for q in questions}
    if set(answers) - known:
        raise DomainError("unknown_question", _("Answer only the questions of this survey."))
    stored: dict[str, Any] = {}
    for q in questions:
        given = [v.strip() for v in answers.get(q.pk, ()) if v.strip()]
        if any(CONTROL_CHARACTERS.search(v) for v in given):
            raise DomainError(
                "invalid_text", _("The text contains characters we cannot accept. Type it again."), field=f"q{q.pk}"
            )
        value = _survey_value(q, given)
        if value is not None:
            stored[str(q.pk)] = value
    now = timezone.now()
    for _attempt in range(2):
        try:
            with transaction.atomic():
                changed = SurveyResponse.objects.filter(process=process, pseudonym=who).update(
                    answers=stored, changed_at=now
                )
                if not changed:
                    SurveyResponse.objects.create(
                        process=process, pseudonym=who, answers=stored, answered_at=now, changed_at=now
                    )
            return
        except IntegrityError:
            # The same person's answers arrived at the same moment: these replace them.
            continue
    raise DomainError("busy", _("Your answers could not be recorded. Try again."), status=409)


# --- citizens' proposals -------------------------------------------------------------------------


def proposal_create(*, slug: str, uin: str, level: str, title: str, body: str) -> Proposal:
    """A citizen's proposal, made in the process's proposals phase; it collects supports for the
    process's ``support_days`` from now (never beyond the process's close)."""
    process, who = _participant(slug=slug, uin=uin, level=level)
    if process.kind != Process.Kind.PROPOSALS:
        raise DomainError("not_proposals", _("This process takes no proposals."), status=409)
    if process.phase != Process.Phase.PROPOSALS:
        raise DomainError("not_proposals_phase", _("Proposals are made only in the proposals phase."), status=409)
    heading = _text(title, MAX_PROPOSAL_TITLE, "title")
    text = _text(body, MAX_COMMENT, "body")
    _writer_check(process, who, Proposal)
    now = timezone.now()
    return Proposal.objects.create(
        process=process,
        title=heading,
        body=text,
        pseudonym=who,
        created_at=now,
        closes_at=min(now + timedelta(days=process.support_days), process.closes_at),
    )


def _proposal(proposal_id: int, slug: str) -> Proposal:
    found = Proposal.objects.select_related("process").filter(pk=proposal_id, process__slug=slug).first()
    if found is None:
        raise DomainError("unknown_proposal", _("There is no such proposal."), status=404)
    return found


def proposals_expire(*, process: Process | None = None) -> int:
    """Mark expired every proposal whose window ended below the threshold; returns how many."""
    rows = Proposal.objects.filter(state=Proposal.State.OPEN, closes_at__lte=timezone.now())
    return (rows.filter(process=process) if process is not None else rows).update(state=Proposal.State.EXPIRED)


def proposal_support(*, slug: str, proposal_id: int, uin: str, level: str) -> Proposal:
    """Support a proposal once; the support that brings it to the threshold within its window moves
    it to "threshold reached" in the same transaction. A second support by the same person (even at
    the same moment) is refused by the UNIQUE constraint on (proposal, pseudonym)."""
    proposal = _proposal(proposal_id, slug)
    process, who = _participant_in(proposal.process, uin=uin, level=level)
    now = timezone.now()
    if now >= proposal.closes_at:
        proposals_expire(process=process)
        raise DomainError("proposal_expired", _("This proposal no longer collects supports."), status=409)
    try:
        with transaction.atomic():
            ProposalSupport.objects.create(proposal=proposal, pseudonym=who, supported_at=now)
            # The row lock of this UPDATE orders concurrent supports, so exactly one of them sees the
            # count cross the threshold and moves the proposal.
            Proposal.objects.filter(pk=proposal.pk).update(supports=F("supports") + 1)
            Proposal.objects.filter(
                pk=proposal.pk, state=Proposal.State.OPEN, supports__gte=process.threshold, closes_at__gt=now
            ).update(state=Proposal.State.REACHED, reached_at=now)
    except IntegrityError:
        raise DomainError("already_supported", _("You have already supported this proposal."), status=409) from None
    proposal.refresh_from_db()
    return proposal


def proposal_comment(
    *, slug: str, proposal_id: int, uin: str, level: str, body: str, parent: int | None = None
) -> Comment:
    """A comment in the debate of a proposal, or a reply to one of its comments."""
    proposal = _proposal(proposal_id, slug)
    process, who = _participant_in(proposal.process, uin=uin, level=level)
    return _comment_write(process, who, body=body, section="", parent=parent, proposal=proposal)


def proposal_answer(*, proposal_id: int, answer: str, actor: Principal) -> None:
    """The agency's public answer to a proposal (owed once it reached the threshold)."""
    actor.require("participation.answer")
    text = _text(answer, MAX_COMMENT, "answer")
    with transaction.atomic():
        proposal = Proposal.objects.select_for_update().filter(pk=proposal_id).first()
        if proposal is None:
            raise DomainError("unknown_proposal", _("There is no such proposal."), status=404)
        _agency_check(proposal.process, actor)
        proposal.answer, proposal.answered_at = text, timezone.now()
        proposal.save(update_fields=["answer", "answered_at"])


# --- consultations: suggested amendments ---------------------------------------------------------


def amendment_propose(*, slug: str, section_id: int, uin: str, level: str, text: str) -> Amendment:
    """A replacement text suggested for one section of an open consultation's draft."""
    process, who = _participant(slug=slug, uin=uin, level=level)
    section = Section.objects.filter(process=process, pk=section_id).first()
    if section is None:
        raise DomainError("unknown_section", _("There is no such section."), status=404)
    replacement = _text(text, MAX_COMMENT, "text")
    if replacement == section.text:
        raise DomainError("same_text", _("Change the text of the section to suggest an amendment."), field="text")
    _writer_check(process, who, Amendment)
    return Amendment.objects.create(
        process=process, section=section, text=replacement, pseudonym=who, created_at=timezone.now()
    )


def amendment_support(*, slug: str, amendment_id: int, uin: str, level: str) -> None:
    """Support an amendment once (UNIQUE on (amendment, pseudonym)), while it is under consideration."""
    process, who = _participant(slug=slug, uin=uin, level=level)
    amendment = Amendment.objects.filter(process=process, pk=amendment_id).first()
    if amendment is None:
        raise DomainError("unknown_amendment", _("There is no such amendment."), status=404)
    if amendment.state != Amendment.State.PROPOSED:
        raise DomainError("amendment_decided", _("The agency has already decided on this amendment."), status=409)
    try:
        with transaction.atomic():
            AmendmentSupport.objects.create(amendment=amendment, pseudonym=who, supported_at=timezone.now())
            Amendment.objects.filter(pk=amendment.pk).update(supports=F("supports") + 1)
    except IntegrityError:
        raise DomainError("already_supported", _("You have already supported this amendment."), status=409) from None


def amendment_decide(*, amendment_id: int, accept: bool, reason: str, actor: Principal) -> None:
    """The agency accepts or rejects an amendment, always with a public reason, once."""
    actor.require("participation.answer")
    why = _text(reason, MAX_COMMENT, "reason")
    with transaction.atomic():
        amendment = Amendment.objects.select_for_update().filter(pk=amendment_id).first()
        if amendment is None:
            raise DomainError("unknown_amendment", _("There is no such amendment."), status=404)
        _agency_check(amendment.process, actor)
        if amendment.state != Amendment.State.PROPOSED:
            raise DomainError("amendment_decided", _("The agency has already decided on this amendment."), status=409)
        amendment.state = Amendment.State.ACCEPTED if accept else Amendment.State.REJECTED
        amendment.reason, amendment.decided_at = why, timezone.now()
        amendment.save(update_fields=["state", "reason", "decided_at"])
