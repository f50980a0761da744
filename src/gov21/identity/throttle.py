"""Progressive delays and lockout after failed sign-ins, per identifier and per source address.

Keys are hashes of what the caller typed, whether or not such an account exists, so an unknown
identifier is delayed and locked exactly like a known one and the responses cannot tell them apart.
"""

from __future__ import annotations

import hashlib
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from gov21.identity.models import SignInThrottle

# (free failures, first delay in seconds, longest delay) per scope. Identifier delays double from
# the sixth failure: 30 s, 60 s, ... up to an hour; a source gets more room, since many people can
# share one address (a post office, a mobile carrier's NAT).
POLICY: dict[str, tuple[int, int, int]] = {"id": (5, 30, 3600), "src": (30, 30, 3600)}


def throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\0{value.strip().lower()}".encode()).hexdigest()


def blocked_until(keys: list[str]) -> datetime | None:
    now = timezone.now()
    until = (
        SignInThrottle.objects.filter(key__in=keys, blocked_until__gt=now)
        .order_by("-blocked_until")
        .values_list("blocked_until", flat=True)
        .first()
    )
    return until


def failure_record(scoped_keys: list[tuple[str, str]]) -> None:
    now = timezone.now()
    with transaction.atomic():
        for scope, key in scoped_keys:
            row, _ = SignInThrottle.objects.select_for_update().get_or_create(
                key=key, defaults={"failures": 0, "last_failure_at": now}
            )
            row.failures += 1
            row.last_failure_at = now
            free, first, longest = POLICY[scope]
            if row.failures > free:
                delay = min(first * 2 ** (row.failures - free - 1), longest)
                row.blocked_until = now + timedelta(seconds=delay)
            row.save()


def success_record(key: str) -> None:
    SignInThrottle.objects.filter(key=key).delete()
