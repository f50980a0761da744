from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.models import AbstractBaseUser
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from gov21.core.crypto import hash_token, random_token
from gov21.core.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated
from gov21.core.ids import uin_check
from gov21.core.queries import raw_one
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.identity import totp
from gov21.identity.models import (
    Account,
    AccountRecovery,
    ActivationCode,
    ApiToken,
    AuthEvent,
    Consent,
    OAuthToken,
    Passkey,
    RecoveryCode,
    RelyingParty,
    StaffRole,
    TotpFactor,
)
from gov21.identity.principal import ROLES, Principal
from gov21.identity.sealing import seal, unseal
from gov21.identity.throttle import ACCOUNT, ADDRESS, address_key, attempt_begin, throttle_key, throttle_reset

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


@transaction.atomic
def staff_create(*, username: str, password: str, roles: list[str], agency: str = "civil-registry") -> AbstractBaseUser:
    for role in roles:
        check_role(role)
    user_model = get_user_model()
    user, _ = user_model.objects.get_or_create(username=username, defaults={"is_staff": False})
    user.set_password(password)
    user.save()
    Account.objects.get_or_create(
        user=user,
        defaults={
            "kind": Account.Kind.STAFF,
            "status": Account.Status.ACTIVE,
            "created_at": timezone.now(),
            "activated_at": timezone.now(),
        },
    )
    for role in roles:
        StaffRole.objects.get_or_create(user=user, role=role, agency=agency)
    return user


# --- accounts ---------------------------------------------------------------------------------------

ACTIVATION_LIFETIME = timedelta(days=7)
ACTIVATION_MAX_FAILURES = 5
RECOVERY_CODE_COUNT = 10
_CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O or 1/I: read aloud at a counter
GENERIC_SIGN_IN_FAILURE = "The UIN, user name or password is not right, or this account cannot sign in now."


def _code_generate(groups: int) -> str:
    return "-".join("".join(secrets.choice(_CODE_ALPHABET) for _ in range(4)) for _ in range(groups))


def _code_normalise(code: str) -> str:
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
            "For your safety, prove it is you again (with your app, a recovery code or a passkey), then try again.",
            status=403,
            title="Sign in again",
        )


def _person_checked(*, uin: str, officer: Principal, purpose: str) -> str:
    """The officer's check of the person's record before a code is handed over: read from the civil
    registry through the exchange, as any agency reads it, with the officer named and the purpose given."""
    officer.require("identity.activate")
    uin = uin_check(uin, field="uin")  # before it becomes part of the path read
    person = exchange_json(
        client=agency_client("IDA", "identity"),
        service=agency_service("CRO", "civil-registry", "persons"),
        path=f"/{uin}",
        user_id=officer.name,
        issue=purpose,
    )
    if person["status"] != "alive":
        raise Conflict("person_not_alive", "This person is recorded as deceased; no account can be activated.")
    return str(person["uin"])


def _activation_code_create(*, account: Account, officer: Principal, channel: str) -> tuple[str, ActivationCode]:
    code = _code_generate(3)
    now = timezone.now()
    ActivationCode.objects.filter(account=account, used_at__isnull=True).update(used_at=now)
    row = ActivationCode.objects.create(
        account=account,
        code_hash=hash_token(_code_normalise(code)),
        channel=channel,
        issued_by=officer.name,
        issued_at=now,
        expires_at=now + ACTIVATION_LIFETIME,
    )
    return code, row


@transaction.atomic
def activation_code_issue(*, uin: str, officer: Principal, channel: str = "counter") -> str:
    """An officer who has checked a person face to face hands them a one-time activation code for
    an account not yet in use. An account in use is recovered instead (:func:`account_recovery_request`):
    one officer alone cannot take it over. A deceased person's account is never activated again."""
    uin = _person_checked(uin=uin, officer=officer, purpose="Identity check at the counter to activate a digital ID")
    account = Account.objects.select_for_update().filter(uin=uin).first()
    if account is None:
        user = get_user_model().objects.create_user(username=uin)
        user.set_unusable_password()
        user.save()
        account = Account.objects.create(user=user, kind=Account.Kind.CITIZEN, uin=uin, created_at=timezone.now())
    elif account.status == Account.Status.DISABLED:
        raise Conflict(
            "account_disabled", f"This account is disabled ({account.disabled_reason}); it cannot be re-activated."
        )
    elif account.status == Account.Status.ACTIVE:
        raise Conflict(
            "account_in_use",
            "This person's account is in use. Ask for an account recovery: a second officer approves it, "
            "and the person is told.",
        )
    code, _ = _activation_code_create(account=account, officer=officer, channel=channel)
    auth_event_record(kind="activation_code_issued", account=account, officer=officer.name, channel=channel)
    throttle_reset(throttle_key("act", uin))  # the officer has seen the person: earlier guessing is forgiven
    return code


