"""The back office's dead letters: each outbox's page, its gate and its retry button."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from gov21.core import config
from gov21.core.outbox import outbox_claim, outbox_fail
from gov21.exchange import pubsub
from gov21.exchange.models import Delivery
from gov21.onestop import notify
from gov21.onestop.models import Notification
from tests.identity.flows import citizen, portal_sign_in, staff

pytestmark = pytest.mark.django_db

DELIVERIES = "/office/outbox/deliveries/"
NOTIFICATIONS = "/office/outbox/notifications/"


def _dead_delivery() -> Delivery:
    registry = f"{config.INSTANCE.read()}/GOV/CRO/civil-registry"
    pubsub.event_publish(
        publisher=registry,
        event_type="death.registered",
        payload={"number": "D-2026-000001", "uin": "1234567890", "date": "2026-01-02"},
        idempotency_key="test-death-1",
    )
    candidates = Delivery.objects.filter(subscription__mode="push").select_related("event__event_type", "subscription")
    [row] = outbox_claim(pubsub.DELIVERIES, candidates, limit=1)
    assert outbox_fail(pubsub.DELIVERIES, row, "404 UnknownService: the receiver is gone", permanent=True)
    return Delivery.objects.get(pk=row.pk)


def _dead_notification(monkeypatch: pytest.MonkeyPatch) -> Notification:
    monkeypatch.setenv("GOV21_SMTP_HOST", "127.0.0.1")
    notify.notification_queue(uin="1234567890", template="t.test", subject="S", body="B", email="ana@example.org")
    [row] = outbox_claim(notify.NOTIFICATIONS, Notification.objects.filter(channel="email"), limit=1)
    assert outbox_fail(notify.NOTIFICATIONS, row, "SMTP 550 No such user here", permanent=True)
    return Notification.objects.get(pk=row.pk)


@pytest.fixture
def admin() -> Client:
    client = Client()
    portal_sign_in(client, staff("ops.admin", "administrator"), next_url=DELIVERIES)
    return client


def test_a_visitor_is_sent_to_sign_in() -> None:
    for page in (DELIVERIES, NOTIFICATIONS):
        response = Client().get(page)
        assert response.status_code == 302 and f"next={page}" in response["Location"]


def test_a_citizen_and_a_clerk_may_neither_see_nor_retry(monkeypatch: pytest.MonkeyPatch) -> None:
    dead = _dead_delivery()
    letter = _dead_notification(monkeypatch)
    for person in (citizen(), staff("clerk.two", "clerk")):
        client = Client()
        portal_sign_in(client, person, next_url="/my/")
        for page in (DELIVERIES, NOTIFICATIONS):
            refused = client.get(page)
            assert refused.status_code == 403 and "UnknownService" not in refused.content.decode()
        assert client.post(f"{DELIVERIES}{dead.pk}/retry").status_code == 403
        assert client.post(f"{NOTIFICATIONS}{letter.pk}/retry").status_code == 403
    assert Delivery.objects.get(pk=dead.pk).status == Delivery.DEAD
    assert Notification.objects.get(pk=letter.pk).status == Notification.Status.FAILED


def test_the_administrator_sees_each_outboxs_dead_letters_and_retries_one(
    admin: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    dead = _dead_delivery()
    letter = _dead_notification(monkeypatch)

    page = admin.get(DELIVERIES).content.decode()
    assert f"#{dead.pk} death.registered #" in page and "the receiver is gone" in page
    assert f'action="{DELIVERIES}{dead.pk}/retry"' in page and "csrfmiddlewaretoken" in page
    page = admin.get(NOTIFICATIONS).content.decode()
    assert f"#{letter.pk} email t.test" in page and "SMTP 550 No such user here" in page
    assert "ana@example.org" not in page and "1234567890" not in page  # the operator sees no personal data

    retried = admin.post(f"{DELIVERIES}{dead.pk}/retry")
    assert retried.status_code == 302 and retried["Location"] == DELIVERIES
    row = Delivery.objects.get(pk=dead.pk)
    assert (row.status, row.attempts, row.dead_at) == (Delivery.PENDING, 0, None)
    page = admin.get(DELIVERIES).content.decode()
    assert f"Item {dead.pk} will be tried again." in page and "No dead letters" in page

    again = admin.post(f"{DELIVERIES}{dead.pk}/retry")
    assert again.status_code == 409 and "is pending, not dead" in again.content.decode()
    assert admin.post(f"{NOTIFICATIONS}{letter.pk}/retry").status_code == 302
    assert Notification.objects.get(pk=letter.pk).status == Notification.Status.CREATED


def test_retry_needs_the_forms_token_and_names_only_real_items(admin: Client, settings: Any) -> None:
    dead = _dead_delivery()
    assert admin.post(f"{DELIVERIES}{dead.pk + 1000}/retry").status_code == 404
    assert admin.get("/office/outbox/nowhere/").status_code == 404
    admin.handler.enforce_csrf_checks = True
    assert admin.post(f"{DELIVERIES}{dead.pk}/retry").status_code == 403
    assert Delivery.objects.get(pk=dead.pk).status == Delivery.DEAD
