from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import override_settings

from gov21.core.errors import Conflict, DomainError, Forbidden
from gov21.core.principal import Principal
from gov21.readiness.assessments import (
    SMALL_CELL,
    Evidence,
    answer_record,
    assessment_open,
    assessment_profile,
    assessment_sign_off,
    evidence_directory,
    skills_answer,
    skills_gaps,
    skills_round_open,
)
from gov21.readiness.models import Answer, SkillsParticipation, SkillsResponse
from gov21.readiness.reference import framework, questionnaire

ANSWERER = Principal(name="dgo.analyst", kind="staff", roles=frozenset({"clerk"}))
REVIEWER = Principal(name="dgo.director", kind="staff", roles=frozenset({"supervisor"}))
READER = Principal(name="reader", kind="staff", roles=frozenset({"reader"}))
LINK = Evidence(url="https://dgo.example/reports/2026.pdf")


@pytest.fixture(autouse=True)
def _data_dir(tmp_path: Path) -> Iterator[None]:
    with override_settings(DATA_DIR=tmp_path):
        yield


def _answer_all(assessment_id: int, level: int = 2, actor: Principal = ANSWERER) -> None:
    for pillar in questionnaire().questions:
        answer_record(assessment_id=assessment_id, pillar=pillar, level=level, evidence=LINK, actor=actor)


@pytest.mark.django_db
def test_an_assessment_is_answered_with_evidence_and_signed_off_by_someone_else() -> None:
    a = assessment_open(agency="DGO", round=2026, actor=ANSWERER)
    answer = answer_record(
        assessment_id=a.pk,
        pillar="resilient",
        level=3,
        evidence=Evidence(name="drill.pdf", content=b"%PDF-1.7 drill report"),
        actor=ANSWERER,
    )
    assert (evidence_directory() / answer.evidence_sha256).read_bytes() == b"%PDF-1.7 drill report"
    with pytest.raises(Conflict) as incomplete:
        assessment_sign_off(assessment_id=a.pk, actor=REVIEWER)
    assert incomplete.value.code == "assessment_incomplete"
    for pillar in questionnaire().questions:
        if pillar != "resilient":
            answer_record(assessment_id=a.pk, pillar=pillar, level=2, evidence=LINK, actor=ANSWERER)
    signed = assessment_sign_off(assessment_id=a.pk, actor=REVIEWER)
    assert signed.signed_off_by == "dgo.director"
    with pytest.raises(Conflict) as closed:
        answer_record(assessment_id=a.pk, pillar="open", level=4, evidence=LINK, actor=ANSWERER)
    assert closed.value.code == "assessment_signed"


@pytest.mark.django_db
def test_a_pillar_answered_twice_is_refused_and_the_first_answer_stands() -> None:
    a = assessment_open(agency="DGO", round=2026, actor=ANSWERER)
    answer_record(assessment_id=a.pk, pillar="open", level=1, evidence=LINK, actor=ANSWERER)
    with pytest.raises(Conflict) as raised:
        answer_record(assessment_id=a.pk, pillar="open", level=4, evidence=LINK, actor=ANSWERER)
    assert raised.value.code == "already_answered"
    assert list(Answer.objects.values_list("level", flat=True)) == [1]
    with pytest.raises(Conflict):
        assessment_open(agency="DGO", round=2026, actor=ANSWERER)


@pytest.mark.django_db
def test_whoever_answered_cannot_sign_off() -> None:
    supervisor_answering = Principal(name="dgo.director", kind="staff", roles=frozenset({"supervisor"}))
    a = assessment_open(agency="DGO", round=2026, actor=ANSWERER)
    _answer_all(a.pk, actor=supervisor_answering)
    with pytest.raises(Conflict) as raised:
        assessment_sign_off(assessment_id=a.pk, actor=REVIEWER)
    assert raised.value.code == "reviewer_answered"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("pillar", "level", "evidence", "code"),
    [
        ("agile", 2, LINK, "unknown_pillar"),
        ("open", 5, LINK, "invalid_level"),
        ("open", 2, Evidence(), "evidence_required"),
        ("open", 2, Evidence(url="https://x.example/", name="a.pdf", content=b"x"), "evidence_required"),
        ("open", 2, Evidence(url="javascript:alert(1)"), "invalid_evidence"),
    ],
)
def test_bad_answers_are_refused(pillar: str, level: int, evidence: Evidence, code: str) -> None:
    a = assessment_open(agency="DGO", round=2026, actor=ANSWERER)
    with pytest.raises(DomainError) as raised:
        answer_record(assessment_id=a.pk, pillar=pillar, level=level, evidence=evidence, actor=ANSWERER)
    assert raised.value.code == code
    assert not Answer.objects.exists()


