"""The agency self-assessment and the public service's skills survey: writes and reads. Each write
is one transaction; a refusal is a ``DomainError`` and writes nothing."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from django.db import IntegrityError, transaction
from django.db.models import Count
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core import config
from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.principal import Principal
from gov21.readiness.models import Answer, Assessment, SkillsParticipation, SkillsResponse, SkillsRound
from gov21.readiness.reference import framework, questionnaire

# No figure of a group of fewer people is shown (the platform's small-cell rule for statistics).
SMALL_CELL = 5
EVIDENCE_MAX_BYTES = 10 * 1024 * 1024
EVIDENCE_DIRECTORY = "readiness/evidence"
_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]{0,39}$")


@dataclass(frozen=True)
class Evidence:
    """What supports an answer: a link, or a file (its name and bytes)."""

    url: str = ""
    name: str = ""
    content: bytes = b""


def evidence_directory() -> Path:
    return Path(config.DATA_DIR.read()) / EVIDENCE_DIRECTORY


# --- self-assessment ----------------------------------------------------------------------------------


def assessment_open(*, agency: str, round: int, actor: Principal) -> Assessment:
    actor.require("readiness.assess")
    if not _CODE.match(agency):
        raise DomainError("invalid_agency", _("Give the agency's member code, such as DGO."), field="agency")
    if not 2000 <= round <= 2100:
        raise DomainError("invalid_round", _("The round is the year of the assessment."), field="round")
    try:
        with transaction.atomic():
            return Assessment.objects.create(
                agency=agency,
                round=round,
                questionnaire_version=questionnaire().version,
                opened_by=actor.name,
                opened_at=timezone.now(),
            )
    except IntegrityError:
        raise Conflict(
            "assessment_exists",
            _("%(agency)s already has an assessment for %(round)s.") % {"agency": agency, "round": round},
        ) from None


def answer_record(*, assessment_id: int, pillar: str, level: int, evidence: Evidence, actor: Principal) -> Answer:
    """Record the agency's level on one pillar with its evidence. A pillar is answered once a round:
    a second answer is refused, so the reviewer signs what was answered."""
    actor.require("readiness.assess")
    questions = questionnaire()
    if pillar not in questions.questions:
        raise DomainError("unknown_pillar", _("There is no question on that pillar."), field="pillar")
    if level not in questions.levels:
        raise DomainError("invalid_level", _("Choose a maturity level from 0 to 4."), field="level")
    if bool(evidence.url) == bool(evidence.content):
        raise DomainError("evidence_required", _("Give the evidence: a link or a file, not both."), field="evidence")
    if evidence.url and not re.match(r"^https?://[^\s/]+", evidence.url):
        raise DomainError("invalid_evidence", _("The evidence link must start with https://."), field="evidence")
    if len(evidence.content) > EVIDENCE_MAX_BYTES:
        raise DomainError("evidence_too_large", _("The evidence file is larger than 10 MB."), field="evidence")
    digest = hashlib.sha256(evidence.content).hexdigest() if evidence.content else ""
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().filter(pk=assessment_id).first()
        if assessment is None:
            raise NotFound("unknown_assessment", _("There is no such assessment."))
        if assessment.signed_off_at is not None:
            raise Conflict("assessment_signed", _("This assessment is signed off and can no longer change."))
        if assessment.answers.filter(pillar=pillar).exists():
            raise Conflict("already_answered", _("This pillar is already answered in this assessment."), field="pillar")
        answer = Answer.objects.create(
            assessment=assessment,
            pillar=pillar,
            level=level,
            evidence_url=evidence.url,
            evidence_name=Path(evidence.name).name[:200] if evidence.content else "",
            evidence_sha256=digest,
            answered_by=actor.name,
            answered_at=timezone.now(),
        )
        if evidence.content:
            target = evidence_directory() / digest
            if not target.exists():
                target.parent.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(".part")
                partial.write_bytes(evidence.content)
                partial.replace(target)
    return answer


def assessment_sign_off(*, assessment_id: int, actor: Principal) -> Assessment:
    """A reviewer who answered none of it signs the whole assessment off, once every pillar is answered."""
    actor.require("readiness.review")
    with transaction.atomic():
        assessment = Assessment.objects.select_for_update().filter(pk=assessment_id).first()
        if assessment is None:
            raise NotFound("unknown_assessment", _("There is no such assessment."))
        if assessment.signed_off_at is not None:
            raise Conflict("assessment_signed", _("This assessment is already signed off."))
        answers = list(assessment.answers.all())
        missing = set(questionnaire().questions) - {a.pillar for a in answers}
        if missing:
            raise Conflict(
                "assessment_incomplete",
                _("Every pillar must be answered before sign-off; missing: %(pillars)s.")
                % {"pillars": ", ".join(sorted(missing))},
            )
        if actor.name in {a.answered_by for a in answers}:
            raise Conflict("reviewer_answered", _("A reviewer cannot sign off answers they gave."))
        assessment.signed_off_by = actor.name
        assessment.signed_off_at = timezone.now()
        assessment.save(update_fields=["signed_off_by", "signed_off_at"])
    return assessment


@dataclass(frozen=True)
class PillarProfile:
    pillar: str
    level: int | None
    previous_level: int | None


def assessment_profile(*, agency: str, round: int) -> list[PillarProfile]:
    """The agency's level on each pillar this round and in its previous signed-off round."""
    current = Assessment.objects.filter(agency=agency, round=round).first()
    if current is None:
        raise NotFound("unknown_assessment", _("There is no such assessment."))
    before = (
        Assessment.objects.filter(agency=agency, round__lt=round, signed_off_at__isnull=False)
        .order_by("-round")
        .first()
    )
    now = {a.pillar: a.level for a in current.answers.all()}
    then = {a.pillar: a.level for a in before.answers.all()} if before else {}
    return [PillarProfile(p, now.get(p), then.get(p)) for p in questionnaire().questions]


