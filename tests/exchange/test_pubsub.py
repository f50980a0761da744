from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import orjson
import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from gov21.core.errors import DomainError, NotFound
from gov21.core.principal import Principal
from gov21.exchange import node, pubsub, setup
from gov21.exchange.contracts import data_uses_for, event_publish, exchange_call
from gov21.exchange.models import Delivery, Event, LogEntry, Subscription
from gov21.exchange.services import right_grant, right_revoke
from gov21.registry import services
from gov21.registry.models import LifeEvent
from tests.registry.factories import register_person

pytestmark = pytest.mark.usefixtures("exchange")

REGISTRY = "XA/GOV/CRO/civil-registry"
BENEFITS = "XA/GOV/MSD/benefits"
STATS = "XA/GOV/STATS/statistics"
INBOX = "XA/GOV/MSD/benefits/events"
EVENTS = "XA/GOV/EXCHANGE/pubsub/events"


ENGINE = "XA/GOV/PORTAL/services"
LAND = "XA/GOV/LRA/land-register"


@pytest.fixture(autouse=True)
def _only_the_benefits_system_is_pushed_to(exchange: None) -> None:
    """These tests are of the delivery mechanism: the service engine's and the land register's own
    subscriptions (tested with each) are paused so each event has the one push subscriber the tests
    count."""
    Subscription.objects.filter(subscriber__in=(ENGINE, LAND)).update(active=False)


def _register(kind: str, data: dict[str, Any], actor: Principal) -> LifeEvent:
    event = services.event_declare(declaration=services.declaration_parse(kind=kind, data=data), actor=actor)
    services.event_validate(event_id=event.pk, actor=actor)
    return services.event_register(event_id=event.pk, actor=actor)


def _push(seq: int, event_type: str = "birth.registered") -> Delivery:
    return Delivery.objects.select_related("event").get(
        subscription__subscriber=BENEFITS, event__event_type__code=event_type, event__seq=seq
    )


def _time_passes() -> None:
    """Every waiting delivery becomes due, as if its back-off had elapsed."""
    Delivery.objects.filter(status=Delivery.PENDING).update(next_attempt_at=timezone.now())


def _cut_off_benefits() -> None:
    right_revoke(service=INBOX, subject=REGISTRY, method="POST", path="/")
    node.CONFS.clear()


def _restore_benefits() -> None:
    right_grant(service=INBOX, subject=REGISTRY, method="POST", path="/")
    node.CONFS.clear()


def _pull(client: str, path: str, query: str = "") -> Any:
    return exchange_call(client=client, service=EVENTS, path=path, query=query, issue="statistics")


def _ack(client: str, event_type: str, seq: int) -> Any:
    return exchange_call(
        client=client,
        service=EVENTS,
        method="POST",
        path=f"/{event_type}/ack",
        body=orjson.dumps({"seq": seq}),
        content_type="application/json",
    )


def _received(service: str) -> list[LogEntry]:
    """What the subscriber's side of the exchange logged as accepted, in order."""
    return list(LogEntry.objects.filter(role="provider", service=service, status=200).order_by("seq"))


# --- publishing ------------------------------------------------------------------------------


def test_a_registered_birth_publishes_one_minimal_event_with_the_next_seq(registrar: Principal) -> None:
    register_person(registrar)
    child = register_person(registrar, born=date(2024, 5, 6))

    events = list(Event.objects.filter(event_type__code="birth.registered").order_by("seq"))

    assert [e.seq for e in events] == [1, 2]
    birth = LifeEvent.objects.get(subject=child, kind="birth")
    assert events[1].payload == {
        "number": birth.number,
        "uin": child.uin,
        "date": "2024-05-06",
        "declaration": birth.pk,
    }
    assert events[1].idempotency_key == f"{birth.number}:birth.registered"
    # One delivery for the benefits system (push) and one for statistics (pull), none for others.
    assert sorted(events[1].deliveries.values_list("subscription__subscriber", "status")) == [
        (BENEFITS, "pending"),
        (STATS, "pending"),
    ]


