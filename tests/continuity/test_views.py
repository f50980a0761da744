from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.continuity.models import DrillRun

pytestmark = pytest.mark.django_db


def test_health_and_readiness(client: Client) -> None:
    assert client.get("/healthz").json() == {"status": "alive"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.json()["checks"]["database"] == "ok"
    DrillRun.objects.create(target="/mnt/usb", started_at=timezone.now() - timedelta(days=30), ok=True)
    DrillRun.objects.create(target="s3://embassy/xa", started_at=timezone.now(), ok=False)
    checks = client.get("/readyz").json()["checks"]
    assert checks["drill /mnt/usb"] == "overdue" and checks["drill s3://embassy/xa"] == "failed"
    assert client.post("/healthz").status_code == 405
