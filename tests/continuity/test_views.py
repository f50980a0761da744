from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from gov21.continuity.models import DrillRun
from tests.continuity.test_alerts import EMBASSY, OFFSITE, backed_up, backup_failed, drilled
from tests.identity.flows import citizen, portal_sign_in, staff

pytestmark = pytest.mark.django_db
PAGE = "/office/continuity/"


def test_health_and_readiness(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    DrillRun.objects.create(target="/mnt/usb", started_at=timezone.now() - timedelta(days=30), ok=True)
    DrillRun.objects.create(target="s3://embassy/xa", started_at=timezone.now(), ok=False)
    checks = client.get("/readyz").json()["checks"]
    assert checks["drill /mnt/usb"] == "overdue" and checks["drill s3://embassy/xa"] == "failed"
    assert client.post("/healthz").status_code == 405


def test_readiness_is_refused_outside_the_allowed_networks_and_health_says_nothing_more(settings: Any) -> None:
    outsider = Client(REMOTE_ADDR="192.0.2.44")
    refused = outsider.get("/readyz")
    assert refused.status_code == 403 and refused["Content-Type"] == "application/problem+json"
    assert refused.json()["code"] == "not_allowed" and "checks" not in refused.json()
    assert outsider.get("/healthz").json() == {"status": "alive"}
    settings.GOV21_READYZ_ALLOW = ["192.0.2.0/24"]
    assert outsider.get("/readyz").status_code == 200
    # A proxy on the same machine does not make every client local.
    settings.GOV21_TRUSTED_PROXIES = ["127.0.0.1/32"]
    settings.GOV21_READYZ_ALLOW = ["127.0.0.0/8"]
    assert Client(HTTP_X_FORWARDED_FOR="198.51.100.7").get("/readyz").status_code == 403


def test_readiness_lists_each_targets_backups_and_drills_but_only_the_database_decides(
    client: Client, settings: Any, django_assert_max_num_queries: DjangoAssertNumQueries
) -> None:
    settings.GOV21_BACKUP_TARGETS = [OFFSITE, EMBASSY, "/mnt/spare"]
    backed_up(OFFSITE)
    drilled(OFFSITE)
    backed_up(EMBASSY, ago=timedelta(hours=2))
    backup_failed(EMBASSY)
    drilled(EMBASSY, ago=timedelta(days=20))
    backed_up("/mnt/spare", ago=timedelta(hours=1))

    with django_assert_max_num_queries(10):  # the database check, then a few per target
        response = client.get("/readyz")

    assert response.status_code == 200 and response.json()["status"] == "ready"
    assert response.json()["checks"] == {
        "database": "ok",
        f"backup {OFFSITE}": "ok",
        f"drill {OFFSITE}": "ok",
        f"backup {EMBASSY}": "failed",
        f"drill {EMBASSY}": "overdue",
        "backup /mnt/spare": "stale",
        "drill /mnt/spare": "missing",
    }


# --- the operator's page ------------------------------------------------------------------------


@pytest.fixture
def admin(exchange: None, settings: Any) -> Client:
    settings.GOV21_BACKUP_TARGETS = [OFFSITE, EMBASSY]
    client = Client()
    portal_sign_in(client, staff("ops.admin", "administrator"), next_url=PAGE)
    return client


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).replace("\xa0", " ")


def test_a_visitor_is_sent_to_sign_in() -> None:
    response = Client().get(PAGE)
    assert response.status_code == 302 and f"next={PAGE}" in response["Location"]


def test_a_citizen_and_a_clerk_are_refused(exchange: None) -> None:
    DrillRun.objects.create(target=OFFSITE, started_at=timezone.now(), ok=False, detail={"error": "secret detail"})
    for person in (citizen(), staff("clerk.two", "clerk")):
        client = Client()
        portal_sign_in(client, person, next_url="/my/")
        refused = client.get(PAGE)
        assert refused.status_code == 403
        assert "does not allow" in refused.content.decode() and "secret detail" not in refused.content.decode()


def test_with_every_target_fresh_the_page_shows_no_alert_and_what_was_done(admin: Client) -> None:
    for target in (OFFSITE, EMBASSY):
        backed_up(target, sent=2 << 20)
        drilled(target, ago=timedelta(hours=3))

    response = admin.get(PAGE)

    assert response.status_code == 200
    html = response.content.decode()
    text = _text(html)
    assert "No alerts" in text and 'class="error-summary"' not in html
    assert f"<caption><code>{OFFSITE}</code>" in html and f"<caption><code>{EMBASSY}</code>" in html
    assert "2.0 MB sent; 3 of 40 chunks new" in text
    assert "3 hours ago" in text and "RPO 42 s · RTO 12.5 s" in text and "discovery ok, person_read ok" in text
    vendor = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[connection.vendor]
    assert f"Database {vendor}" in text
    assert html.count('<th scope="row">') == 4  # each target: last backup and last successful drill
    assert 'scope="col"' in html and "Backup attempts, newest first" in html and "Restore drills, newest first" in html


def test_a_failed_backup_and_a_failed_or_overdue_drill_are_alerts_at_the_top(admin: Client) -> None:
    backed_up(OFFSITE, ago=timedelta(hours=1))
    backup_failed(OFFSITE, error="/mnt/offsite: cannot write chunks/ab/abcd: No space left on device")
    drilled(OFFSITE, ago=timedelta(days=12))
    backed_up(EMBASSY)
    drilled(EMBASSY, ago=timedelta(days=2))
    drilled(EMBASSY, ago=timedelta(minutes=5), ok=False, error="the restored node did not start serving")

    html = admin.get(PAGE).content.decode()
    text = _text(html)

    alerts = text[text.index("Alerts") : text.index("This node")]
    assert "No alerts" not in alerts
    assert f"Error The last backup to {OFFSITE} failed: cannot write chunks/ab/abcd: No space left" in alerts
    assert f"Error The last backup to {OFFSITE} failed" in alerts and "The last successful backup" in alerts
    assert f"Error The last restore drill on {EMBASSY} failed: the restored node did not start serving" in alerts
    assert f"Warning The last successful restore drill on {OFFSITE} was 1 week, 5 days ago" in alerts
    # The target tables show what to look at: the good backup before the failure, the failed drill's reason.
    assert "Last successful backup" in text and "Last drill" in text
    assert text.count("the restored node did not start serving") == 3  # the alert, the target, the drill list


def test_targets_known_only_from_records_are_shown_too(admin: Client) -> None:
    drilled("/media/usb", ago=timedelta(days=1))

    text = _text(admin.get(PAGE).content.decode())

    assert "/media/usb not configured" in text
    assert f"No backup to {OFFSITE} has succeeded yet." in text
    assert f"No restore drill has been run on {EMBASSY} yet." in text
