"""A national instance sends its signed-off self-assessment to the regional hub through the exchange
(here the hub is this instance's own DGO/readiness/regional service, called through the gateway as a
partner's would be), and the submission enters the regional ranking."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from django.test import Client, override_settings

from gov21.core.errors import Conflict, DomainError, Forbidden
from gov21.core.principal import Principal
from gov21.readiness.assessments import Evidence, answer_record, assessment_open, assessment_sign_off
from gov21.readiness.models import RegionalSubmission
from gov21.readiness.reference import questionnaire
from gov21.readiness.regional import member_register, submission_send

ANSWERER = Principal(name="dgo.analyst", kind="staff", roles=frozenset({"clerk"}))
REVIEWER = Principal(name="dgo.director", kind="staff", roles=frozenset({"supervisor"}))
LINK = Evidence(url="https://dgo.example/evidence")


@pytest.fixture(autouse=True)
def _nation(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setenv("GOV21_READINESS_COUNTRY", "HTI")
    with override_settings(DATA_DIR=tmp_path):
        yield


def _signed(agency: str, level: int, round: int = 2026) -> None:
    a = assessment_open(agency=agency, round=round, actor=ANSWERER)
    for pillar in questionnaire().questions:
        answer_record(assessment_id=a.pk, pillar=pillar, level=level, evidence=LINK, actor=ANSWERER)
    assessment_sign_off(assessment_id=a.pk, actor=REVIEWER)


def _ranking() -> dict[str, dict[str, object]]:
    body = Client().get("/api/v1/readiness/rankings", {"index": "21cg", "year": 2018, "group": "caricom"}).json()
    return {c["country_code"]: c for c in body["countries"]}


@pytest.mark.django_db
def test_a_national_submission_reaches_the_hub_and_enters_the_regional_ranking(
    exchange: None, egdi_loaded: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    before = _ranking()
    assert set(before["HTI"]["pillars"]) == {"citizen-centric", "participatory", "inter-connected", "capable"}
    # Jamaica's instance sends a weak round first (in this one-instance test, XA speaks for each in turn).
    member_register(instance="XA", country_code="JAM")
    monkeypatch.setenv("GOV21_READINESS_COUNTRY", "JAM")
    _signed("MOF", 1, round=2025)
    assert submission_send(round=2025, actor=REVIEWER)["country_code"] == "JAM"
    member_register(instance="XA", country_code="HTI")
    monkeypatch.setenv("GOV21_READINESS_COUNTRY", "HTI")
    _signed("DGO", 4)
    _signed("CRO", 4)
    receipt = submission_send(round=2026, actor=REVIEWER)
    assert (receipt["country_code"], receipt["round"], receipt["replaced"]) == ("HTI", 2026, False)
    row = RegionalSubmission.objects.get(country_code="HTI")
    assert row.client == "XA/GOV/DGO/readiness" and row.agencies == 2 and row.message_id
    assert row.levels["secure"] == 4
    after = _ranking()
    # The pillars only the self-assessment measures now count, and Haiti, last by the UN's indices
    # alone, moves up on a full self-assessment.
    assert {"seamless", "resilient", "open", "secure"} <= set(after["HTI"]["pillars"])
    assert after["HTI"]["rank"] < before["HTI"]["rank"]
    again = submission_send(round=2026, actor=REVIEWER)
    assert again["replaced"] is True and RegionalSubmission.objects.count() == 2


@pytest.mark.django_db
def test_the_hub_refuses_an_instance_that_does_not_speak_for_the_country(exchange: None) -> None:
    member_register(instance="XA", country_code="JAM")
    _signed("DGO", 2)
    with pytest.raises(DomainError) as raised:
        submission_send(round=2026, actor=REVIEWER)
    assert raised.value.code == "not_your_country" and raised.value.status == 403
    assert not RegionalSubmission.objects.exists()


@pytest.mark.django_db
def test_nothing_is_sent_before_an_assessment_is_signed_off(exchange: None) -> None:
    member_register(instance="XA", country_code="HTI")
    assessment_open(agency="DGO", round=2026, actor=ANSWERER)
    with pytest.raises(Conflict) as raised:
        submission_send(round=2026, actor=REVIEWER)
    assert raised.value.code == "nothing_signed"
    with pytest.raises(Forbidden):
        submission_send(round=2026, actor=ANSWERER)


@pytest.mark.django_db
def test_one_instance_speaks_for_one_country() -> None:
    member_register(instance="XA", country_code="HTI")
    with pytest.raises(Conflict):
        member_register(instance="XB", country_code="HTI")
    with pytest.raises(DomainError):
        member_register(instance="XB", country_code="XXX")


def _pillars(year: int) -> set[str]:
    body = Client().get("/api/v1/readiness/rankings", {"index": "21cg", "year": year, "group": "caricom"}).json()
    return set(next(c for c in body["countries"] if c["country_code"] == "HTI")["pillars"])


@pytest.mark.django_db
def test_each_survey_year_is_ranked_with_the_rounds_it_stands_for(exchange: None, egdi_loaded: list[int]) -> None:
    only_the_un = {"citizen-centric", "participatory", "inter-connected", "capable"}
    member_register(instance="XA", country_code="HTI")
    _signed("DGO", 3, round=2017)
    submission_send(round=2017, actor=REVIEWER)
    # The 2017 round stands for the 2016 survey (the latest loaded not after it), not for 2014's,
    # nor for 2018's, which a later round would stand for.
    assert {"seamless", "secure"} <= _pillars(2016)
    assert _pillars(2014) == only_the_un
    assert _pillars(2018) == only_the_un
    _signed("DGO", 2, round=2019)
    submission_send(round=2019, actor=REVIEWER)
    assert {"seamless", "secure"} <= _pillars(2018)
    assert RegionalSubmission.objects.count() == 2
