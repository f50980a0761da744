"""The readiness back office through the test client, signed in as staff through OpenID Connect: the
anonymous skills survey answered once, its bad answers, and the gaps page that shows no group of
fewer than five people."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gov21.core.principal import Principal, PrincipalKind
from gov21.readiness.assessments import SMALL_CELL, skills_answer, skills_round_open
from gov21.readiness.models import SkillsParticipation, SkillsResponse
from gov21.readiness.reference import framework
from tests.identity.flows import portal_sign_in, staff

# The ministries and agencies to choose from are the exchange directory's government members.
pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

SKILLS = "/office/readiness/skills/"
GAPS = "/office/readiness/skills/gaps/"
REVIEWER = Principal(name="dgo.reviewer", kind=PrincipalKind.STAFF, roles=frozenset({"supervisor"}))


def _signed_in(username: str, *roles: str, next_url: str = SKILLS) -> Client:
    client = Client()
    portal_sign_in(client, staff(username, *roles), next_url=next_url)
    return client


def _answer(ministry: str, role: str, level: int) -> dict[str, str]:
    return {"ministry": ministry, "role": role} | {f"level-{c}": str(level) for c in framework().competencies}


def _text(response: object) -> str:
    return re.sub(r"\s+", " ", response.content.decode())  # type: ignore[attr-defined]


def test_a_member_of_staff_answers_once_and_anonymously() -> None:
    skills_round_open(code="2026", title="Skills 2026", actor=REVIEWER)
    clerk = _signed_in("ready.clerk1", "clerk")
    page = clerk.get(SKILLS)
    assert page.status_code == 200
    assert 'for="id_level-security"' in page.content.decode() and "Information security" in _text(page)
    response = clerk.post(SKILLS, _answer("MSD", "general", 2))
    assert response.status_code == 302 and response["Location"] == SKILLS + "?answered=1"
    done = clerk.get(response["Location"])
    assert "Your answer is anonymous" in _text(done)
    stored = SkillsResponse.objects.get()
    assert (stored.ministry, stored.role, stored.levels["security"]) == ("MSD", "general", 2)
    assert "ready.clerk1" not in repr(stored.__dict__)
    # Coming back shows that the round is answered, not the form; a second answer is refused in words.
    again = clerk.get(SKILLS)
    assert "You have already answered this survey" in _text(again) and 'name="ministry"' not in _text(again)
    second = clerk.post(SKILLS, _answer("PWD", "manager", 4))
    assert second.status_code == 409 and "You have already answered this survey" in _text(second)
    assert SkillsResponse.objects.count() == 1 and SkillsParticipation.objects.count() == 1


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ministry": ""}, "Choose your ministry."),
        ({"ministry": "M O H!"}, "Choose your ministry."),
        ({"ministry": "MOH"}, "Choose your ministry."),
        ({"role": "astronaut"}, "Choose your role."),
        ({"level-safety": "7"}, "Choose a level from 0 to 4."),
        ({"level-safety": ""}, "Give your level in Safety."),
    ],
)
def test_bad_answers_are_shown_on_the_form_and_store_nothing(change: dict[str, str], message: str) -> None:
    skills_round_open(code="2026", title="Skills 2026", actor=REVIEWER)
    clerk = _signed_in("ready.clerk2", "clerk")
    response = clerk.post(SKILLS, _answer("MSD", "general", 1) | change)
    assert response.status_code == 422
    text = _text(response)
    assert 'class="error-summary"' in text and message in text
    assert not SkillsResponse.objects.exists() and not SkillsParticipation.objects.exists()
    # The person may still answer properly afterwards.
    assert clerk.post(SKILLS, _answer("MSD", "general", 1)).status_code == 302


def test_with_no_round_open_the_page_says_so() -> None:
    response = _signed_in("ready.clerk3", "clerk").get(SKILLS)
    assert response.status_code == 200 and "No round of the skills survey is open yet." in _text(response)


def test_a_visitor_is_sent_to_sign_in() -> None:
    response = Client().get(SKILLS)
    assert response.status_code == 302 and "/sign-in" in response["Location"]


def test_the_gaps_page_shows_no_group_under_five() -> None:
    skills_round_open(code="2026", title="Skills 2026", actor=REVIEWER)
    n = 0

    def answer(ministry: str, role: str, level: int, count: int) -> None:
        nonlocal n
        for _ in range(count):
            n += 1
            skills_answer(
                round_code="2026", respondent=f"p{n}", ministry=ministry, role=role, levels=_answer_levels(level)
            )

    answer("MOH", "general", 1, 6)
    answer("MOH", "ict", 2, 5)
    answer("MOH", "manager", 3, 2)
    answer("MOF", "general", 2, SMALL_CELL - 1)
    supervisor = _signed_in("ready.sup1", "supervisor", next_url=GAPS)
    page = supervisor.get(GAPS)
    assert page.status_code == 200
    text = _text(page)
    assert "All of MOH: 13 people" in text and "General staff in MOH: 6 people" in text
    # The small role, the role hidden with it so the total does not give it away, and the small ministry.
    assert text.count("Not shown: fewer than 5 people answered in this group") == 4
    for small in (
        ": 2 people",
        ": 4 people",
        ": 5 people",
        "ICT and security staff in MOH:",
        "Managers in MOH:",
        "of MOF:",
    ):
        assert small not in text
    # General staff need level 2 of information literacy and hold 1: everyone in the group is below it.
    assert re.search(r"Information and data literacy</th><td>2.0</td><td>1.0</td><td>1.0</td><td>100%</td>", text)
    chosen = supervisor.get(GAPS, {"round": "2026"})
    assert chosen.status_code == 200 and "All of MOH: 13 people" in _text(chosen)


def test_the_gaps_page_refuses_an_unknown_round_and_those_who_do_not_review() -> None:
    skills_round_open(code="2026", title="Skills 2026", actor=REVIEWER)
    supervisor = _signed_in("ready.sup2", "supervisor", next_url=GAPS)
    bad = supervisor.get(GAPS, {"round": "1999"})
    assert bad.status_code == 400 and "Choose one of the survey rounds listed." in _text(bad)
    clerk = _signed_in("ready.clerk4", "clerk", next_url=GAPS)
    refused = clerk.get(GAPS)
    assert refused.status_code == 403 and "Your role does not allow this" in _text(refused)


def _answer_levels(level: int) -> dict[str, int]:
    return dict.fromkeys(framework().competencies, level)


# --- agency self-assessment ------------------------------------------------------------------------

ASSESSMENTS = "/office/readiness/assessments/"


def _pillars() -> list[str]:
    from gov21.readiness.reference import questionnaire

    return list(questionnaire().questions)


def test_an_assessment_is_opened_answered_with_evidence_and_signed_off_by_another() -> None:
    clerk = _signed_in("ready.clerk5", "clerk", next_url=ASSESSMENTS)
    opened = clerk.post(ASSESSMENTS, {"agency": "DGO", "round": "2026"})
    assert opened.status_code == 302
    page_url = opened["Location"]
    assert "Self-assessment of DGO, 2026" in _text(clerk.get(page_url))
    first, *rest = _pillars()
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("backup-drill.pdf", b"%PDF-1.4 drill report", content_type="application/pdf")
    answered = clerk.post(page_url, {"action": "answer", "pillar": first, "level": "3", "evidence_file": upload})
    assert answered.status_code == 302
    for pillar in rest:
        data = {"action": "answer", "pillar": pillar, "level": "2", "evidence_url": "https://dgo.gov.example/report"}
        assert clerk.post(page_url, data).status_code == 302
    text = _text(clerk.get(page_url))
    assert "backup-drill.pdf" in text and "https://dgo.gov.example/report" in text
    # The clerk cannot sign off; the supervisor who answered nothing can.
    assert "Sign off this assessment" not in text
    assert clerk.post(page_url, {"action": "sign-off"}).status_code == 403
    supervisor = _signed_in("ready.sup3", "supervisor", next_url=ASSESSMENTS)
    assert "Sign off this assessment" in _text(supervisor.get(page_url))
    assert supervisor.post(page_url, {"action": "sign-off"}).status_code == 302
    done = _text(supervisor.get(page_url))
    assert "Signed off by ready.sup3" in done and "Record the answer" not in done
    assert f"{len(_pillars())} of {len(_pillars())}" in _text(supervisor.get(ASSESSMENTS))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"level": "9"}, "Choose a maturity level from 0 to 4."),
        ({"evidence_url": ""}, "Give the evidence: a link or a file, not both."),
        ({"evidence_url": "ftp://x"}, "The evidence link must start with https://."),
        ({"pillar": "flying"}, "Choose a pillar not yet answered."),
    ],
)
def test_bad_answers_are_shown_on_the_assessment_page(change: dict[str, str], message: str) -> None:
    from gov21.readiness.models import Answer

    clerk = _signed_in("ready.clerk6", "clerk", next_url=ASSESSMENTS)
    page_url = clerk.post(ASSESSMENTS, {"agency": "DGO", "round": "2026"})["Location"]
    data = {"action": "answer", "pillar": _pillars()[0], "level": "2", "evidence_url": "https://dgo.gov.example/r"}
    response = clerk.post(page_url, data | change)
    assert response.status_code == 422
    assert 'class="error-summary"' in _text(response) and message in _text(response)
    assert not Answer.objects.exists()


def test_opening_twice_or_badly_is_shown_on_the_form() -> None:
    clerk = _signed_in("ready.clerk7", "clerk", next_url=ASSESSMENTS)
    assert clerk.post(ASSESSMENTS, {"agency": "DGO", "round": "2026"}).status_code == 302
    twice = clerk.post(ASSESSMENTS, {"agency": "DGO", "round": "2026"})
    assert twice.status_code == 422 and "DGO already has an assessment for 2026." in _text(twice)
    unknown = clerk.post(ASSESSMENTS, {"agency": "NOPE", "round": "2026"})
    assert unknown.status_code == 422 and "Choose the agency." in _text(unknown)
    bad = clerk.post(ASSESSMENTS, {"agency": "DGO", "round": "twenty"})
    assert bad.status_code == 422 and "The round is the year of the assessment." in _text(bad)
    assert _signed_in("ready.sup4", "supervisor").get("/office/readiness/assessments/999999/").status_code == 404


def test_a_reviewer_cannot_sign_off_answers_they_gave() -> None:
    from gov21.readiness.models import Assessment

    supervisor = _signed_in("ready.sup5", "supervisor", next_url=ASSESSMENTS)
    page_url = supervisor.post(ASSESSMENTS, {"agency": "DGO", "round": "2026"})["Location"]
    for pillar in _pillars():
        data = {"action": "answer", "pillar": pillar, "level": "1", "evidence_url": "https://dgo.gov.example/r"}
        assert supervisor.post(page_url, data).status_code == 302
    refused = supervisor.post(page_url, {"action": "sign-off"})
    assert refused.status_code == 409 and "A reviewer cannot sign off answers they gave." in _text(refused)
    assert Assessment.objects.get().signed_off_at is None


def test_the_questionnaire_is_written_in_the_four_languages_and_shown_in_the_readers() -> None:
    from gov21.readiness.reference import questionnaire

    known = questionnaire()
    for pillar, texts in known.translations.items():
        assert set(texts) == {"en", "es", "fr", "nl"}, pillar
        assert len(set(texts.values())) == 4, pillar
    assert known.question("secure", "es-419") == known.translations["secure"]["es"]
    assert known.question("secure", "de") == known.questions["secure"]
    clerk = _signed_in("ready.clerk9", "clerk", next_url=ASSESSMENTS)
    opened = clerk.post(ASSESSMENTS, {"agency": "DGO", "round": "2026"})
    for language in ("es", "fr", "nl"):
        page = _text(clerk.get(opened["Location"], HTTP_ACCEPT_LANGUAGE=language))
        assert known.translations["open"][language].replace("'", "&#x27;") in page, language
        assert known.questions["open"] not in page


ROUNDS = "/office/readiness/skills/rounds/"


def test_a_reviewer_opens_and_closes_rounds_and_staff_answer_only_an_open_one() -> None:
    supervisor = _signed_in("ready.sup6", "supervisor", next_url=ROUNDS)
    assert "No round of the skills survey has been opened yet." in _text(supervisor.get(ROUNDS))
    opened = supervisor.post(ROUNDS, {"code": "2026", "title": "ICT skills survey 2026"})
    assert opened.status_code == 302 and opened["Location"] == ROUNDS
    twice = supervisor.post(ROUNDS, {"code": "2026", "title": "Again"})
    assert twice.status_code == 422 and "There is already a round with that code." in _text(twice)
    bad = supervisor.post(ROUNDS, {"code": "20 26!", "title": ""})
    assert bad.status_code == 422 and "Give the round a title." in _text(bad)
    clerk = _signed_in("ready.clerk10", "clerk")
    page = _text(clerk.get(SKILLS))
    assert "ICT skills survey 2026" in page
    # The ministries are the directory's, by name, in a select: no code to type.
    assert '<select name="ministry"' in page and '<option value="MSD">Ministry of Social Development</option>' in page
    assert clerk.post(SKILLS, _answer("MSD", "general", 2)).status_code == 302
    listed = _text(supervisor.get(ROUNDS))
    assert "Close round 2026" in listed and "<td>1</td>" in listed
    assert supervisor.post(ROUNDS, {"close": "2026"}).status_code == 302
    assert "Close round 2026" not in _text(supervisor.get(ROUNDS))
    # Closed: staff see no open round, an answer posted anyway is refused, the gaps stay readable.
    assert "No round of the skills survey is open yet." in _text(clerk.get(SKILLS))
    late = _signed_in("ready.clerk11", "clerk")
    assert late.post(SKILLS, _answer("MSD", "general", 2)).status_code in (200, 409)
    assert SkillsResponse.objects.count() == 1
    assert supervisor.get(GAPS, {"round": "2026"}).status_code == 200
    again = supervisor.post(ROUNDS, {"close": "2026"})
    assert again.status_code == 409 and "already closed" in _text(again)
    assert supervisor.post(ROUNDS, {"close": "1999"}).status_code == 404
    assert clerk.get(ROUNDS).status_code == 403


def test_the_header_leads_staff_who_assess_to_the_readiness_office() -> None:
    from gov21.core.office import office_entrances

    clerk = _signed_in("ready.clerk12", "clerk", next_url=SKILLS)
    page = clerk.get(SKILLS).content.decode()
    assert 'href="/office/readiness/assessments/" class="office-link">Readiness</a>' in page
    # The wing's own navigation shows a clerk only the pages a clerk may open.
    assert 'href="/office/readiness/skills/gaps/"' not in page and ROUNDS not in page
    supervisor = _signed_in("ready.sup7", "supervisor", next_url=SKILLS)
    assert ROUNDS in supervisor.get(SKILLS).content.decode()
    nobody = Principal(name="someone", kind=PrincipalKind.STAFF, roles=frozenset())
    assert all(e.url_name != "readiness-office:assessments" for e in office_entrances(nobody))
