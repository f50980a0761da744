"""What every account needs: one-time codes, the log of what happened to an account (and the
notices a person is told of), proof of a recent sign-in, and the end of an account at a death."""

from __future__ import annotations

import secrets
import time
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError
from gov21.identity.models import (
    Account,
    AuthEvent,
    OAuthToken,
)

_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a counter


def code_generate(groups: int) -> str:
    return "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(groups))


def code_normalise(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())


def auth_event_record(
    *, kind: str, account: Account | None, source: str = "", tell: bool = False, **detail: Any
) -> None:
    """Log an event on the account. ``tell``: the person is told of it on every channel they have
    (the notification outbox takes it through ``identity.contracts``); only a citizen has those."""
    AuthEvent.objects.create(
        at=timezone.now(),
        account=account,
        kind=kind,
        source=source[:64],
        detail=detail,
        tell=tell and account is not None and bool(account.uin),
    )


def account_notice_told(*, notice_id: int) -> bool:
    """Mark a notice as handed to the notification outbox; False when another worker took it first.
    Call it in the transaction that queues the message, so that it is told exactly once."""
    return bool(AuthEvent.objects.filter(pk=notice_id, tell=True, told_at__isnull=True).update(told_at=timezone.now()))


# How recently a person must have proved who they are to remove a way of signing in (RFC 9470's
# max_age): a session left open on a shared computer must not be enough.
REAUTH_SECONDS = 300


def recent_authentication_check(*, auth_time: int) -> None:
    if time.time() - auth_time > REAUTH_SECONDS:
        raise DomainError(
            "reauthentication_required",
            _("For your safety, prove it is you again (with your app, a recovery code or a passkey), then try again."),
            status=403,
            title="Sign in again",
        )


@transaction.atomic
def account_disable_for_death(*, uin: str) -> None:
    """Called inside the transaction that registers a death: the account stops working at once."""
    account = Account.objects.select_for_update().filter(uin=uin).first()
    if account is None or account.status == Account.Status.DISABLED:
        return
    now = timezone.now()
    account.status = Account.Status.DISABLED
    account.disabled_at = now
    account.disabled_reason = "deceased"
    account.save(update_fields=["status", "disabled_at", "disabled_reason"])
    OAuthToken.objects.filter(account=account, revoked_at__isnull=True).update(revoked_at=now)
    auth_event_record(kind="account_disabled", account=account, reason="deceased")
