from __future__ import annotations

from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

from gov21.core.crypto import hash_token
from gov21.identity.models import ApiToken, StaffRole
from gov21.identity.principal import Principal

# Every API call authenticates, so this lookup is hand-written: the ORM's query compilation costs
# more than the indexed lookup itself.
TOKEN_SQL = (
    f"SELECT name, role FROM {ApiToken._meta.db_table} "  # noqa: S608 - table name from the model
    "WHERE token_hash = %s AND revoked_at IS NULL AND expires_at > %s"
)


def principal_from_token(token: str) -> Principal | None:
    with connection.cursor() as cursor:
        cursor.execute(TOKEN_SQL, [hash_token(token), connection.ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    if row is None:
        return None
    return Principal(name=f"token:{row[0]}", kind="token", roles=frozenset({row[1]}))


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
