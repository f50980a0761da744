"""The results of closed processes as open data: the totals each page shows after its close, one
row per process, item and measure; nothing of an open process, no pseudonym, no free-text answer;
published on the data portal, where the CKAN API reads them back."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.identity.contracts import SUBSTANTIAL
from gov21.participation import services
from gov21.participation.models import Ballot, Signature, SurveyQuestion
from gov21.participation.opendata import results_rows
from gov21.wiring.publish import participation_publish
from tests.identity.flows import OFFICER
from tests.participation.helpers import close, process, survey
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _uin() -> str:
    return register_person(OFFICER).uin


def _measures(rows: list[tuple[object, ...]], slug: str) -> dict[tuple[object, object], object]:
    return {(r[6], r[8]): r[9] for r in rows if r[0] == slug}


def test_only_closed_processes_are_published_with_the_totals_their_pages_show() -> None:
    petition = process("petition", slug="pet")
    budget = process("budget", slug="bud")
    for _ in range(3):
        services.petition_sign(slug="pet", uin=_uin(), level=SUBSTANTIAL)
    for chosen in (["park", "lights"], ["clinic", "lights"], ["lights"]):
        services.ballot_cast(slug="bud", uin=_uin(), level=SUBSTANTIAL, projects=chosen)
    assert results_rows() == []  # nothing before the close

    close(petition)
    assert _measures(results_rows(), "pet") == {("", "signatures"): 3}
    assert _measures(results_rows(), "bud") == {}
    close(budget)
    assert _measures(results_rows(), "bud") == {
        ("", "ballots"): 3,
        ("clinic", "ballots_choosing"): 1,
        ("lights", "ballots_choosing"): 3,
        ("park", "ballots_choosing"): 1,
    }
    published = repr(results_rows())
    for pseudonym in [
        *Signature.objects.values_list("pseudonym", flat=True),
        *Ballot.objects.values_list("pseudonym", flat=True),
    ]:
        assert pseudonym not in published


def test_a_survey_publishes_its_counts_and_never_its_free_texts() -> None:
    s = survey(slug="s")
    one, many, score, free = SurveyQuestion.objects.filter(process=s).order_by("position").values_list("pk", flat=True)
    for answers in (
        {one: ["bus"], many: ["park", "pool"], score: ["5"], free: ["Call me on 555-0100, Jane Doe"]},
        {one: ["car"], many: ["park"], score: ["2"]},
    ):
        services.survey_answer(slug="s", uin=_uin(), level=SUBSTANTIAL, answers=answers)
    close(s)
    measures = _measures(results_rows(), "s")
    assert measures[("", "responses")] == 2
    assert measures[(f"question-{one}/bus", "answers")] == 1 and measures[(f"question-{one}/car", "answers")] == 1
    assert measures[(f"question-{many}/park", "answers")] == 2 and measures[(f"question-{many}/road", "answers")] == 0
    assert measures[(f"question-{score}/5", "answers")] == 1 and measures[(f"question-{score}/1", "answers")] == 0
    assert "Jane Doe" not in repr(results_rows())


def test_the_results_reach_the_data_portal_and_a_second_run_without_change_adds_no_version() -> None:
    petition = process("petition", slug="pet")
    services.petition_sign(slug="pet", uin=_uin(), level=SUBSTANTIAL)
    close(petition)
    first = participation_publish()
    assert first.created and first.version == 1
    assert not participation_publish().created
    answer = Client().get("/api/3/action/datastore_search", {"resource_id": first.resource_id})
    assert answer.status_code == 200, answer.content
    [record] = answer.json()["result"]["records"]
    assert (record["process"], record["kind"], record["measure"], record["value"]) == (
        "pet",
        "petition",
        "signatures",
        1,
    )
    assert record["closed_on"]
