"""The provider's own session: who has signed in at the identity provider, and how strongly.

Kept apart from the portal's sign-in (Django's ``request.user``), which the portal obtains as an
ordinary relying party through the OpenID Connect code flow.
"""

from __future__ import annotations

import time
from typing import Any

from django.http import HttpRequest
from django.utils.http import url_has_allowed_host_and_scheme

from gov21.core.http import client_address
from gov21.core.queries import raw_one
from gov21.identity import levels
from gov21.identity.models import Account
from gov21.identity.oidc import SignedIn

IDP_KEY = "gov21_idp"
PENDING_KEY = "gov21_idp_pending"
PENDING_SECONDS = 300


def idp_current(request: HttpRequest) -> SignedIn | None:
    data: dict[str, Any] | None = request.session.get(IDP_KEY)
    if not data:
        return None
    account = raw_one(Account, "id = %s", [data["account"]])  # every authorize asks: hand-written
    if account is None or account.status != Account.Status.ACTIVE:
        request.session.pop(IDP_KEY, None)
        return None
    return SignedIn(account=account, acr=data["acr"], amr=list(data["amr"]), auth_time=int(data["auth_time"]))


def idp_establish(request: HttpRequest, account: Account, amr: list[str]) -> SignedIn:
    """Record a completed sign-in (or step-up) in a fresh session key (no session fixation)."""
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    acr = levels.level_of(amr, proofed_in_person=account.proofed_in_person)
    now = int(time.time())
    request.session[IDP_KEY] = {"account": account.pk, "acr": acr, "amr": amr, "auth_time": now}
    return SignedIn(account=account, acr=acr, amr=amr, auth_time=now)


def pending_set(request: HttpRequest, account: Account, amr: list[str]) -> None:
    request.session[PENDING_KEY] = {"account": account.pk, "amr": amr, "at": time.time()}


def pending_get(request: HttpRequest) -> tuple[Account, list[str]] | None:
    """The account that passed its first step but not yet its second, for five minutes."""
    data = request.session.get(PENDING_KEY)
    if not data or time.time() - float(data["at"]) > PENDING_SECONDS:
        return None
    account = Account.objects.select_related("user").filter(pk=data["account"], status=Account.Status.ACTIVE).first()
    return (account, list(data["amr"])) if account is not None else None


def safe_next(request: HttpRequest, candidate: str | None, default: str = "/") -> str:
    if candidate and url_has_allowed_host_and_scheme(candidate, allowed_hosts={request.get_host()}):
        return candidate
    return default


def source_of(request: HttpRequest) -> str:
    """The client's address, seen through gov21's trusted proxies: what sign-ins are counted and logged by."""
    return client_address(request)[:64]