# --- recovery of an account in use at a service counter ------------------------------------------

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
    uin = _person_checked(uin=uin, officer=officer, purpose="Identity check at the counter to recover a digital ID")
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
    code, row = _activation_code_create(account=account, officer=officer, channel=channel)
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


def account_activate(*, uin: str, code: str, password: str, source: str) -> Account:
    """Take control of an account with an activation code and set its password.

    Every failure gives the same answer, whether the UIN has no account, the code is wrong, used or
    expired, so that the form cannot be used to learn who has an account. On an account in use the
    code works only if it came from an approved recovery."""
    failure = DomainError("activation_failed", "That UIN and activation code do not match an open activation.")
    uin = uin.strip()
    attempt = attempt_begin(
        [(ACCOUNT, throttle_key("act", uin)), (ADDRESS, address_key(source))],
        detail="Too many attempts. Wait {wait} seconds, then try again.",
    )
    with transaction.atomic():
        account = (
            Account.objects.select_for_update().filter(uin=uin, kind=Account.Kind.CITIZEN).first()
            if uin.isdigit()
            else None
        )
        pending = (
            ActivationCode.objects.filter(account=account, used_at__isnull=True, expires_at__gt=timezone.now())
            .order_by("-issued_at")
            .first()
            if account is not None
            else None
        )
        failed = True
        if account is not None and pending is not None and account.status != Account.Status.DISABLED:
            # The code's own count is taken before it is compared, as the throttle's is.
            counted = ActivationCode.objects.filter(
                pk=pending.pk, used_at__isnull=True, failed_attempts__lt=ACTIVATION_MAX_FAILURES
            ).update(failed_attempts=F("failed_attempts") + 1)
            if counted and secrets.compare_digest(pending.code_hash, hash_token(_code_normalise(code))):
                failed = False
                # The right code is not a wrong try: a weak password typed with it costs nothing.
                ActivationCode.objects.filter(pk=pending.pk).update(failed_attempts=F("failed_attempts") - 1)
            elif counted:
                # A guessed-at code is burnt after its last try; the person goes back to the counter.
                ActivationCode.objects.filter(
                    pk=pending.pk, used_at__isnull=True, failed_attempts__gte=ACTIVATION_MAX_FAILURES
                ).update(used_at=timezone.now())
        if not failed and account is not None and account.status == Account.Status.ACTIVE:
            approved = AccountRecovery.objects.filter(
                code_id=pending.pk if pending else 0, approved_at__isnull=False, cancelled_at__isnull=True
            ).exists()
            failed = not approved
    if failed:
        raise failure
    assert account is not None and pending is not None
    attempt.succeeded()
    user = account.user
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise DomainError("weak_password", " ".join(error.messages), field="password") from error
    with transaction.atomic():
        now = timezone.now()
        # Used once: of two people with the same code, one wins; a cancelled recovery burnt it.
        if not ActivationCode.objects.filter(pk=pending.pk, used_at__isnull=True).update(used_at=now):
            raise failure
        account = Account.objects.select_for_update().get(pk=account.pk)
        recovery_row = AccountRecovery.objects.filter(code_id=pending.pk).first()
        recovery = account.status == Account.Status.ACTIVE
        if recovery and (recovery_row is None or recovery_row.cancelled_at is not None):
            raise failure
        if recovery:  # an approved counter recovery replaces every credential the account had
            TotpFactor.objects.filter(account=account).delete()
            Passkey.objects.filter(account=account).delete()
            RecoveryCode.objects.filter(account=account).delete()
        if recovery_row is not None:
            recovery_row.completed_at = now
            recovery_row.save(update_fields=["completed_at"])
        user.set_password(password)
        user.save(update_fields=["password"])
        account.status = Account.Status.ACTIVE
        account.activated_at = account.activated_at or now
        account.proofed_in_person = account.proofed_in_person or pending.channel == "counter"
        account.save(update_fields=["status", "activated_at", "proofed_in_person"])
        OAuthToken.objects.filter(account=account, revoked_at__isnull=True).update(revoked_at=now)
        auth_event_record(
            kind="account_recovered" if recovery else "account_activated", account=account, source=source, tell=recovery
        )
    return account


