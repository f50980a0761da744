from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone

from gov21.core.crypto import hash_token
from gov21.identity.models import ApiToken, StaffRole
from gov21.identity.principal import Principal


def principal_from_token(token: str) -> Principal | None:
    row = (
        ApiToken.objects.filter(token_hash=hash_token(token), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .only("name", "role")
        .first()
    )
    if row is None:
        return None
    return Principal(name=f"token:{row.name}", kind="token", roles=frozenset({row.role}))


def principal_from_request(request: HttpRequest) -> Principal | None:
    header = request.headers.get("Authorization", "")
    if header:
        scheme, _, value = header.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            return None
        return principal_from_token(value.strip())
    user = getattr(request, "user", None)
    if user is not None and user.is_authenticated:
        roles = frozenset(StaffRole.objects.filter(user_id=user.pk).values_list("role", flat=True))
        if user.is_superuser:
            roles = roles | {"administrator"}
        return Principal(name=user.get_username(), kind="staff", roles=roles)
    return None
