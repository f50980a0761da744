"""The demo nation's use of its services, written in bulk beside its people: citizens' accounts (most
activated), applications to the one-stop shop's services (submitted, pre-filled, decided by the
engine or by an officer, on time or late) and a year of restore drills, in proportions drawn from a
seed. It gives the readiness indicators something of the size of a real nation to count; it is
synthetic, and says nothing of any real state."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from gov21.continuity.models import DrillRun
from gov21.identity.models import Account
from gov21.onestop.models import Application, ServiceDefinition
from gov21.onestop.services import SYSTEM_ACTOR
from gov21.registry.models import Person

BATCH = 5000
SOURCES = {"_sources": {"person": {"service": "CRO/civil-registry/persons"}}, "person": {"name": "..."}}


@dataclass(frozen=True, slots=True)
class Activity:
    accounts: int
    applications: int
    drills: int


def _persons(limit: int | None) -> list[str]:
    rows = Person.objects.filter(death_date__isnull=True).order_by("pk").values_list("uin", flat=True)
    return list(rows[:limit] if limit else rows)


def activity_write(*, seed: int, now: datetime | None = None, limit: int | None = None) -> Activity:
    """Write accounts for about 60 % of the living (85 % of them activated, 3 % disabled), half an
    application per person to the catalogue's services, and 24 restore drills of the last year."""
    now = now or timezone.now()
    rng = random.Random(seed)  # noqa: S311 - synthetic data, not a secret
    uins = _persons(limit)
    services = list(ServiceDefinition.objects.filter(active=True).order_by("code"))
    user_model = get_user_model()
    accounts = applications = 0
    for start in range(0, len(uins), BATCH):
        chunk = uins[start : start + BATCH]
        holders = [u for u in chunk if rng.random() < 0.6]
        with transaction.atomic():
            users = user_model.objects.bulk_create(
                [user_model(username=f"c{u}", password="!") for u in holders]  # noqa: S106 - unusable
            )
            rows = []
            for user, uin in zip(users, holders, strict=True):
                draw = rng.random()
                created = now - timedelta(days=rng.randint(1, 900))
                status = "active" if draw < 0.85 else ("disabled" if draw < 0.88 else "pending")
                rows.append(
                    Account(
                        user_id=user.pk,
                        kind="citizen",
                        uin=uin,
                        status=status,
                        created_at=created,
                        activated_at=created + timedelta(hours=1) if status != "pending" else None,
                        disabled_at=now if status == "disabled" else None,
                    )
                )
            Account.objects.bulk_create(rows)
            accounts += len(rows)
            apps = [
                _application(rng, uin, services, now, start + i) for i, uin in enumerate(chunk) if rng.random() < 0.5
            ]
            Application.objects.bulk_create(apps)
            applications += len(apps)
    drills = [
        DrillRun(
            target="/var/backups/gov21",
            backup_id=f"b{n}",
            started_at=now - timedelta(days=15 * n + 1),
            ok=n % 8 != 3,
            rpo_seconds=60.0 * (1 + n % 5),
            rto_seconds=30.0 + 7 * n,
        )
        for n in range(24)
    ]
    DrillRun.objects.bulk_create(drills)
    return Activity(accounts=accounts, applications=applications, drills=len(drills))


def _application(rng: random.Random, uin: str, services: list[ServiceDefinition], now: datetime, n: int) -> Application:
    service = rng.choice(services)
    created = now - timedelta(days=rng.randint(0, 365), seconds=rng.randint(0, 86399))
    row = Application(
        reference=f"D{n:011d}",
        service=service,
        applicant_uin=uin,
        agency=str(service.definition.get("agency", "")),
        created_at=created,
        updated_at=created,
    )
    if rng.random() >= 0.9:
        return row  # a draft, never submitted
    row.submitted_at = created + timedelta(minutes=rng.randint(1, 60))
    row.due_at = row.submitted_at + timedelta(days=int(service.definition["sla_days"]))
    row.state = "submitted"
    if rng.random() < 0.8:
        row.verified = SOURCES
    if rng.random() >= 0.85 or row.submitted_at > now:
        return row
    automatic = service.definition["decision"] == "automatic" and rng.random() < 0.7
    took = timedelta(seconds=rng.randint(1, 60)) if automatic else timedelta(hours=rng.randint(2, 24 * 30))
    row.decided_at = min(row.submitted_at + took, now)
    row.decision = "approved" if rng.random() < 0.9 else "refused"
    row.state = row.decision
    row.decided_by = SYSTEM_ACTOR if automatic else "officer"
    return row


__all__ = ["Activity", "activity_write"]