# --- skills survey -------------------------------------------------------------------------------------


def skills_round_open(*, code: str, title: str, actor: Principal) -> SkillsRound:
    actor.require("readiness.review")
    if not _CODE.match(code):
        raise DomainError("invalid_round", _("A round's code is letters, digits and dashes."), field="code")
    try:
        with transaction.atomic():
            return SkillsRound.objects.create(
                code=code,
                title=title,
                framework_version=framework().version,
                salt=secrets.token_hex(32),
                opened_at=timezone.now(),
            )
    except IntegrityError:
        raise Conflict("round_exists", _("There is already a round with that code."), field="code") from None


def skills_round_close(*, code: str, actor: Principal) -> SkillsRound:
    """Close a round: it takes no more answers (its figures stay as they are)."""
    actor.require("readiness.review")
    with transaction.atomic():
        survey = SkillsRound.objects.select_for_update().filter(code=code).first()
        if survey is None:
            raise NotFound("unknown_round", _("There is no such survey round."), field="round")
        if survey.closed_at is not None:
            raise Conflict("round_closed", _("This round of the survey is already closed."), field="round")
        survey.closed_at = timezone.now()
        survey.save(update_fields=["closed_at"])
    return survey


def skills_round_current() -> SkillsRound | None:
    """The round staff answer now: the latest opened that is not closed."""
    return SkillsRound.objects.filter(closed_at__isnull=True).order_by("-opened_at", "-pk").first()


def skills_answer(*, round_code: str, respondent: str, ministry: str, role: str, levels: dict[str, int]) -> None:
    """Record one person's answer without recording who gave it: the answer row holds the ministry,
    the role and the levels; a separate mark (HMAC of the person under the round's salt) refuses a
    second answer."""
    known = framework()
    if not _CODE.match(ministry):
        raise DomainError("invalid_ministry", _("Choose your ministry."), field="ministry")
    if role not in known.roles:
        raise DomainError("invalid_role", _("Choose your role."), field="role")
    if set(levels) != set(known.competencies):
        raise DomainError("levels_incomplete", _("Give a level for each competency."), field="levels")
    if any(value not in known.levels for value in levels.values()):
        raise DomainError("invalid_level", _("Choose a level from 0 to 4."), field="levels")
    survey = SkillsRound.objects.filter(code=round_code).first()
    if survey is None:
        raise NotFound("unknown_round", _("There is no such survey round."))
    if survey.closed_at is not None:
        raise Conflict("round_closed", _("This round of the survey is closed: it takes no more answers."))
    mark = hmac.new(survey.salt.encode(), respondent.encode(), hashlib.sha256).hexdigest()
    try:
        with transaction.atomic():
            SkillsParticipation.objects.create(round=survey, mark=mark)
            SkillsResponse.objects.create(
                round=survey, ministry=ministry, role=role, levels=levels, answered_on=timezone.now().date()
            )
    except IntegrityError:
        raise Conflict("already_answered", _("You have already answered this survey.")) from None