_DUMMY_HASH: list[str] = []


def _dummy_password_check(password: str) -> None:
    """Spend the time a real password check takes, so that an unknown identifier cannot be told apart."""
    if not _DUMMY_HASH:
        _DUMMY_HASH.append(make_password(secrets.token_urlsafe(16)))
    check_password(password, _DUMMY_HASH[0])


def password_authenticate(*, identifier: str, password: str, source: str) -> Account:
    """The account whose identifier (UIN or staff user name) and password match, or one generic error."""
    identifier = identifier.strip()
    try:
        attempt = attempt_begin(
            [(ACCOUNT, throttle_key("id", identifier)), (ADDRESS, address_key(source))],
            detail="Too many failed attempts. Wait {wait} seconds, then try again, or visit a service counter.",
        )
    except DomainError:
        auth_event_record(kind="sign_in_blocked", account=None, source=source)
        raise
    usable = bool(identifier) and "\x00" not in identifier  # PostgreSQL refuses NUL in text
    account = Account.objects.select_related("user").filter(user__username=identifier).first() if usable else None
    if account is None:
        _dummy_password_check(password)
        ok = False
    else:
        ok = account.user.check_password(password) and account.status == Account.Status.ACTIVE
    if not ok:
        auth_event_record(kind="sign_in_failed", account=account, source=source, step="password")
        raise Unauthenticated("sign_in_failed", GENERIC_SIGN_IN_FAILURE)
    assert account is not None
    attempt.succeeded()
    return account


def account_second_factors(account: Account) -> dict[str, bool]:
    return {
        "totp": TotpFactor.objects.filter(account=account, confirmed_at__isnull=False).exists(),
        "passkey": Passkey.objects.filter(account=account).exists(),
        "recovery": RecoveryCode.objects.filter(account=account, used_at__isnull=True).exists(),
    }


def totp_enrol_begin(*, account: Account) -> str:
    """A new authenticator secret, not yet confirmed. It replaces an earlier unconfirmed one; a
    confirmed app keeps working beside it until a code from the new one confirms the change."""
    secret = totp.secret_generate()
    sealed = seal(secret, bound_to=_totp_binding(account))
    with transaction.atomic():
        factor = TotpFactor.objects.select_for_update().filter(account=account).first()
        if factor is not None and factor.confirmed_at is not None:
            factor.pending_secret = sealed
            factor.save(update_fields=["pending_secret"])
        else:
            TotpFactor.objects.update_or_create(
                account=account, defaults={"secret": sealed, "confirmed_at": None, "last_step": 0, "pending_secret": ""}
            )
    return secret


def _totp_binding(account: Account) -> str:
    return f"totp:{account.pk}"


def _totp_secret(factor: TotpFactor) -> str:
    return unseal(factor.secret, bound_to=_totp_binding(factor.account))


def totp_enrol_confirm(*, account: Account, code: str, source: str, auth_time: int | None = None) -> None:
    """Confirm a new authenticator app with a code from it. Replacing a confirmed one removes that
    one, so it needs a recent sign-in (``auth_time``) as any removal does."""
    with transaction.atomic():
        factor = TotpFactor.objects.select_for_update().select_related("account").filter(account=account).first()
        replacing = factor is not None and factor.confirmed_at is not None
        if factor is None or (replacing and not factor.pending_secret):
            raise DomainError("totp_not_started", "Start adding an authenticator app first.")
        if replacing:
            recent_authentication_check(auth_time=auth_time if auth_time is not None else 0)
            secret = unseal(factor.pending_secret, bound_to=_totp_binding(account))
            step = totp.code_match(secret, code, last_step=0)
        else:
            step = totp.code_match(_totp_secret(factor), code, last_step=factor.last_step)
        if step is None:
            raise DomainError(
                "totp_wrong_code",
                "That code is not right. Check the phone's clock and type the current code.",
                field="code",
            )
        if replacing:
            factor.secret = factor.pending_secret
            factor.pending_secret = ""
        factor.confirmed_at = timezone.now()
        factor.last_step = step
        factor.save(update_fields=["secret", "pending_secret", "confirmed_at", "last_step"])
        auth_event_record(kind="factor_added", account=account, source=source, factor="totp", tell=replacing)


