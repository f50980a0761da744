"""API tokens: what an agency system presents on the registry's API, issued and revoked here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.utils import timezone

from gov21.core.crypto import hash_token, random_token
from gov21.core.errors import DomainError, NotFound
from gov21.core.permissions import ROLES
from gov21.identity.models import (
    ApiToken,
)

TOKEN_PREFIX = "g21_"  # noqa: S105 (a visible prefix, not a secret)


@dataclass(frozen=True, slots=True)
class IssuedToken:
    id: int
    token: str
    expires_at: datetime


def check_role(role: str) -> str:
    if role not in ROLES:
        raise DomainError("unknown_role", f"Unknown role {role!r}; choose one of {', '.join(ROLES)}.", field="role")
    return role


def token_create(*, name: str, role: str, lifetime: timedelta, created_by: str) -> IssuedToken:
    check_role(role)
    if lifetime <= timedelta(0):
        raise DomainError("invalid_expiry", "A token must expire in the future.", field="expires")
    secret = TOKEN_PREFIX + random_token(32)
    now = timezone.now()
    row = ApiToken.objects.create(
        name=name,
        token_hash=hash_token(secret),
        prefix=secret[:12],
        role=role,
        created_at=now,
        expires_at=now + lifetime,
        created_by=created_by,
    )
    return IssuedToken(id=row.pk, token=secret, expires_at=row.expires_at)


def token_revoke(*, token_id: int) -> None:
    updated = ApiToken.objects.filter(pk=token_id, revoked_at__isnull=True).update(revoked_at=timezone.now())
    if not updated:
        raise NotFound("token_not_found", f"No active token with id {token_id}.")
