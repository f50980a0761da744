"""A digital ID's start: the activation code handed over at a counter after an identity check, and
the person's first sign-in with it."""

from __future__ import annotations

import secrets
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from gov21.core.crypto import hash_token
from gov21.core.errors import Conflict, DomainError
from gov21.core.ids import uin_check
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.identity.models import (
    Account,
    AccountRecovery,
    ActivationCode,
    OAuthToken,
    Passkey,
    RecoveryCode,
    TotpFactor,
)
from gov21.identity.passwords import password_step
from gov21.identity.services.accounts import auth_event_record, code_generate, code_normalise
from gov21.identity.throttle import ACCOUNT, ADDRESS, address_key, attempt_begin, throttle_key, throttle_reset

ACTIVATION_LIFETIME = timedelta(days=7)
ACTIVATION_MAX_FAILURES = 5


def person_checked(*, uin: str, officer: Principal, purpose: str) -> str:
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


def activation_code_create(*, account: Account, officer: Principal, channel: str) -> tuple[str, ActivationCode]:
    code = code_generate(3)
    now = timezone.now()
    ActivationCode.objects.filter(account=account, used_at__isnull=True).update(used_at=now)
    row = ActivationCode.objects.create(
        account=account,
        code_hash=hash_token(code_normalise(code)),
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
    uin = person_checked(
        uin=uin, officer=officer, purpose=gettext_noop("Identity check at the counter to activate a digital ID")
    )
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
    code, _issued = activation_code_create(account=account, officer=officer, channel=channel)
    auth_event_record(kind="activation_code_issued", account=account, officer=officer.name, channel=channel)
    throttle_reset(throttle_key("act", uin))  # the officer has seen the person: earlier guessing is forgiven
    return code


def account_activate(*, uin: str, code: str, password: str, source: str) -> Account:
    """Take control of an account with an activation code and set its password.

    Every failure gives the same answer, whether the UIN has no account, the code is wrong, used or
    expired, so that the form cannot be used to learn who has an account. On an account in use the
    code works only if it came from an approved recovery."""
    failure = DomainError(
        "activation_failed",
        _("That UIN and activation code do not match an open activation. Check both, or ask at a service counter."),
    )
    uin = uin.strip()
    attempt = attempt_begin(
        [(ACCOUNT, throttle_key("act", uin)), (ADDRESS, address_key(source))],
        detail=_("Too many attempts. Wait {wait} seconds, then try again."),
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
            if counted and secrets.compare_digest(pending.code_hash, hash_token(code_normalise(code))):
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
    with password_step():  # hashed outside the transaction: no row lock waits for the hash
        user.set_password(password)
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