def totp_verify(*, account: Account, code: str) -> bool:
    """Check a code and remember its step, atomically, so that it cannot be used a second time."""
    with transaction.atomic():
        factor = (
            TotpFactor.objects.select_for_update()
            .select_related("account")
            .filter(account=account, confirmed_at__isnull=False)
            .first()
        )
        if factor is None:
            return False
        step = totp.code_match(_totp_secret(factor), code, last_step=factor.last_step)
        if step is None:
            return False
        factor.last_step = step
        factor.save(update_fields=["last_step"])
    return True


def second_factor_keep_one(
    *, account: Account, removing_totp: bool = False, removing_passkey: int | None = None
) -> None:
    """Refuse to remove the last second factor: the account would fall back to a password alone."""
    totp_left = not removing_totp and TotpFactor.objects.filter(account=account, confirmed_at__isnull=False).exists()
    passkeys_left = Passkey.objects.filter(account=account).exclude(pk=removing_passkey or 0).exists()
    if not (totp_left or passkeys_left):
        raise DomainError("last_factor", "Add another way to sign in first: this is your only second factor.")


def totp_remove(*, account: Account, source: str, auth_time: int) -> None:
    recent_authentication_check(auth_time=auth_time)
    second_factor_keep_one(account=account, removing_totp=True)
    with transaction.atomic():
        if TotpFactor.objects.filter(account=account).delete()[0]:
            auth_event_record(kind="factor_removed", account=account, source=source, factor="totp", tell=True)


def recovery_codes_issue(*, account: Account, source: str, auth_time: int) -> list[str]:
    """Ten new single-use recovery codes, replacing any earlier ones. Shown once. Replacing codes
    removes the old ones, so it needs a recent sign-in."""
    recent_authentication_check(auth_time=auth_time)
    codes = [_code_generate(4) for _ in range(RECOVERY_CODE_COUNT)]
    now = timezone.now()
    with transaction.atomic():
        replaced = RecoveryCode.objects.filter(account=account).delete()[0]
        RecoveryCode.objects.bulk_create(
            RecoveryCode(account=account, code_hash=hash_token(_code_normalise(c)), created_at=now) for c in codes
        )
        auth_event_record(kind="recovery_codes_issued", account=account, source=source, tell=bool(replaced))
    return codes


def recovery_code_redeem(*, account: Account, code: str) -> bool:
    updated = RecoveryCode.objects.filter(
        account=account, code_hash=hash_token(_code_normalise(code)), used_at__isnull=True
    ).update(used_at=timezone.now())
    return bool(updated)


def second_factor_verify(*, account: Account, code: str, source: str) -> str:
    """Accept an authenticator-app code or a recovery code; the amr method it proves, or an error."""
    attempt = attempt_begin(
        [(ACCOUNT, throttle_key("2fa", str(account.pk))), (ADDRESS, address_key(source))],
        detail="Too many wrong codes. Wait {wait} seconds, then try again.",
    )
    if totp_verify(account=account, code=code):
        attempt.succeeded()
        return "otp"
    if recovery_code_redeem(account=account, code=code):
        attempt.succeeded()
        auth_event_record(kind="recovery_code_used", account=account, source=source)
        return "otp"
    auth_event_record(kind="sign_in_failed", account=account, source=source, step="second_factor")
    raise DomainError("wrong_code", "That code is not right. Type the current code from your app.", field="code")


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


# --- consent ----------------------------------------------------------------------------------------


def consent_covers(*, account: Account, client: RelyingParty, scopes: list[str]) -> bool:
    # Asked on every authorization request: hand-written.
    consent = raw_one(Consent, "account_id = %s AND client_id = %s AND revoked_at IS NULL", [account.pk, client.pk])
    return consent is not None and set(scopes) <= set(consent.scopes)


