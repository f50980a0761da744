"""Limits on guessing secrets (passwords, one-time codes, activation codes, passkeys), per account or
typed identifier and per client address, in windows that end.

An attempt is counted before the secret is checked, by one atomic statement that adds it to its
key's window and returns the new count: of any number of parallel attempts, only the first
``limit`` of a window get their secret checked, on SQLite and PostgreSQL alike. A success gives the
attempt back (the identifier's count starts again; the address keeps no mark for it), so the counts
are of wrong guesses. When a window ends its count is forgotten: a locked account opens again by
itself, and an address shared by many people is never blocked for long.

Keys are hashes of what the caller typed, whether or not such an account exists, so an unknown
identifier is limited exactly like a known one and the responses cannot tell them apart. Client
addresses come from :func:`gov21.core.http.client_address`, which believes ``X-Forwarded-For`` only
from gov21's own proxies; an IPv6 client is counted by its /64, the block one subscriber holds.
"""

from __future__ import annotations

import hashlib
import ipaddress
import math
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import F
from django.utils import timezone

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.identity.models import SignInThrottle

ACCOUNT = "id"
ADDRESS = "src"


def _limit(scope: str) -> int:
    setting = config.SIGN_IN_ADDRESS_ATTEMPTS if scope == ADDRESS else config.SIGN_IN_ACCOUNT_ATTEMPTS
    return max(1, setting.read())


def _window_ms() -> int:
    return max(1, config.SIGN_IN_WINDOW_SECONDS.read()) * 1000


def throttle_key(scope: str, value: str) -> str:
    return hashlib.sha256(f"{scope}\0{value.strip().lower()}".encode()).hexdigest()


def address_key(address: str) -> str:
    """The key of a client address; an IPv6 address stands for its /64."""
    try:
        parsed = ipaddress.ip_address(address)
    except ValueError:
        return throttle_key("src", address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return throttle_key("src", str(ipaddress.ip_network(f"{parsed}/64", strict=False)))
    return throttle_key("src", str(parsed))


_TABLE = SignInThrottle._meta.db_table
# One statement: insert the key's first attempt, or add one to its window, or start a new window
# when the old one has ended; and return what it now holds. Both databases run it under the row's
# lock, so parallel attempts each see a different count.
_COUNT_SQL = (
    f'INSERT INTO {_TABLE} ("key", window_started_ms, attempts) VALUES (%s, %s, 1) '  # noqa: S608 - table name
    'ON CONFLICT ("key") DO UPDATE SET '
    f"attempts = CASE WHEN {_TABLE}.window_started_ms <= %s THEN 1 ELSE {_TABLE}.attempts + 1 END, "
    f"window_started_ms = CASE WHEN {_TABLE}.window_started_ms <= %s "
    f"THEN excluded.window_started_ms ELSE {_TABLE}.window_started_ms END "
    "RETURNING attempts, window_started_ms"
)


def _now_ms() -> int:
    return int(timezone.now().timestamp() * 1000)


@dataclass
class Attempt:
    """An attempt that was counted and may now check its secret."""

    counted: list[tuple[str, str, int]] = field(default_factory=list)  # (scope, key, window start)

    def succeeded(self) -> None:
        """The secret was right: the account's count starts again, and the address gets its attempt back."""
        for scope, key, started in self.counted:
            if scope == ADDRESS:
                _give_back(key, started)
            else:
                SignInThrottle.objects.filter(key=key).delete()

    def withdrawn(self) -> None:
        """Nothing was checked (the server was too busy to): the attempt is not counted anywhere."""
        for _scope, key, started in self.counted:
            _give_back(key, started)


def _give_back(key: str, started: int) -> None:
    # Only in the window it was taken from: a new window already starts at nothing.
    SignInThrottle.objects.filter(key=key, window_started_ms=started, attempts__gt=0).update(attempts=F("attempts") - 1)


def attempt_begin(keys: list[tuple[str, str]], *, detail: str) -> Attempt:
    """Count an attempt against every ``(scope, key)``; raise ``too_many_attempts`` (429) if one of
    them has had its window's limit already. A refused attempt checks nothing and is not counted."""
    now = _now_ms()
    window = _window_ms()
    attempt = Attempt()
    refused_until: int | None = None
    # A fixed order of keys: two attempts never wait for each other's rows the other way round.
    for scope, key in sorted(keys, key=lambda pair: pair[1]):
        with connection.cursor() as cursor:
            cursor.execute(_COUNT_SQL, [key, now, now - window, now - window])
            count, started = cursor.fetchone()
        attempt.counted.append((scope, key, int(started)))
        if count > _limit(scope):
            refused_until = max(refused_until or 0, int(started) + window)
    if refused_until is not None:
        for _, key, started in attempt.counted:
            _give_back(key, started)
        wait = max(1, math.ceil((refused_until - now) / 1000))
        raise DomainError(
            "too_many_attempts",
            detail.format(wait=wait),
            status=429,
            title="Too many attempts",
            extra={"retry_after": wait},
        )
    return attempt


def throttle_prune() -> int:
    """Forget windows that have ended; how many were removed."""
    return SignInThrottle.objects.filter(window_started_ms__lte=_now_ms() - _window_ms()).delete()[0]


def throttle_reset(key: str) -> None:
    """Forget a key's attempts (an officer has seen the person face to face)."""
    SignInThrottle.objects.filter(key=key).delete()