@dataclass(frozen=True)
class Gap:
    competency: str
    needed: float
    mean: float
    gap: float
    # Share of the group below the level their role needs: the training need.
    below: float


@dataclass(frozen=True)
class GroupGaps:
    ministry: str
    role: str  # "" for the whole ministry
    respondents: int | None  # None: suppressed
    gaps: tuple[Gap, ...]

    @property
    def suppressed(self) -> bool:
        return self.respondents is None


def _gaps(rows: list[SkillsResponse]) -> tuple[Gap, ...]:
    known = framework()
    out = []
    for competency in known.competencies:
        needs = [known.roles[r.role].needs[competency] for r in rows]
        have = [int(r.levels[competency]) for r in rows]
        mean_need, mean_have = sum(needs) / len(rows), sum(have) / len(rows)
        below = sum(1 for n, h in zip(needs, have, strict=True) if h < n) / len(rows)
        out.append(Gap(competency, mean_need, mean_have, max(mean_need - mean_have, 0.0), below))
    return tuple(sorted(out, key=lambda g: (-g.gap, g.competency)))


def skills_gaps(*, round_code: str, ministry: str | None = None) -> list[GroupGaps]:
    """The gaps per ministry and per role within it. A group of fewer than ``SMALL_CELL`` people is
    not shown; where a ministry would then show a single hidden role (its total minus the others
    would give it away), the next smallest role is hidden too."""
    survey = SkillsRound.objects.filter(code=round_code).first()
    if survey is None:
        raise NotFound("unknown_round", _("There is no such survey round."))
    rows = list(survey.responses.all() if ministry is None else survey.responses.filter(ministry=ministry))
    by_ministry: dict[str, dict[str, list[SkillsResponse]]] = {}
    for row in rows:
        by_ministry.setdefault(row.ministry, {}).setdefault(row.role, []).append(row)
    out: list[GroupGaps] = []
    for name in sorted(by_ministry):
        roles = by_ministry[name]
        total = [r for group in roles.values() for r in group]
        ministry_shown = len(total) >= SMALL_CELL
        hidden = {role for role, group in roles.items() if len(group) < SMALL_CELL}
        if ministry_shown and len(hidden) == 1 and len(roles) > 1:
            hidden.add(min((r for r in roles if r not in hidden), key=lambda r: (len(roles[r]), r)))
        out.append(GroupGaps(name, "", len(total), _gaps(total)) if ministry_shown else GroupGaps(name, "", None, ()))
        for role in sorted(roles):
            group = roles[role]
            shown = role not in hidden and ministry_shown
            out.append(GroupGaps(name, role, len(group), _gaps(group)) if shown else GroupGaps(name, role, None, ()))
    return out


def skills_rounds() -> list[SkillsRound]:
    """The survey's rounds, the latest opened first."""
    return list(SkillsRound.objects.order_by("-opened_at", "-pk"))


def skills_rounds_counted() -> list[tuple[SkillsRound, int]]:
    """The survey's rounds, the latest opened first, each with how many people answered it (the
    whole round's count, which names no group)."""
    found = SkillsRound.objects.annotate(answers=Count("responses")).order_by("-opened_at", "-pk")
    return [(r, int(r.answers)) for r in found]


def skills_answered(*, round_code: str, respondent: str) -> bool:
    """Whether ``respondent`` has answered the round: their mark is there (their answer cannot be found)."""
    survey = SkillsRound.objects.filter(code=round_code).first()
    if survey is None:
        return False
    mark = hmac.new(survey.salt.encode(), respondent.encode(), hashlib.sha256).hexdigest()
    return SkillsParticipation.objects.filter(round=survey, mark=mark).exists()


def assessments_list() -> list[Assessment]:
    """Every agency's self-assessment, the latest round first."""
    return list(Assessment.objects.order_by("-round", "agency"))


def assessment_get(assessment_id: int) -> Assessment:
    found = Assessment.objects.filter(pk=assessment_id).first()
    if found is None:
        raise NotFound("unknown_assessment", _("There is no such assessment."))
    return found