@pytest.mark.django_db
def test_roles_without_the_right_are_refused() -> None:
    with pytest.raises(Forbidden):
        assessment_open(agency="DGO", round=2026, actor=READER)
    a = assessment_open(agency="DGO", round=2026, actor=ANSWERER)
    _answer_all(a.pk)
    with pytest.raises(Forbidden):
        assessment_sign_off(assessment_id=a.pk, actor=ANSWERER)


@pytest.mark.django_db
def test_the_next_round_compares_with_the_last_signed_one() -> None:
    first = assessment_open(agency="DGO", round=2025, actor=ANSWERER)
    _answer_all(first.pk, level=1)
    assessment_sign_off(assessment_id=first.pk, actor=REVIEWER)
    second = assessment_open(agency="DGO", round=2026, actor=ANSWERER)
    answer_record(assessment_id=second.pk, pillar="open", level=3, evidence=LINK, actor=ANSWERER)
    profile = {p.pillar: p for p in assessment_profile(agency="DGO", round=2026)}
    assert (profile["open"].level, profile["open"].previous_level) == (3, 1)
    assert (profile["secure"].level, profile["secure"].previous_level) == (None, 1)


# --- skills survey ---------------------------------------------------------------------------------


def _levels(value: int) -> dict[str, int]:
    return dict.fromkeys(framework().competencies, value)


@pytest.mark.django_db
def test_a_person_answers_once_and_the_answer_names_no_one() -> None:
    skills_round_open(code="2026", title="Skills 2026", actor=REVIEWER)
    skills_answer(round_code="2026", respondent="staff.jones", ministry="MOH", role="general", levels=_levels(1))
    with pytest.raises(Conflict) as raised:
        skills_answer(round_code="2026", respondent="staff.jones", ministry="MOH", role="manager", levels=_levels(3))
    assert raised.value.code == "already_answered"
    assert SkillsResponse.objects.count() == 1 and SkillsParticipation.objects.count() == 1
    stored = SkillsResponse.objects.get()
    row = {f.name: getattr(stored, f.name) for f in SkillsResponse._meta.concrete_fields}
    assert "staff.jones" not in repr(row)
    assert "staff.jones" not in SkillsParticipation.objects.get().mark


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("ministry", "role", "levels", "code"),
    [
        ("", "general", _levels(1), "invalid_ministry"),
        ("MOH", "astronaut", _levels(1), "invalid_role"),
        ("MOH", "general", {"safety": 1}, "levels_incomplete"),
        ("MOH", "general", _levels(7), "invalid_level"),
    ],
)
def test_bad_survey_answers_are_refused(ministry: str, role: str, levels: dict[str, int], code: str) -> None:
    skills_round_open(code="2026", title="Skills 2026", actor=REVIEWER)
    with pytest.raises(DomainError) as raised:
        skills_answer(round_code="2026", respondent="p", ministry=ministry, role=role, levels=levels)
    assert raised.value.code == code
    assert not SkillsResponse.objects.exists() and not SkillsParticipation.objects.exists()


@pytest.mark.django_db
def test_gaps_per_ministry_and_role_hide_every_group_under_five() -> None:
    skills_round_open(code="2026", title="Skills 2026", actor=REVIEWER)
    n = 0

    def answer(ministry: str, role: str, level: int, count: int) -> None:
        nonlocal n
        for _ in range(count):
            n += 1
            skills_answer(round_code="2026", respondent=f"p{n}", ministry=ministry, role=role, levels=_levels(level))

    answer("MOH", "general", 1, 6)  # shown
    answer("MOH", "ict", 2, 5)  # shown
    answer("MOH", "manager", 3, 2)  # too small: hidden, and so one more must be
    answer("MOF", "general", 2, SMALL_CELL - 1)  # the whole ministry is too small
    gaps = {(g.ministry, g.role): g for g in skills_gaps(round_code="2026")}
    assert gaps[("MOH", "manager")].suppressed
    # With the ministry's total shown, one hidden role would be its total minus the others: the
    # smallest shown role is hidden with it.
    assert gaps[("MOH", "ict")].suppressed
    assert not gaps[("MOH", "general")].suppressed
    assert gaps[("MOH", "")].respondents == 13
    assert gaps[("MOF", "")].suppressed and gaps[("MOF", "general")].suppressed
    general = {g.competency: g for g in gaps[("MOH", "general")].gaps}
    # General staff need intermediate (2) information literacy and have foundation (1): everyone is below.
    assert general["information"].gap == pytest.approx(1.0)
    assert general["information"].below == 1.0
    assert general["service-design"].gap == 0.0
    for group in gaps.values():
        assert group.suppressed or (group.respondents or 0) >= SMALL_CELL
