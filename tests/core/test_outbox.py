"""The one outbox engine, on the notifications' table: leases, backoff with jitter, dead letters."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from django.utils import timezone

from gov21.core.errors import Conflict, NotFound
from gov21.core.outbox import (
    DIED_ON_LAST_ATTEMPT,
    outbox_claim,
    outbox_dead_letters,
    outbox_done,
    outbox_fail,
    outbox_requeue,
)
from gov21.onestop import notify
from gov21.onestop.models import Notification

pytestmark = pytest.mark.django_db

BOX = notify.NOTIFICATIONS


@pytest.fixture(autouse=True)
def _email_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_SMTP_HOST", "127.0.0.1")


def _queue(n: int = 1) -> None:
    for i in range(n):
        notify.notification_queue(uin="1234567890", template="t", subject="S", body="B", email=f"p{i}@example.org")


def _waiting() -> list[Notification]:
    return list(Notification.objects.filter(channel="email").order_by("id"))


def _later(monkeypatch: pytest.MonkeyPatch, seconds: float) -> None:
    now = timezone.now() + timedelta(seconds=seconds)
    monkeypatch.setattr(timezone, "now", lambda: now)


def test_two_claims_never_lease_the_same_row_and_each_counts_an_attempt() -> None:
    _queue(3)
    first = outbox_claim(BOX, Notification.objects.order_by("id"), limit=2)
    second = outbox_claim(BOX, Notification.objects.order_by("id"), limit=2)
    assert [r.pk for r in first] == [r.pk for r in _waiting()[:2]]
    assert [r.pk for r in second] == [_waiting()[2].pk]
    assert outbox_claim(BOX, Notification.objects.all(), limit=5) == []
    assert {(r.status, r.attempts) for r in _waiting()} == {(Notification.Status.SENDING, 1)}
    assert first[0].lease_owner != second[0].lease_owner


def test_a_lease_that_ran_out_is_claimed_again_and_the_late_worker_cannot_settle_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _queue()
    [slow] = outbox_claim(BOX, Notification.objects.all(), limit=1)
    _later(monkeypatch, BOX.lease_s + 1)
    [fresh] = outbox_claim(BOX, Notification.objects.all(), limit=1)
    assert fresh.attempts == 2
    assert outbox_done(BOX, slow) is False  # the lease is another claim's now
    assert outbox_done(BOX, fresh) is True
    row = _waiting()[0]
    assert (row.status, row.attempts, row.lease_owner, row.sent_at is not None) == ("delivered", 2, "", True)


def test_a_failure_waits_with_exponential_backoff_and_jitter_then_dies(monkeypatch: pytest.MonkeyPatch) -> None:
    box = replace(BOX, jitter=0.5, max_attempts=3)
    _queue()
    waits = []
    for _ in range(3):
        before = timezone.now()
        [row] = outbox_claim(box, Notification.objects.all(), limit=1)
        assert outbox_fail(box, row, "x" * 900)
        waits.append((_waiting()[0].next_attempt_at - before).total_seconds())
        _later(monkeypatch, 10_000)
    assert 30 <= waits[0] <= 30 * 1.5 + 1 and 60 <= waits[1] <= 60 * 1.5 + 1
    row = _waiting()[0]
    assert (row.status, row.attempts, len(row.last_error)) == ("failed", 3, 500)
    assert row.dead_at is not None and outbox_dead_letters(box) == [row]


def test_a_row_whose_worker_died_on_its_last_attempt_is_dead_lettered_not_claimed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    box = replace(BOX, max_attempts=1)
    _queue(2)
    outbox_claim(box, Notification.objects.order_by("id"), limit=1)  # and the worker dies
    _later(monkeypatch, BOX.lease_s + 1)
    [other] = outbox_claim(box, Notification.objects.order_by("id"), limit=1)
    first, second = _waiting()
    assert other.pk == second.pk
    assert (first.status, first.last_error) == ("failed", DIED_ON_LAST_ATTEMPT)


def test_only_a_dead_letter_is_requeued_and_then_it_is_due_at_once() -> None:
    _queue()
    [row] = outbox_claim(BOX, Notification.objects.all(), limit=1)
    with pytest.raises(Conflict, match="is sending, not dead"):
        outbox_requeue(BOX, row_id=row.pk)
    outbox_fail(BOX, row, "refused", permanent=True)
    requeued = outbox_requeue(BOX, row_id=row.pk)
    assert (requeued.status, requeued.attempts, requeued.dead_at) == ("created", 0, None)
    assert [r.pk for r in outbox_claim(BOX, Notification.objects.all(), limit=1)] == [row.pk]
    with pytest.raises(NotFound):
        outbox_requeue(BOX, row_id=row.pk + 1000)