@transaction.atomic
def consent_grant(*, account: Account, client: RelyingParty, scopes: list[str], source: str) -> Consent:
    """Record consent to release these scopes to this client (merged with what was agreed before)."""
    now = timezone.now()
    current = (
        Consent.objects.select_for_update().filter(account=account, client=client, revoked_at__isnull=True).first()
    )
    merged = sorted(set(scopes) | set(current.scopes if current else []))
    if current is not None:
        current.revoked_at = now
        current.save(update_fields=["revoked_at"])
    consent = Consent.objects.create(account=account, client=client, scopes=merged, granted_at=now)
    auth_event_record(kind="consent_granted", account=account, source=source, client=client.client_id, scopes=merged)
    return consent


@transaction.atomic
def consent_revoke(*, account: Account, consent_id: int, source: str) -> None:
    """Withdraw consent: the agency's tokens for this person stop working at once."""
    consent = (
        Consent.objects.select_for_update().filter(pk=consent_id, account=account, revoked_at__isnull=True).first()
    )
    if consent is None:
        raise NotFound("consent_not_found", "No such consent on your account.")
    now = timezone.now()
    consent.revoked_at = now
    consent.save(update_fields=["revoked_at"])
    OAuthToken.objects.filter(account=account, client=consent.client, revoked_at__isnull=True).update(revoked_at=now)
    auth_event_record(kind="consent_revoked", account=account, source=source, client=consent.client.client_id)


# --- relying parties --------------------------------------------------------------------------------

_CLIENT_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_SECTOR_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client_id: str
    secret: str | None


def _check_uri(uri: str, *, field: str) -> str:
    parsed = urlsplit(uri)
    local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if parsed.scheme not in ("https", "http") or (parsed.scheme == "http" and not local) or not parsed.netloc:
        raise DomainError("invalid_uri", f"{uri!r} is not an https URL (plain http only on loopback).", field=field)
    if parsed.fragment:
        raise DomainError("invalid_uri", f"{uri!r} must not carry a fragment.", field=field)
    return uri


@transaction.atomic
def client_register(
    *,
    client_id: str,
    name: str,
    agency: str,
    sector: str,
    purpose: str,
    redirect_uris: list[str],
    scopes: list[str],
    auth_method: str,
    jwks: dict[str, Any] | None,
    post_logout_redirect_uris: list[str] | None = None,
    may_introspect: bool = False,
    id_token_signed_response_alg: str = "ES256",  # noqa: S107 - an algorithm name, not a secret
    created_by: str,
) -> RegisteredClient:
    """Register an agency system. ``private_key_jwt`` needs its public keys; ``client_secret_basic``
    (development only) gets a generated secret, shown once."""
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    from gov21.identity.oidc import ID_TOKEN_ALGS, SCOPES

    if not _CLIENT_ID_RE.fullmatch(client_id):
        raise DomainError(
            "invalid_client_id", "Use 3-64 lower-case letters, digits, '.', '_' or '-'.", field="client_id"
        )
    if RelyingParty.objects.filter(client_id=client_id).exists():
        raise Conflict("client_exists", f"A client {client_id!r} is already registered.", field="client_id")
    if not _SECTOR_RE.fullmatch(sector):
        raise DomainError("invalid_sector", "A sector is a short lower-case name such as 'health'.", field="sector")
    if not name.strip() or not agency.strip() or len(purpose.strip()) < 5:
        raise DomainError("missing_fields", "Name, agency and a purpose people can read are required.", field="purpose")
    if not redirect_uris:
        raise DomainError("invalid_uri", "At least one redirect URI is required.", field="redirect_uris")
    if id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise DomainError(
            "invalid_id_token_alg",
            f"ID tokens are signed with one of {', '.join(ID_TOKEN_ALGS)}.",
            field="id_token_signed_response_alg",
        )
    uris = [_check_uri(u, field="redirect_uris") for u in redirect_uris]
    logout_uris = [_check_uri(u, field="post_logout_redirect_uris") for u in post_logout_redirect_uris or []]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or "openid" not in scopes:
        raise DomainError(
            "invalid_scope", f"Scopes must include openid and come from {', '.join(SCOPES)}.", field="scopes"
        )
    secret: str | None = None
    secret_hash = ""
    if auth_method == RelyingParty.AuthMethod.PRIVATE_KEY_JWT:
        try:
            keys = KeySet.import_key_set(jwks or {})  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise DomainError("invalid_jwks", f"The public keys are not a valid JWKS: {error}", field="jwks") from error
        private_members = {"d", "p", "q", "dp", "dq", "qi", "k"}
        raw_keys = (jwks or {}).get("keys") or []
        has_private = any(isinstance(k, dict) and private_members & set(k) for k in raw_keys)
        if not keys.keys or has_private or any(k.is_private for k in keys.keys):
            raise DomainError("invalid_jwks", "Give one or more public keys, never a private key.", field="jwks")
    elif auth_method == RelyingParty.AuthMethod.CLIENT_SECRET_BASIC:
        secret = random_token(32)
        secret_hash = hash_token(secret)
        jwks = None
    else:
        raise DomainError("invalid_auth_method", "Use private_key_jwt (or client_secret_basic for development).")
    RelyingParty.objects.create(
        client_id=client_id,
        name=name.strip(),
        agency=agency.strip(),
        sector=sector,
        purpose=purpose.strip(),
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        allowed_scopes=[s for s in SCOPES if s in scopes],
        auth_method=auth_method,
        jwks=jwks,
        secret_hash=secret_hash,
        may_introspect=may_introspect,
        id_token_signed_response_alg=id_token_signed_response_alg,
        created_at=timezone.now(),
        created_by=created_by,
    )
    return RegisteredClient(client_id=client_id, secret=secret)