def test_deaths_and_marriages_are_published_with_the_uins_concerned(registrar: Principal) -> None:
    a = register_person(registrar, sex="F", born=date(1950, 1, 1))
    b = register_person(registrar, sex="M", born=date(1951, 1, 1))
    marriage = _register(
        "marriage", {"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": "2000-01-01", "parish": "XA-01"}, registrar
    )
    death = _register("death", {"uin": b.uin, "death_date": "2024-02-02"}, registrar)

    married = Event.objects.get(event_type__code="marriage.registered")
    died = Event.objects.get(event_type__code="death.registered")
    assert married.payload == {
        "number": marriage.number,
        "uins": [a.uin, b.uin],
        "date": "2000-01-01",
        "declaration": marriage.pk,
    }
    assert died.payload == {"number": death.number, "uin": b.uin, "date": "2024-02-02", "declaration": death.pk}
    # The statistics office pulls every registry event; only the deaths are pushed to benefits.
    assert sorted(died.deliveries.values_list("subscription__subscriber", flat=True)) == [BENEFITS, STATS]
    assert list(married.deliveries.values_list("subscription__subscriber", flat=True)) == [STATS]


def test_the_same_idempotency_key_publishes_once() -> None:
    first = event_publish(publisher=REGISTRY, event_type="name.changed", payload={"uin": "1"}, idempotency_key="k1")
    again = event_publish(publisher=REGISTRY, event_type="name.changed", payload={"uin": "1"}, idempotency_key="k1")
    other = event_publish(publisher=REGISTRY, event_type="name.changed", payload={"uin": "2"}, idempotency_key="k2")

    assert (first, again, other) == (1, 1, 2)
    assert Event.objects.filter(event_type__code="name.changed").count() == 2


def test_only_the_event_types_publisher_may_publish_and_only_known_types() -> None:
    with pytest.raises(DomainError) as refused:
        event_publish(publisher=BENEFITS, event_type="birth.registered", payload={}, idempotency_key="x")
    assert (refused.value.code, refused.value.status) == ("not_publisher", 403)

    with pytest.raises(NotFound):
        event_publish(publisher=REGISTRY, event_type="tax.assessed", payload={}, idempotency_key="x")
    assert not Event.objects.exists()


def test_bootstrap_runs_again_without_duplicating_subscriptions() -> None:
    before = sorted(Subscription.objects.values_list("event_type__code", "subscriber", "mode"))

    setup.bootstrap()

    assert sorted(Subscription.objects.values_list("event_type__code", "subscriber", "mode")) == before
    assert before == sorted(
        [
            ("address.changed", ENGINE, "push"),
            ("address.changed", STATS, "pull"),
            # The statistics office counts the one-stop shop's applications.
            ("application.decided", STATS, "pull"),
            ("application.submitted", STATS, "pull"),
            ("birth.registered", BENEFITS, "push"),
            ("birth.registered", ENGINE, "push"),
            ("birth.registered", STATS, "pull"),
            ("death.registered", LAND, "push"),
            ("death.registered", BENEFITS, "push"),
            ("death.registered", ENGINE, "push"),
            ("death.registered", STATS, "pull"),
            ("land.inheritance_opened", ENGINE, "push"),
            ("land.registered", ENGINE, "push"),
            ("land.rejected", ENGINE, "push"),
            ("marriage.registered", STATS, "pull"),
            ("name.changed", STATS, "pull"),
        ]
        # The agencies that receive reported problems pull the reporting desk's events.
        + [
            (code, f"XA/GOV/{agency}", "pull")
            for code in ("concern.reported", "concern.updated")
            for agency in ("PWD/works", "WSA/water", "SWA/waste")
        ]
    )


# --- push ------------------------------------------------------------------------------------


def test_deliveries_run_pushes_through_the_exchange_and_the_subscriber_side_logs_it(registrar: Principal) -> None:
    register_person(registrar)

    assert pubsub.deliveries_run() == 1

    delivery = _push(1)
    assert delivery.status == "delivered" and delivery.delivered_at is not None
    [entry] = _received(INBOX)
    assert (entry.client, entry.method, entry.issue) == (REGISTRY, "POST", "event birth.registered #1")
    assert entry.response_sig  # signed by the receiving side
    assert pubsub.deliveries_run() == 0  # nothing is sent twice
    # The pull subscriber's copy waits for statistics to fetch it.
    assert Delivery.objects.get(subscription__subscriber=STATS).status == "pending"


