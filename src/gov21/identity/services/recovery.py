"""Recovery of an account in use, at a service counter: one officer asks, a second approves."""

from __future__ import annotations

from datetime import timedelta

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from gov21.core.errors import Conflict, Forbidden, NotFound
from gov21.core.principal import Principal
from gov21.identity.models import (
    Account,
    AccountRecovery,
    ActivationCode,
)
from gov21.identity.services.accounts import auth_event_record
from gov21.identity.services.activation import activation_code_create, person_checked
from gov21.identity.throttle import throttle_key, throttle_reset

RECOVERY_REQUEST_LIFETIME = timedelta(days=2)


def _staff_officer(officer: Principal) -> None:
    # Each step is a named person's act: a shared API token cannot be "another officer".
    if officer.kind != "staff":
        raise Forbidden("officer_required", "An account recovery is asked for and approved by named officers.")


def _recovery_open(account: Account) -> AccountRecovery | None:
    return (
        AccountRecovery.objects.filter(
            account=account,
            cancelled_at__isnull=True,
            completed_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("-requested_at")
        .first()
    )


@transaction.atomic
def account_recovery_request(*, uin: str, officer: Principal) -> AccountRecovery:
    """An officer who has checked the person's identity document asks for their account in use to
    be recovered. Nothing changes yet: a different officer must approve, and the owner is told now,
    on every channel, so that a recovery they did not ask for can be cancelled from their account."""
    _staff_officer(officer)
    uin = person_checked(
        uin=uin, officer=officer, purpose=gettext_noop("Identity check at the counter to recover a digital ID")
    )
    account = Account.objects.select_for_update().filter(uin=uin).first()
    if account is None or account.status != Account.Status.ACTIVE:
        raise Conflict(
            "account_not_in_use", "This person has no account in use: issue an activation code instead.", field="uin"
        )
    if _recovery_open(account) is not None:
        raise Conflict(
            "recovery_open",
            "A recovery of this account is already under way: waiting for a second officer or for its code.",
        )
    now = timezone.now()
    recovery = AccountRecovery.objects.create(
        account=account, requested_by=officer.name, requested_at=now, expires_at=now + RECOVERY_REQUEST_LIFETIME
    )
    auth_event_record(kind="recovery_requested", account=account, tell=True, officer=officer.name, recovery=recovery.pk)
    return recovery


@transaction.atomic
def account_recovery_approve(*, recovery_id: int, officer: Principal, channel: str = "counter") -> str:
    """A second officer, not the one who asked, approves a recovery; the activation code is printed
    for the person at this counter, recorded with this officer, and the owner is told again."""
    _staff_officer(officer)
    officer.require("identity.activate")
    recovery = AccountRecovery.objects.select_for_update().select_related("account").filter(pk=recovery_id).first()
    if recovery is None:
        raise NotFound("recovery_not_found", f"No account recovery {recovery_id}.")
    if recovery.requested_by == officer.name:
        raise Forbidden("second_officer_required", "Another officer must approve a recovery you asked for yourself.")
    now = timezone.now()
    if (
        recovery.cancelled_at is not None
        or recovery.completed_at is not None
        or recovery.approved_at is not None
        or recovery.expires_at <= now
    ):
        raise Conflict("recovery_closed", "This recovery was already approved, cancelled, used or has expired.")
    account = Account.objects.select_for_update().get(pk=recovery.account_id)
    if account.status != Account.Status.ACTIVE:
        raise Conflict("account_not_in_use", "This account is not in use any more.")
    code, row = activation_code_create(account=account, officer=officer, channel=channel)
    recovery.approved_by = officer.name
    recovery.approved_at = now
    recovery.code = row
    # The owner sees it, and can cancel it, for as long as its code works.
    recovery.expires_at = row.expires_at
    recovery.save(update_fields=["approved_by", "approved_at", "code", "expires_at"])
    auth_event_record(
        kind="recovery_approved",
        account=account,
        tell=True,
        officer=officer.name,
        requested_by=recovery.requested_by,
        recovery=recovery.pk,
    )
    throttle_reset(throttle_key("act", account.uin or ""))
    return code


@transaction.atomic
def account_recovery_cancel(*, account: Account, source: str) -> int:
    """The owner stops every recovery of their account not yet used; any code printed stops working."""
    now = timezone.now()
    open_ = list(
        AccountRecovery.objects.select_for_update().filter(
            account=account, cancelled_at__isnull=True, completed_at__isnull=True
        )
    )
    for recovery in open_:
        recovery.cancelled_at = now
        recovery.cancelled_by = "owner"
        recovery.save(update_fields=["cancelled_at", "cancelled_by"])
        if recovery.code_id is not None:
            ActivationCode.objects.filter(pk=recovery.code_id, used_at__isnull=True).update(used_at=now)
    if open_:
        auth_event_record(kind="recovery_cancelled", account=account, source=source, tell=True)
    return len(open_)


def account_recoveries_open(*, account: Account) -> list[AccountRecovery]:
    return list(
        AccountRecovery.objects.filter(
            account=account, cancelled_at__isnull=True, completed_at__isnull=True, expires_at__gt=timezone.now()
        ).order_by("-requested_at")
    )


def recoveries_waiting() -> list[AccountRecovery]:
    """Recoveries asked for and waiting for a second officer, oldest first."""
    return list(
        AccountRecovery.objects.select_related("account")
        .filter(
            approved_at__isnull=True,
            cancelled_at__isnull=True,
            completed_at__isnull=True,
            expires_at__gt=timezone.now(),
        )
        .order_by("requested_at")
    )