@transaction.atomic
def builtin_client_ensure(
    *, client_id: str, name: str, sector: str, redirect_uri: str, post_logout_uri: str, jwks: dict[str, Any]
) -> None:
    """Keep gov21's own portal registered as a relying party at the one address configuration gives;
    an address of an earlier configuration stops being accepted."""
    row = RelyingParty.objects.select_for_update().filter(client_id=client_id).first()
    if row is None:
        RelyingParty.objects.create(
            client_id=client_id,
            name=name,
            agency=str(getattr(settings, "GOV21_COUNTRY_NAME", "gov21")),
            sector=sector,
            purpose="Sign you in to the public services portal and show you your account",
            redirect_uris=[redirect_uri],
            post_logout_redirect_uris=[post_logout_uri],
            allowed_scopes=["openid", "profile"],
            auth_method=RelyingParty.AuthMethod.PRIVATE_KEY_JWT,
            jwks=jwks,
            created_at=timezone.now(),
            created_by="gov21",
        )
        return
    changed = False
    if row.redirect_uris != [redirect_uri]:
        row.redirect_uris = [redirect_uri]
        changed = True
    if row.post_logout_redirect_uris != [post_logout_uri]:
        row.post_logout_redirect_uris = [post_logout_uri]
        changed = True
    if row.jwks != jwks:
        row.jwks = jwks
        changed = True
    if changed:
        row.save(update_fields=["redirect_uris", "post_logout_redirect_uris", "jwks"])


def consent_revoke_by_user(*, user_id: int, consent_id: int, source: str) -> None:
    account = Account.objects.filter(user_id=user_id).first()
    if account is None:
        raise NotFound("consent_not_found", "No such consent on your account.")
    consent_revoke(account=account, consent_id=consent_id, source=source)


def password_change(*, account: Account, current: str, new: str, source: str) -> None:
    """Change a password, proving the current one again (a borrowed unlocked phone is not enough)."""
    attempt = attempt_begin(
        [(ACCOUNT, throttle_key("pwchange", str(account.pk))), (ADDRESS, address_key(source))],
        detail="Too many attempts. Wait {wait} seconds, then try again.",
    )
    user = account.user
    if not user.check_password(current):
        raise DomainError("wrong_password", "Your current password is not right.", field="current_password")
    attempt.succeeded()
    try:
        validate_password(new, user)
    except ValidationError as error:
        raise DomainError("weak_password", " ".join(error.messages), field="new_password") from error
    with transaction.atomic():
        user.set_password(new)
        user.save(update_fields=["password"])
        auth_event_record(kind="password_changed", account=account, source=source, tell=True)


@transaction.atomic
def client_disable(*, client_id: str) -> None:
    """Stop an agency system at once: no new sign-ins, and every token it holds stops working."""
    now = timezone.now()
    client = RelyingParty.objects.select_for_update().filter(client_id=client_id).first()
    if client is None:
        raise NotFound("client_not_found", f"No client {client_id!r}.")
    if client.disabled_at is None:
        client.disabled_at = now
        client.save(update_fields=["disabled_at"])
    OAuthToken.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