def test_a_failing_subscriber_is_retried_with_back_off_then_dead_but_kept(registrar: Principal) -> None:
    register_person(registrar)
    _cut_off_benefits()

    started = timezone.now()
    assert pubsub.deliveries_run() == 0
    delivery = _push(1)
    assert delivery.attempts == 1
    assert "AccessDenied" in delivery.last_error
    assert started + timedelta(seconds=5) <= delivery.next_attempt_at <= timezone.now() + timedelta(seconds=6)
    assert pubsub.deliveries_run() == 0
    assert _push(1).attempts == 1  # not due yet: not tried again

    delays = []
    for _ in range(pubsub.MAX_ATTEMPTS - 1):
        _time_passes()
        before = timezone.now()
        pubsub.deliveries_run()
        delays.append((_push(1).next_attempt_at - before).total_seconds())
    delivery = _push(1)
    assert delivery.status == "dead" and delivery.attempts == pubsub.MAX_ATTEMPTS
    assert delays[:-1] == sorted(delays[:-1]) and delays[-2] <= 3600 * 1.1
    assert LogEntry.objects.filter(role="consumer", service=INBOX).count() == pubsub.MAX_ATTEMPTS

    # A dead delivery holds back the events behind it until it is requeued.
    _restore_benefits()
    register_person(registrar)
    assert pubsub.deliveries_run() == 0
    assert _push(2).status == "pending" and _push(2).attempts == 0

    pubsub.delivery_retry(delivery_id=delivery.pk)
    assert pubsub.deliveries_run() == 2
    assert [e.issue for e in _received(INBOX)] == ["event birth.registered #1", "event birth.registered #2"]


def test_a_later_event_is_not_delivered_before_an_earlier_one(registrar: Principal) -> None:
    register_person(registrar)
    register_person(registrar)
    _cut_off_benefits()

    assert pubsub.deliveries_run() == 0
    assert (_push(1).attempts, _push(2).attempts) == (1, 0)

    _restore_benefits()
    # Event 2 is due, event 1 is still backing off: neither goes.
    assert pubsub.deliveries_run() == 0
    assert _push(2).status == "pending"

    _time_passes()
    assert pubsub.deliveries_run() == 2
    assert [e.issue for e in _received(INBOX)] == ["event birth.registered #1", "event birth.registered #2"]
    assert _push(1).delivered_at <= _push(2).delivered_at  # type: ignore[operator]


def test_an_unknown_endpoint_fails_the_delivery_and_one_subscriber_does_not_hold_up_another(
    registrar: Principal,
) -> None:
    person = register_person(registrar, born=date(1940, 1, 1))
    Subscription.objects.filter(subscriber=BENEFITS, event_type__code="birth.registered").update(
        endpoint="XA/GOV/MSD/benefits/nowhere"
    )
    _register("death", {"uin": person.uin, "death_date": "2024-02-02"}, registrar)

    assert pubsub.deliveries_run() == 1

    assert _push(1).attempts == 1 and "UnknownService" in _push(1).last_error
    assert _push(1, "death.registered").status == "delivered"


