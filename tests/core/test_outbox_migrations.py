"""Moving the two outboxes' tables onto the one outbox keeps every row and what it said."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from gov21.core.outbox import outbox_claim, outbox_dead_letters
from gov21.exchange.models import Delivery
from gov21.exchange.pubsub import DELIVERIES
from gov21.onestop.models import Notification
from gov21.onestop.notify import NOTIFICATIONS

BEFORE = [("exchange", "0007_node_invitations"), ("services", "0001_initial")]
AFTER = [("exchange", "0008_deliveries_in_the_outbox"), ("services", "0002_notifications_in_the_outbox")]


def _migrate(targets: list[tuple[str, str]]) -> MigrationExecutor:
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)
    return MigrationExecutor(connection)


@pytest.mark.django_db(transaction=True)
def test_rows_written_before_the_one_outbox_keep_their_state_and_are_worked_by_it() -> None:
    now = timezone.now()
    old = _migrate(BEFORE).loader.project_state(BEFORE).apps
    try:
        event_type = old.get_model("exchange", "EventType").objects.create(
            code="t.happened", publisher="XA/GOV/CRO/civil-registry", last_seq=2
        )
        events = [
            old.get_model("exchange", "Event").objects.create(
                event_type=event_type, seq=s, idempotency_key=f"k{s}", payload={}
            )
            for s in (1, 2)
        ]
        subscription = old.get_model("exchange", "Subscription").objects.create(
            event_type=event_type, subscriber="XA/GOV/MSD/benefits", mode="push", endpoint="XA/GOV/MSD/benefits/events"
        )
        old_delivery = old.get_model("exchange", "Delivery").objects
        dead = old_delivery.create(
            subscription=subscription, event=events[0], status="dead", attempts=12, last_error="403 AccessDenied"
        )
        pending = old_delivery.create(subscription=subscription, event=events[1], attempts=3, next_attempt_at=now)
        old_notification = old.get_model("services", "Notification").objects
        common = {"uin": "1234567890", "template": "t", "body": "B", "created_at": now, "address": "a@example.org"}
        failed = old_notification.create(
            channel="email", status="failed", attempts=10, next_attempt_at=now, last_error="SMTP 550", **common
        )
        # Left in a worker's hands by the old code: its claim ran out a minute ago.
        sending = old_notification.create(
            channel="email", status="sending", attempts=2, next_attempt_at=now - timedelta(minutes=1), **common
        )
    finally:
        _migrate(AFTER)

    assert Delivery.objects.count() == 2 and Notification.objects.count() == 2
    assert [(d.pk, d.attempts, d.last_error) for d in outbox_dead_letters(DELIVERIES)] == [
        (dead.pk, 12, "403 AccessDenied")
    ]
    assert [n.pk for n in outbox_dead_letters(NOTIFICATIONS)] == [failed.pk]
    [claimed] = outbox_claim(DELIVERIES, Delivery.objects.all(), limit=5)
    assert (claimed.pk, claimed.attempts) == (pending.pk, 4)
    [taken] = outbox_claim(NOTIFICATIONS, Notification.objects.all(), limit=5)
    assert (taken.pk, taken.status, taken.attempts) == (sending.pk, "sending", 3)
