"""Second factors: authenticator apps (TOTP) and one-time recovery codes."""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.crypto import hash_token
from gov21.core.errors import DomainError
from gov21.core.sealing import Sealer
from gov21.identity import totp
from gov21.identity.models import (
    Account,
    Passkey,
    RecoveryCode,
    TotpFactor,
)
from gov21.identity.services.accounts import (
    auth_event_record,
    code_generate,
    code_normalise,
    recent_authentication_check,
)
from gov21.identity.throttle import ACCOUNT, ADDRESS, address_key, attempt_begin, throttle_key

# Authenticator-app seeds, which the provider must read back, bound to their account.
TOTP_SEAL = Sealer("identity-seal.key")

RECOVERY_CODE_COUNT = 10


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
    sealed = TOTP_SEAL.seal_text(secret, aad=_totp_binding(account))
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


def totp_enrol_pending(*, account: Account) -> str | None:
    """The authenticator secret being set up and not yet confirmed (a first app, or a replacement of a
    confirmed one), or None. A mistyped code leaves it as it is, so the entry already added to the
    phone keeps matching; only an explicit "start again" (``totp_enrol_begin``) makes a new one."""
    factor = TotpFactor.objects.filter(account=account).first()
    if factor is None:
        return None
    if factor.confirmed_at is None:
        return TOTP_SEAL.open_text(factor.secret, aad=_totp_binding(account))
    if factor.pending_secret:
        return TOTP_SEAL.open_text(factor.pending_secret, aad=_totp_binding(account))
    return None


def _totp_binding(account: Account) -> bytes:
    return f"totp:{account.pk}".encode()


def _totp_secret(factor: TotpFactor) -> str:
    return TOTP_SEAL.open_text(factor.secret, aad=_totp_binding(factor.account))


def totp_enrol_confirm(*, account: Account, code: str, source: str, auth_time: int | None = None) -> None:
    """Confirm a new authenticator app with a code from it. Replacing a confirmed one removes that
    one, so it needs a recent sign-in (``auth_time``) as any removal does."""
    with transaction.atomic():
        factor = TotpFactor.objects.select_for_update().select_related("account").filter(account=account).first()
        replacing = factor is not None and factor.confirmed_at is not None
        if factor is None or (replacing and not factor.pending_secret):
            raise DomainError("totp_not_started", _("Start adding an authenticator app first."))
        if replacing:
            recent_authentication_check(auth_time=auth_time if auth_time is not None else 0)
            secret = TOTP_SEAL.open_text(factor.pending_secret, aad=_totp_binding(account))
            step = totp.code_match(secret, code, last_step=0)
        else:
            step = totp.code_match(_totp_secret(factor), code, last_step=factor.last_step)
        if step is None:
            raise DomainError(
                "totp_wrong_code",
                _("That code is not right. Type the 6-digit code the app shows now for this account."),
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
        raise DomainError("last_factor", _("Add another way to sign in first: this is your only second factor."))


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
    codes = [code_generate(4) for _ in range(RECOVERY_CODE_COUNT)]
    now = timezone.now()
    with transaction.atomic():
        replaced = RecoveryCode.objects.filter(account=account).delete()[0]
        RecoveryCode.objects.bulk_create(
            RecoveryCode(account=account, code_hash=hash_token(code_normalise(c)), created_at=now) for c in codes
        )
        auth_event_record(kind="recovery_codes_issued", account=account, source=source, tell=bool(replaced))
    return codes


def recovery_code_redeem(*, account: Account, code: str) -> bool:
    updated = RecoveryCode.objects.filter(
        account=account, code_hash=hash_token(code_normalise(code)), used_at__isnull=True
    ).update(used_at=timezone.now())
    return bool(updated)


def second_factor_verify(*, account: Account, code: str, source: str) -> str:
    """Accept an authenticator-app code or a recovery code; the amr method it proves, or an error."""
    attempt = attempt_begin(
        [(ACCOUNT, throttle_key("2fa", str(account.pk))), (ADDRESS, address_key(source))],
        detail=_("Too many wrong codes. Wait {wait} seconds, then try again."),
    )
    if totp_verify(account=account, code=code):
        attempt.succeeded()
        return "otp"
    if recovery_code_redeem(account=account, code=code):
        attempt.succeeded()
        auth_event_record(kind="recovery_code_used", account=account, source=source)
        return "otp"
    auth_event_record(kind="sign_in_failed", account=account, source=source, step="second_factor")
    raise DomainError(
        "wrong_code",
        _("That code is not right. Type the current code from your app, or a recovery code."),
        field="code",
    )
