"""Fuzzing every OpenAPI document with a bounded number of cases (``bench/fuzz.py`` runs more)."""

from __future__ import annotations

import os

import pytest

from tests.security import fuzzing, policy
from tests.security.world import NO_RIGHTS_CLIENT, World, world_fixture

world = pytest.fixture(scope="module")(world_fixture)

# Generated requests per operation; bench/fuzz.py raises it for the long run.
CASES = int(os.environ.get("GOV21_FUZZ_CASES", "8"))


@pytest.mark.parametrize("role", ["token_registrar", "token_reader", "anonymous"])
def test_the_platform_api_never_fails_and_answers_errors_as_problems(world: World, db: None, role: str) -> None:
    report = fuzzing.Report()
    headers = {"Authorization": f"Bearer {world.tokens[role]}"} if role in world.tokens else {}
    fuzzing.fuzz_platform(fuzzing.platform_schema(), headers=headers, cases=CASES, report=report)
    assert len(report.requests) == len(policy.API)
    assert report.failures == [], report.summary()


# Server errors the fuzzing found and that are not fixed yet: (operation label prefix, what the
# failure says). The fuzz test sets these aside; each has a strict xfail with the input that broke it.
FUZZ_OPEN: list[tuple[str, str]] = []


def _exchange_params() -> list[str]:
    return sorted({service for service, _, _ in policy.EXCHANGE})


@pytest.mark.parametrize("rights", ["with", "without"])
@pytest.mark.parametrize("service", _exchange_params())
def test_every_exchange_service_never_fails_and_answers_errors_in_xroad_shape(
    world: World, db: None, service: str, rights: str
) -> None:
    def client_for(service: str, method: str, path: str) -> str:
        allowed = policy.EXCHANGE[(service, method, path)].allowed
        return sorted(allowed)[0] if rights == "with" and allowed else NO_RIGHTS_CLIENT

    report = fuzzing.Report()
    schemas = {service: fuzzing.exchange_schemas()[service]}
    fuzzing.fuzz_exchange(schemas, instance=world.instance, client_for=client_for, cases=CASES, report=report)
    assert len(report.requests) == sum(1 for s, _, _ in policy.EXCHANGE if s == service)
    new = [f for f in report.failures if not any(f[0].startswith(op) and text in f[2] for op, text in FUZZ_OPEN)]
    assert new == [], report.summary()


def test_the_benefits_event_receiver_answers_a_sequence_number_beyond_64_bits(world: World, db: None) -> None:
    from gov21.exchange.contracts import exchange_call

    answer = exchange_call(
        client=f"{world.instance}/GOV/CRO/civil-registry",
        service=f"{world.instance}/GOV/MSD/benefits/events",
        path="/",
        method="POST",
        body=b'{"event_type": "birth.registered", "seq": 356107924221414887605771253579776, "payload": {}}',
        content_type="application/json",
    )
    assert answer.status == 422 and not answer.error, (answer.status, answer.error, answer.body)
    assert answer.headers["content-type"].startswith("application/problem+json")


def test_the_pull_service_answers_an_after_beyond_64_bits(world: World, db: None) -> None:
    from gov21.exchange.contracts import exchange_call

    answer = exchange_call(
        client=f"{world.instance}/GOV/STATS/statistics",
        service=f"{world.instance}/GOV/EXCHANGE/pubsub/events",
        path="/birth.registered",
        query="after=99999999999999999999999",
    )
    assert answer.status == 422 and not answer.error, (answer.status, answer.error, answer.body)
    assert answer.headers["content-type"].startswith("application/problem+json")
