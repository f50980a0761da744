"""Many births in one request (``POST /api/v1/registry/events/births/batch``, ``register_births``): a
hospital entering a paper backlog. All are registered, with every row, access record and published
event a single registration leaves, or none is, and the caller is told which births to fix."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gov21.audit.models import AccessRecord
from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.exchange.models import Event
from gov21.identity.services import token_create
from gov21.registry import services
from gov21.registry.models import EventState, LifeEvent, Person, PersonVersion, RegistrationCounter
from gov21.registry.records import BirthFacts
from gov21.registry.services import workflow
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
URL = "/api/v1/registry/events/births/batch"


@pytest.fixture
def mothers(registrar: Principal, exchange: None) -> list[Person]:
    return [
        register_person(registrar, given=f"Mother{i}", family=f"Family{i}", sex="F", born=date(1985 + i, 1, 2 + i))
        for i in range(3)
    ]


def _birth(mother: Person, days_ago: int = 5, **extra: Any) -> dict[str, Any]:
    return {
        "given_names": f"Child of {mother.given_names}",
        "family_name": mother.family_name,
        "sex": "M",
        "birth_date": (timezone.localdate() - timedelta(days=days_ago)).isoformat(),
        "birth_parish": "XA-03",
        "mother_uin": mother.uin,
        **extra,
    }


def _client(role: str = "registrar") -> Client:
    token = token_create(name="hospital", role=role, lifetime=timedelta(hours=1), created_by="test").token
    return Client(headers={"Authorization": f"Bearer {token}"})


def _state() -> tuple[int, ...]:
    """What a registration adds to: persons, versions, events, access records, published events, counters."""
    return (
        Person.objects.count(),
        PersonVersion.objects.count(),
        LifeEvent.objects.count(),
        AccessRecord.objects.count(),
        Event.objects.count(),
        sum(RegistrationCounter.objects.values_list("last", flat=True)),
    )


def test_a_batch_registers_every_birth_as_one_registration_would(mothers: list[Person]) -> None:
    before = _state()
    response = _client().post(URL, {"births": [_birth(m) for m in mothers]}, content_type="application/json")

    assert response.status_code == 201, response.content
    items = response.json()["items"]
    assert len(items) == 3
    children = {p.uin: p for p in Person.objects.filter(uin__in=[i["uin"] for i in items])}
    for item, mother in zip(items, mothers, strict=True):
        child = children[item["uin"]]
        assert child.mother_id == mother.pk
        event = LifeEvent.objects.get(pk=item["declaration"])
        assert (event.state, event.number, event.subject_id) == (EventState.REGISTERED, item["number"], child.pk)
        assert [(t.from_state, t.to_state) for t in event.transitions.order_by("pk")] == [
            ("", "declared"),
            ("declared", "validated"),
            ("validated", "registered"),
        ]
        actions = set(AccessRecord.objects.filter(detail__event=event.pk).values_list("action", flat=True))
        assert actions == {"declare.birth", "register.birth"}
        assert Event.objects.filter(idempotency_key=f"{event.number}:birth.registered").count() == 1
    numbers = sorted(int(i["number"].rsplit("-", 1)[1]) for i in items)
    assert numbers == list(range(numbers[0], numbers[0] + 3))  # gap-free, one after the other
    after = _state()
    assert [a - b for a, b in zip(after, before, strict=True)] == [3, 3, 3, 6, 3, 3]


def test_invalid_births_are_reported_each_by_place_and_nothing_is_registered(mothers: list[Person]) -> None:
    unknown = "2" * 9 + "0"
    from gov21.core.ids import verhoeff_check_digit

    unknown = unknown[:-1] + verhoeff_check_digit(unknown[:-1])
    births = [
        _birth(mothers[0]),
        _birth(mothers[1], mother_uin=unknown),
        _birth(mothers[2], days_ago=-3),  # born in three days' time
    ]
    before = _state()

    response = _client().post(URL, {"births": births}, content_type="application/json")

    assert response.status_code == 422, response.content
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "batch_invalid"
    assert "2 of the 3 births" in body["detail"]
    errors = {e["index"]: e for e in body["errors"]}
    assert set(errors) == {1, 2}
    assert (errors[1]["code"], errors[1]["field"]) == ("person_not_found", "mother_uin")
    assert errors[2]["field"] == "birth_date"
    assert _state() == before


def test_two_births_to_one_mother_within_nine_months_are_held_back(mothers: list[Person]) -> None:
    before = _state()
    response = _client().post(
        URL,
        {"births": [_birth(mothers[0], days_ago=100), _birth(mothers[1]), _birth(mothers[0], days_ago=10)]},
        content_type="application/json",
    )
    assert response.status_code == 422, response.content
    [error] = response.json()["errors"]
    assert (error["index"], error["code"]) == (2, "possible_duplicate")
    assert "birth 0 of this batch" in error["detail"]
    assert _state() == before


def test_a_malformed_birth_is_named_by_its_place(mothers: list[Person]) -> None:
    births = [_birth(mothers[0]), _birth(mothers[1], sex="Q")]
    response = _client().post(URL, {"births": births}, content_type="application/json")
    assert response.status_code == 422
    assert response.json()["field"] == "births.1.sex"


def test_an_empty_or_oversized_batch_is_refused(mothers: list[Person]) -> None:
    client = _client()
    assert client.post(URL, {"births": []}, content_type="application/json").status_code == 422
    too_many = [_birth(mothers[0])] * (services.BATCH_MAX + 1)
    assert client.post(URL, {"births": too_many}, content_type="application/json").status_code == 422


def test_a_clerk_may_not_register(mothers: list[Person]) -> None:
    before = _state()
    response = _client("clerk").post(URL, {"births": [_birth(mothers[0])]}, content_type="application/json")
    assert response.status_code == 403
    assert _state() == before


def test_a_failure_while_writing_leaves_no_birth_of_the_batch(
    mothers: list[Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    # The third birth's write fails (its UIN cannot be issued) after two were written in the transaction.
    person_of = workflow.birth_person
    calls = {"n": 0}

    def failing(event: LifeEvent, **kwargs: Any) -> Person:
        calls["n"] += 1
        if calls["n"] == 3:
            raise DomainError("uin_pool_empty", "No UIN could be issued; try again.", status=503)
        return person_of(event, **kwargs)

    monkeypatch.setattr(workflow, "birth_person", failing)
    before = _state()
    with pytest.raises(DomainError):
        services.register_births(
            births=[BirthFacts.model_validate(_birth(m)) for m in mothers],
            actor=Principal(name="hospital", kind="system", roles=frozenset({"registrar"})),
        )
    assert calls["n"] == 3
    assert _state() == before
