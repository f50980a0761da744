from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection
from django.http import HttpRequest
from django.utils import timezone

from gov21.core.crypto import hash_token
from gov21.identity import levels
from gov21.identity.models import Account, ApiToken, Consent, StaffRole, Subject
from gov21.identity.principal import Principal

# Every API call authenticates, so this lookup is hand-written: the ORM's query compilation costs
# more than the indexed lookup itself.
PORTAL_SESSION_KEY = "gov21_rp"  # set by the portal once the OpenID Connect sign-in completed

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
        # Staff work only after a sign-in through the provider at level substantial or higher.
        portal = request.session.get(PORTAL_SESSION_KEY) or {}
        if levels.rank(str(portal.get("acr", ""))) < levels.rank(levels.SUBSTANTIAL):
            return None
        grants = list(StaffRole.objects.filter(user_id=user.pk).values_list("role", "agency"))
        roles = frozenset(role for role, _ in grants)
        if user.is_superuser:
            roles = roles | {"administrator"}
        agencies = frozenset(agency for _, agency in grants)
        return Principal(
            name=user.get_username(), kind="staff", roles=roles, agencies=agencies, grants=frozenset(grants)
        )
    return None


def session_access_token(request: HttpRequest) -> str:
    """The signed-in person's access token, kept by the portal in their server-side session; the
    identity provider exchanges it for a person assertion when they act. Empty if there is none."""
    portal = request.session.get(PORTAL_SESSION_KEY) or {}
    tokens = portal.get("tokens") if isinstance(portal, dict) else None
    return str(tokens.get("access_token") or "") if isinstance(tokens, dict) else ""


def user_for_subject(*, sector: str, sub: str) -> AbstractBaseUser | None:
    subject = Subject.objects.select_related("account__user").filter(sector=sector, sub=sub).first()
    if subject is None or subject.account.status != Account.Status.ACTIVE:
        return None
    return subject.account.user


def account_summary(*, user_id: int) -> dict[str, Any] | None:
    """What the portal shows a signed-in person about their own account."""
    account = Account.objects.filter(user_id=user_id).first()
    if account is None:
        return None
    consents = (
        Consent.objects.filter(account=account, revoked_at__isnull=True)
        .select_related("client")
        .order_by("-granted_at")
    )
    return {
        "account_id": account.pk,
        "kind": account.kind,
        "uin": account.uin,
        "consents": [
            {
                "id": c.pk,
                "client": c.client.name,
                "agency": c.client.agency,
                "purpose": c.client.purpose,
                "scopes": list(c.scopes),
                "granted_at": c.granted_at,
            }
            for c in consents
        ],
    }


def account_status(*, uin: str) -> str | None:
    return Account.objects.filter(uin=uin).values_list("status", flat=True).first()