def test_a_committed_registration_asks_the_worker_to_deliver_and_the_task_delivers(
    registrar: Principal, django_capture_on_commit_callbacks: Any
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        register_person(registrar)

    [queued] = DBTaskResult.objects.filter(task_path="gov21.exchange.pubsub.deliveries_kick")
    assert queued.status == "READY"
    assert pubsub.deliveries_kick.call() == 1
    assert _push(1).status == "delivered"


def test_the_delivery_loop_stops_when_told() -> None:
    event_publish(publisher=REGISTRY, event_type="death.registered", payload={"uin": "1"}, idempotency_key="d1")

    assert pubsub.deliveries_loop(interval=0.01, stop_after=0) == 1


def test_only_dead_deliveries_are_retried(registrar: Principal) -> None:
    register_person(registrar)

    with pytest.raises(DomainError) as info:
        pubsub.delivery_retry(delivery_id=_push(1).pk)

    assert info.value.code == "delivery_not_dead"


# --- pull ------------------------------------------------------------------------------------


def test_statistics_pulls_acknowledges_and_then_sees_only_newer_events(registrar: Principal) -> None:
    first = register_person(registrar)
    second = register_person(registrar)

    result = _pull(STATS, "/birth.registered", "after=0&limit=10")
    assert result.status == 200, result.body
    body = result.json()
    assert [(e["seq"], e["payload"]["uin"]) for e in body["events"]] == [(1, first.uin), (2, second.uin)]
    assert set(body["events"][0]) == {"event_type", "seq", "idempotency_key", "published_at", "payload"}
    assert body["acked"] == 0

    acked = _ack(STATS, "birth.registered", 1)
    assert acked.status == 200, acked.body
    assert acked.json()["acked"] == 1

    newer = _pull(STATS, "/birth.registered").json()
    assert [e["seq"] for e in newer["events"]] == [2]
    assert newer["acked"] == 1
    assert [e["seq"] for e in _pull(STATS, "/birth.registered", "after=1").json()["events"]] == [2]
    # What statistics learnt about a person is recorded for that person.
    assert {u["client"] for u in data_uses_for(subject=first.uin)} == {STATS}


def test_a_client_without_a_pull_subscription_is_refused(registrar: Principal) -> None:
    register_person(registrar)

    # The statistics office pulls the registry's events, not the land register's.
    unsubscribed = _pull(STATS, "/land.registered")
    assert unsubscribed.status == 403
    assert unsubscribed.headers["content-type"] == "application/problem+json"
    assert unsubscribed.json()["type"] == "not_subscribed"

    no_right = _pull(BENEFITS, "/birth.registered")
    assert no_right.error == "Server.ServerProxy.AccessDenied"


def test_acknowledging_beyond_the_last_event_is_refused(registrar: Principal) -> None:
    register_person(registrar)

    result = _ack(STATS, "birth.registered", 5)

    assert result.status == 422
    assert result.json()["field"] == "seq"
    assert Delivery.objects.get(subscription__subscriber=STATS).status == "pending"


def test_a_subsystem_that_does_not_own_an_event_type_cannot_deliver_it_even_with_a_right_to_the_receiver() -> None:
    # The receiver also takes the statistics office's deliveries (a right to POST there): that lets
    # statistics deliver its own events, never a death, which only the civil registry publishes.
    right_grant(service=INBOX, subject=STATS, method="POST", path="/", by="test")
    node.CONFS.clear()
    death = {"event_type": "death.registered", "seq": 41, "idempotency_key": "x", "payload": {"uin": "1"}}

    forged = exchange_call(
        client=STATS, service=INBOX, path="/", method="POST", body=orjson.dumps(death), content_type="application/json"
    )
    told = exchange_call(
        client=REGISTRY,
        service=INBOX,
        path="/",
        method="POST",
        body=orjson.dumps(death),
        content_type="application/json",
    )

    assert forged.status == 403, forged.body
    assert forged.json()["code"] == "not_publisher"
    assert told.status == 200, told.body
    assert told.json() == {"received": {"event_type": "death.registered", "seq": 41}}


def test_an_event_type_the_directory_does_not_know_is_refused_at_the_receiver() -> None:
    unknown = {"event_type": "moon.landed", "seq": 1, "payload": {}}

    result = exchange_call(
        client=REGISTRY,
        service=INBOX,
        path="/",
        method="POST",
        body=orjson.dumps(unknown),
        content_type="application/json",
    )

    assert result.status == 403
    assert result.json()["code"] == "not_publisher"


def test_events_published_together_are_numbered_in_order_queued_once_and_keep_their_keys() -> None:
    from django.db import transaction

    first = event_publish(publisher=REGISTRY, event_type="death.registered", payload={"uin": "1"}, idempotency_key="a")
    with transaction.atomic():
        seqs = pubsub.event_publish_many(
            publisher=REGISTRY,
            event_type="death.registered",
            events=[({"uin": "2"}, "b"), ({"uin": "1"}, "a"), ({"uin": "3"}, "c"), ({"uin": "2"}, "b")],
        )
        event_publish(publisher=REGISTRY, event_type="death.registered", payload={"uin": "4"}, idempotency_key="d")

    assert seqs == [first + 1, first, first + 2, first + 1]
    events = Event.objects.filter(event_type__code="death.registered").order_by("seq")
    assert [(e.idempotency_key, e.payload) for e in events] == [
        ("a", {"uin": "1"}),
        ("b", {"uin": "2"}),
        ("c", {"uin": "3"}),
        ("d", {"uin": "4"}),
    ]
    pushed = Subscription.objects.filter(event_type__code="death.registered", active=True).count()
    assert Delivery.objects.filter(event__in=events).count() == 4 * pushed
    # The test is one transaction: however many events it published, it queued one delivery run.
    assert DBTaskResult.objects.filter(task_path="gov21.exchange.pubsub.deliveries_kick").count() == 1
