"""The live indicators, measured from a small synthetic nation through the exchange, each compared
with the value computed here straight from the rows (Python over every row, not the SQL the
agencies' services run)."""

from __future__ import annotations

import statistics
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from gov21.continuity.models import DrillRun
from gov21.core import config
from gov21.core.errors import DomainError
from gov21.demo.activity import activity_write
from gov21.demo.bulk import load_nation
from gov21.demo.synthetic import simulate
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.exchange.models import LogEntry, Member, Service
from gov21.identity.models import Account
from gov21.onestop.definitions import definitions_load
from gov21.onestop.models import Application, ServiceDefinition
from gov21.readiness.indicators import indicators_measure, live_report
from gov21.readiness.models import IndicatorRound
from gov21.registry.models import Person

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _nation(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[None]:
    with override_settings(DATA_DIR=tmp_path):
        request.getfixturevalue("exchange")
        load_nation(simulate(people=300, seed=11, today=timezone.localdate()))
        definitions_load()
        activity_write(seed=5)
        yield


def _expected() -> dict[str, float | None]:
    """Every indicator from the rows themselves, by the words of its definition."""
    now = timezone.now()
    today = timezone.localdate()
    catalogue = [d.definition for d in ServiceDefinition.objects.filter(active=True)]
    apps = list(Application.objects.all())
    submitted = [a for a in apps if a.submitted_at is not None]
    decided = [a for a in submitted if a.decided_at is not None and a.decision]
    living = [
        p
        for p in Person.objects.all()
        if p.birth_date <= today and (p.death_date is None or p.death_date > today) and p.address_parish
    ]
    activated = [a for a in Account.objects.filter(kind="citizen") if a.status == "active" and a.activated_at]
    instance = config.INSTANCE.read()
    services = [s for s in Service.objects.filter(subsystem__member__instance=instance) if not s.disabled]
    year = [d for d in DrillRun.objects.all() if now - timedelta(days=365) < d.started_at <= now]
    passed = [d for d in year if d.ok]
    return {
        "services-online": sum(1 for d in catalogue if not d.get("documents_required")) / len(catalogue),
        "automatic-decisions": sum(1 for a in decided if a.decided_by == "gov21 automatic decision") / len(decided),
        "ask-once": sum(1 for a in submitted if "_sources" in a.verified) / len(submitted),
        "decisions-within-sla": sum(1 for a in decided if a.decided_at <= a.due_at) / len(decided),  # type: ignore[operator]
        "median-decision-days": statistics.median(
            (a.decided_at - a.submitted_at).total_seconds() / 86400  # type: ignore[operator]
            for a in decided
        ),
        "exchange-agencies": float(Member.objects.filter(instance=instance, member_class="GOV").count()),
        "exchange-services": float(len(services)),
        "exchange-services-used": sum(1 for s in services if s.rights.exists()) / len(services),
        "digital-id": len(activated) / len(living),
        "restore-drills": len(passed) / len(year),
        "restore-rpo-hours": max(d.rpo_seconds or 0 for d in passed) / 3600,
        "restore-rto-minutes": max(d.rto_seconds or 0 for d in passed) / 60,
    }


def test_every_indicator_equals_its_definition_computed_from_the_rows() -> None:
    expected = _expected()
    measured = indicators_measure(accessibility=False)
    values = {v.code: v.value for v in measured.values.all()}
    for code, value in expected.items():
        assert values[code] == pytest.approx(value, rel=1e-9, abs=1e-9), code
    # Not every application was pre-filled or decided automatically: the shares are real fractions.
    assert 0 < values["ask-once"] < 1 and 0 < values["automatic-decisions"] < 1
    assert values["accessibility"] is None  # not checked in this round


def test_the_numbers_are_read_through_the_exchange_as_the_readiness_office() -> None:
    last = LogEntry.objects.order_by("-pk").values_list("pk", flat=True).first() or 0
    indicators_measure(accessibility=False)
    called = set(
        LogEntry.objects.filter(pk__gt=last, client=agency_client("DGO", "readiness")).values_list("service", flat=True)
    )
    for member, subsystem, code in (
        ("PORTAL", "services", "numbers"),
        ("IDA", "identity", "numbers"),
        ("CRO", "civil-registry", "numbers"),
        ("EXCHANGE", "data-embassy", "drills"),
        ("EXCHANGE", "pubsub", "directory"),
    ):
        assert any(s.startswith(agency_service(member, subsystem, code)) for s in called), code
    # Another agency's system has no right to the one-stop shop's numbers.
    with pytest.raises(DomainError):
        exchange_json(client=agency_client("LTA", "licensing"), service=agency_service("PORTAL", "services", "numbers"))


def test_rounds_are_kept_and_compared() -> None:
    first = indicators_measure(accessibility=False)
    service = ServiceDefinition.objects.filter(active=True).first()
    assert service is not None
    now = timezone.now()
    Application.objects.create(
        reference="X00000000001",
        service=service,
        applicant_uin="2345678901",
        created_at=now,
        updated_at=now,
        submitted_at=now,
        due_at=now + timedelta(days=5),
    )
    second = indicators_measure(accessibility=False)
    assert IndicatorRound.objects.count() == 2 and second.measured_at > first.measured_at
    shown = {s.definition.code: s for s in live_report().indicators}
    ask_once = shown["ask-once"]
    assert ask_once.previous is not None and ask_once.value is not None
    assert ask_once.denominator == (ask_once.numerator or 0) / ask_once.value
    assert ask_once.value < ask_once.previous  # one more application, not pre-filled
    assert shown["restore-rpo-hours"].direction == "lower" and shown["restore-drills"].pillar == "resilient"


def test_the_indicators_are_published_with_their_definitions() -> None:
    indicators_measure(accessibility=False)
    body = Client().get("/api/v1/readiness/indicators").json()
    found = {i["code"]: i for i in body["indicators"]}
    assert found["digital-id"]["definition"] and found["digital-id"]["computation"]
    assert found["digital-id"]["value"] == pytest.approx(_expected()["digital-id"])
    assert found["exchange-agencies"]["pillar"] is None  # a count: shown, not in the index
    page = Client().get("/readiness/indicators").content.decode()
    assert "Persons with an activated digital ID" in page and "IDA/identity/numbers" in page


def test_the_methodology_refuses_a_direction_it_does_not_know() -> None:
    from gov21.readiness.index import DEFAULT_PATH, methodology_parse

    text = DEFAULT_PATH.read_text(encoding="utf-8").replace("direction: lower", "direction: sideways", 1)
    with pytest.raises(DomainError) as refused:
        methodology_parse(text)
    assert refused.value.field is not None and refused.value.field.endswith(".direction")


def test_the_nations_live_indicators_enter_its_index(egdi_loaded: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    from gov21.readiness.selectors import group_get, index_result

    monkeypatch.setenv("GOV21_READINESS_COUNTRY", "BRB")
    before, _ = index_result(year=2018, group=group_get("caricom"))
    assert not any(i.source.startswith("live.") for i in before.indicators)  # nothing measured yet
    indicators_measure(accessibility=False)
    after, _ = index_result(year=2018, group=group_get("caricom"))
    live = {i.code for i in after.indicators if i.source.startswith("live.")}
    assert {"live-digital-id", "live-restore-rpo-hours", "live-ask-once"} <= live


def test_an_earlier_round_is_read_as_of_its_moment_and_a_malformed_moment_is_refused() -> None:
    first = indicators_measure(accessibility=False)
    IndicatorRound.objects.filter(pk=first.pk).update(measured_at=first.measured_at - timedelta(days=30))
    indicators_measure(accessibility=False)
    client = Client()

    latest = client.get("/api/v1/readiness/indicators").json()
    earlier = client.get(
        "/api/v1/readiness/indicators", {"as_of": (timezone.now() - timedelta(days=10)).isoformat()}
    ).json()
    assert latest["previous_measured_at"] == earlier["measured_at"] != latest["measured_at"]
    assert earlier["previous_measured_at"] is None
    before_any = client.get("/api/v1/readiness/indicators", {"as_of": "2001-01-01T00:00:00"}).json()
    assert before_any["measured_at"] is None and all(i["value"] is None for i in before_any["indicators"])

    # An offset PostgreSQL refuses (beyond ±15:59) is resolved to UTC first.
    far = client.get("/api/v1/readiness/indicators", {"as_of": "0484-04-13T06:49:49.704+21:20"})
    assert far.status_code == 200 and far.json()["measured_at"] is None
    beyond = client.get("/api/v1/readiness/indicators", {"as_of": "0001-01-01T00:00:00+05:00"})
    assert beyond.status_code == 422 and beyond["Content-Type"] == "application/problem+json"

    refused = client.get("/api/v1/readiness/indicators", {"as_of": "last tuesday"})
    assert refused.status_code == 422
    assert refused["Content-Type"] == "application/problem+json"
    assert "as_of" in refused.content.decode()
