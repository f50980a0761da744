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
FRESH_KEY = "gov21_idp_fresh"
FRESH_SECONDS = 1800
FRESH_KEPT = 8


def idp_session_present(request: HttpRequest) -> bool:
    """Whether this browser holds a sign-in at the provider (after activation, say), before the portal
    has its own: for the header's "signed in" state. Not a check of the account: never for access."""
    session = getattr(request, "session", None)
    return bool(session is not None and IDP_KEY in session)


def idp_current(request: HttpRequest) -> SignedIn | None:
    data: dict[str, Any] | None = request.session.get(IDP_KEY)
    if not data:
        return None
    account = raw_one(Account, "id = %s", [data["account"]])  # every authorize asks: hand-written
    if account is None or account.status != Account.Status.ACTIVE:
        request.session.pop(IDP_KEY, None)
        return None
    auth_time = int(data["auth_time"])
    return SignedIn(
        account=account,
        acr=data["acr"],
        amr=list(data["amr"]),
        auth_time=auth_time,
        signed_in_at=float(data.get("signed_in_at", auth_time)),
    )


def idp_establish(request: HttpRequest, account: Account, amr: list[str]) -> SignedIn:
    """Record a completed sign-in (or step-up) in a fresh session key (no session fixation)."""
    previous: dict[str, Any] | None = request.session.get(IDP_KEY)
    pending: dict[str, Any] | None = request.session.get(PENDING_KEY)
    now = time.time()
    if pending is not None and pending.get("account") == account.pk:
        signed_in_at = float(pending["at"])  # the password of this sign-in was checked then
    elif previous is None or previous.get("account") != account.pk or amr == ["pwd"]:
        signed_in_at = now  # a sign-in from nothing, or a password just checked
    else:
        # A step-up, or a factor added while signed in (an authenticator app, a passkey): it proves
        # the new factor, not that the person at the keyboard is the one who signed in earlier.
        signed_in_at = float(previous.get("signed_in_at", previous.get("auth_time", 0)))
    request.session.cycle_key()
    request.session.pop(PENDING_KEY, None)
    acr = levels.level_of(amr, proofed_in_person=account.proofed_in_person)
    request.session[IDP_KEY] = {
        "account": account.pk,
        "acr": acr,
        "amr": amr,
        "auth_time": int(now),
        "signed_in_at": signed_in_at,
    }
    return SignedIn(account=account, acr=acr, amr=amr, auth_time=int(now), signed_in_at=signed_in_at)


# --- authorization requests that demand a fresh sign-in (prompt=login, max_age) ---------------------
# The provider remembers, in its own session, when such a request first arrived; the request is
# answered once the person has signed in after that moment. Nothing in the request itself (which the
# client or the browser could change) can say the sign-in has happened.


def fresh_demand(request: HttpRequest, fingerprint: str) -> float:
    """Remember that the authorization request ``fingerprint`` needs a sign-in from now on."""
    now = time.time()
    kept: dict[str, float] = {
        key: at for key, at in (request.session.get(FRESH_KEY) or {}).items() if now - float(at) < FRESH_SECONDS
    }
    arrived = float(kept.get(fingerprint, now))
    kept[fingerprint] = arrived
    newest = sorted(kept.items(), key=lambda item: item[1])[-FRESH_KEPT:]
    request.session[FRESH_KEY] = dict(newest)
    return arrived


def fresh_satisfied(request: HttpRequest, fingerprint: str, signed_in: SignedIn | None) -> bool:
    """Whether the person signed in after the request ``fingerprint`` demanded it."""
    arrived = (request.session.get(FRESH_KEY) or {}).get(fingerprint)
    if arrived is None or signed_in is None or time.time() - float(arrived) >= FRESH_SECONDS:
        return False
    return signed_in.signed_in_at > float(arrived)


def fresh_done(request: HttpRequest, fingerprint: str) -> None:
    kept = request.session.get(FRESH_KEY) or {}
    if fingerprint in kept:
        request.session[FRESH_KEY] = {key: at for key, at in kept.items() if key != fingerprint}


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
