"""Surveys: an eligible resident answers once and may change the answers until the close; a missing
required answer, an unknown option, a scale out of range and answers after the close are refused in
words on the page; only the number of people who answered is public before the close, the results
question by question after it, the free texts escaped."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gov21.core.errors import DomainError
from gov21.identity.contracts import SUBSTANTIAL
from gov21.participation import services
from gov21.participation.models import Process, SurveyQuestion, SurveyResponse
from tests.identity.flows import OFFICER, citizen, csrf_from, portal_sign_in
from tests.participation.helpers import close, survey
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _ids(process: Process) -> list[int]:
    return list(SurveyQuestion.objects.filter(process=process).order_by("position").values_list("pk", flat=True))


def _answers(
    process: Process,
    single: str | list[str] = "bus",
    multiple: tuple[str, ...] = ("park",),
    scale: str = "4",
    text: str = "",
) -> dict[str, Any]:
    one, many, score, free = _ids(process)
    return {f"q{one}": single, f"q{many}": list(multiple), f"q{score}": scale, f"q{free}": text}


def _signed_in(client: Client, slug: str = "s") -> str:
    portal_sign_in(client, citizen(), next_url=f"/participation/{slug}/")
    page = client.get(f"/participation/{slug}/")
    assert page.status_code == 200
    return csrf_from(page.content.decode())


def test_a_resident_answers_a_survey_once_and_changes_the_answers_before_the_close(client: Client) -> None:
    s = survey()
    token = _signed_in(client)
    form = client.get("/participation/s/").content.decode()
    assert 'type="radio"' in form and 'type="checkbox"' in form and "<textarea" in form

    first = client.post("/participation/s/survey", {**_answers(s), "csrfmiddlewaretoken": token})
    assert first.status_code == 302 and first["Location"].endswith("?answered=1")
    again = client.post(
        "/participation/s/survey",
        {**_answers(s, single="car", multiple=("park", "road")), "csrfmiddlewaretoken": token},
    )
    assert again.status_code == 302

    stored = SurveyResponse.objects.get()
    one, many, score, _free = _ids(s)
    assert stored.answers == {str(one): "car", str(many): ["park", "road"], str(score): 4}
    page = client.get("/participation/s/?answered=1").content.decode()
    assert "1 person has answered" in page and "your answers are recorded" in page
    # Before the close: the total only, no result.
    assert 'id="count-' not in page and "Mean:" not in page


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"single": ""}, "Answer the question: How do you come to town?"),
        ({"single": "train"}, "Choose only the options offered for: How do you come to town?"),
        ({"multiple": ("park", "moon")}, "Choose only the options offered for: What should we build?"),
        ({"scale": "6"}, "Choose a number from 1 to 5 for: How happy are you with the buses?"),
        ({"scale": "0"}, "Choose a number from 1 to 5 for: How happy are you with the buses?"),
        ({"scale": "three"}, "Choose a number from 1 to 5 for: How happy are you with the buses?"),
        ({"single": ["bus", "car"]}, "Choose one option for: How do you come to town?"),
        ({"text": "x" * 2001}, "Write at most 2,000 characters for: Anything else?"),
        ({"text": "bad\x01text"}, "The text contains characters we cannot accept."),
    ],
)
def test_a_wrong_answer_is_explained_in_an_error_summary_and_nothing_is_stored(
    client: Client, change: dict[str, Any], message: str
) -> None:
    s = survey()
    token = _signed_in(client)
    response = client.post("/participation/s/survey", {**_answers(s, **change), "csrfmiddlewaretoken": token})
    page = response.content.decode()
    assert response.status_code == 422
    assert 'class="error-summary"' in page and message in page and "<title>Error:" in page
    assert not SurveyResponse.objects.exists()


def test_an_answer_to_a_question_of_no_survey_is_refused(client: Client) -> None:
    s = survey()
    token = _signed_in(client)
    response = client.post("/participation/s/survey", {**_answers(s), "q999999": "x", "csrfmiddlewaretoken": token})
    assert response.status_code == 422 and "Answer only the questions of this survey." in response.content.decode()
    assert not SurveyResponse.objects.exists()


def test_answers_after_the_close_are_refused_and_the_form_is_gone(client: Client) -> None:
    s = survey()
    token = _signed_in(client)
    close(s)
    response = client.post("/participation/s/survey", {**_answers(s), "csrfmiddlewaretoken": token})
    assert response.status_code == 409 and "This process has closed." in response.content.decode()
    assert not SurveyResponse.objects.exists()
    assert "Send my answers" not in client.get("/participation/s/").content.decode()


def test_a_visitor_is_sent_to_sign_in_and_nothing_is_stored(client: Client) -> None:
    survey()
    response = client.post("/participation/s/survey", {"q1": "bus"})
    assert response.status_code == 302 and "level=substantial" in response["Location"]
    assert not SurveyResponse.objects.exists()


def test_the_results_after_the_close_count_each_option_the_scale_and_escape_the_free_texts(client: Client) -> None:
    s = survey()
    one, many, score, free = _ids(s)
    people = [register_person(OFFICER).uin for _ in range(3)]
    sent = [
        {one: ["bus"], many: ["park", "pool"], score: ["5"], free: ["<script>alert(1)</script> more buses"]},
        {one: ["car"], many: ["park"], score: ["2"]},
        {one: ["bus"], many: ["road"], score: ["5"], free: ["Fine"]},
    ]
    for uin, answers in zip(people, sent, strict=True):
        services.survey_answer(slug="s", uin=uin, level=SUBSTANTIAL, answers=answers)
    before = client.get("/participation/s/").content.decode()
    assert "3 people have answered" in before and "more buses" not in before and 'id="count-' not in before

    close(s)
    page = client.get("/participation/s/").content.decode()
    assert f'id="count-{one}-bus">2<' in page and f'id="count-{one}-car">1<' in page
    assert f'id="count-{many}-park">2<' in page and f'id="count-{many}-pool">1<' in page
    assert f'id="count-{many}-road">1<' in page
    assert f'id="count-{score}-5">2<' in page and f'id="count-{score}-2">1<' in page
    assert f'id="count-{score}-1">0<' in page and "Mean: 4.0" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; more buses" in page and "<script>alert" not in page
    # The free texts in alphabetical order, which says nothing of who wrote them or when.
    assert page.index("&lt;script&gt;") < page.index(">Fine<")


def test_a_survey_needs_questions_with_options_where_they_choose() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from gov21.participation.services import QuestionFacts
    from tests.participation.helpers import OFFICER as DGO

    now = timezone.now()
    common = {"kind": "survey", "title": "S", "agency": "PWD", "opens_at": now, "closes_at": now + timedelta(days=1)}
    with pytest.raises(DomainError) as empty:
        services.process_create(slug="a", actor=DGO, **common)  # type: ignore[arg-type]
    assert empty.value.code == "no_questions"
    with pytest.raises(DomainError) as one_option:
        services.process_create(
            slug="b",
            actor=DGO,
            questions=[QuestionFacts("single", "Q", (("x", "X"),))],
            **common,  # type: ignore[arg-type]
        )
    assert one_option.value.code == "options"
    assert not Process.objects.exists()


def test_a_person_of_another_parish_cannot_answer_a_parish_survey() -> None:
    survey(parish="XA-01")
    uin = register_person(OFFICER, address_parish="XA-02", address_settlement="Grand Anse").uin
    with pytest.raises(DomainError) as refused:
        services.survey_answer(slug="s", uin=uin, level=SUBSTANTIAL, answers={})
    assert refused.value.code == "other_parish"
    assert not SurveyResponse.objects.exists()
