"""Passkeys (WebAuthn Level 3) through the ``webauthn`` library: registration, sign-in, removal.

User verification is required, so a passkey alone is two factors (the device and its PIN or
biometric). Credentials are discoverable, so a person can sign in without typing anything. The
challenge lives in the caller's session and is single use: the view pops it before verifying.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import bytes_to_base64url
from webauthn.helpers.exceptions import InvalidAuthenticationResponse, InvalidRegistrationResponse
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from gov21.core.errors import DomainError
from gov21.identity.models import Account, Passkey
from gov21.identity.services import auth_event_record, recent_authentication_check, second_factor_keep_one
from gov21.identity.throttle import ACCOUNT, ADDRESS, address_key, attempt_begin, throttle_key

MAX_PASSKEYS = 10


def _user_handle(account: Account) -> bytes:
    return b"gov21:" + str(account.pk).encode()


def registration_options(*, account: Account, rp_id: str, rp_name: str) -> tuple[str, bytes]:
    """The options for ``navigator.credentials.create`` (as JSON) and the challenge to keep."""
    existing = [
        PublicKeyCredentialDescriptor(id=_b64decode(cid))
        for cid in Passkey.objects.filter(account=account).values_list("credential_id", flat=True)
    ]
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=rp_name,
        user_name=account.user.get_username(),
        user_id=_user_handle(account),
        user_display_name=account.user.get_username(),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.REQUIRED, user_verification=UserVerificationRequirement.REQUIRED
        ),
        exclude_credentials=existing,
    )
    return options_to_json(options), options.challenge


def register(
    *,
    account: Account,
    credential: dict[str, Any] | str,
    challenge: bytes,
    rp_id: str,
    origin: str,
    name: str,
    source: str,
) -> Passkey:
    if Passkey.objects.filter(account=account).count() >= MAX_PASSKEYS:
        raise DomainError(
            "too_many_passkeys",
            _("An account can hold at most %(count)d passkeys; remove one first.") % {"count": MAX_PASSKEYS},
        )
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origin,
            require_user_verification=True,
        )
    except (InvalidRegistrationResponse, ValueError, KeyError, TypeError) as error:
        # The library's reason is for the log; the person is told what to do.
        raise DomainError(
            "passkey_rejected", _("The passkey could not be added. Try again, or use another passkey.")
        ) from error
    credential_id = bytes_to_base64url(verified.credential_id)
    if Passkey.objects.filter(credential_id=credential_id).exists():
        raise DomainError("passkey_exists", _("This passkey is already registered."))
    with transaction.atomic():
        passkey = Passkey.objects.create(
            account=account,
            credential_id=credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=[],
            name=(name.strip() or "Passkey")[:80],
            created_at=timezone.now(),
        )
        auth_event_record(kind="factor_added", account=account, source=source, factor="passkey", name=passkey.name)
    return passkey


def authentication_options(*, rp_id: str, account: Account | None = None) -> tuple[str, bytes]:
    allow = (
        [
            PublicKeyCredentialDescriptor(id=_b64decode(cid))
            for cid in Passkey.objects.filter(account=account).values_list("credential_id", flat=True)
        ]
        if account is not None
        else []
    )
    options = generate_authentication_options(
        rp_id=rp_id, allow_credentials=allow, user_verification=UserVerificationRequirement.REQUIRED
    )
    return options_to_json(options), options.challenge


def authenticate(
    *,
    credential: dict[str, Any],
    challenge: bytes,
    rp_id: str,
    origin: str,
    source: str,
    account: Account | None = None,
) -> Account:
    """The account whose passkey produced this assertion, after checking signature and counter.
    Attempts are counted per credential and per client address before anything is checked."""
    failure = DomainError("passkey_failed", _("That passkey is not registered for an account that can sign in."))
    raw_id = credential.get("id") if isinstance(credential, dict) else None
    if not isinstance(raw_id, str):
        raise failure
    attempt = attempt_begin(
        [(ACCOUNT, throttle_key("passkey", raw_id[:400])), (ADDRESS, address_key(source))],
        detail=_("Too many attempts. Wait {wait} seconds, then try again."),
    )
    with transaction.atomic():
        passkey = (
            Passkey.objects.select_for_update()
            .select_related("account", "account__user")
            .filter(credential_id=raw_id)
            .first()
        )
        if passkey is None or (account is not None and passkey.account_id != account.pk):
            raise failure
        if passkey.account.status != Account.Status.ACTIVE:
            raise failure
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp_id,
                expected_origin=origin,
                credential_public_key=bytes(passkey.public_key),
                credential_current_sign_count=passkey.sign_count,
                require_user_verification=True,
            )
        except (InvalidAuthenticationResponse, ValueError, KeyError, TypeError) as error:
            auth_event_record(kind="sign_in_failed", account=passkey.account, step="passkey")
            raise failure from error
        passkey.sign_count = verified.new_sign_count
        passkey.last_used_at = timezone.now()
        passkey.save(update_fields=["sign_count", "last_used_at"])
    attempt.succeeded()
    return passkey.account


def remove(*, account: Account, passkey_id: int, source: str, auth_time: int) -> None:
    """Remove a passkey; only soon after the person proved who they are (``auth_time``)."""
    recent_authentication_check(auth_time=auth_time)
    second_factor_keep_one(account=account, removing_passkey=passkey_id)
    with transaction.atomic():
        deleted, _by_model = Passkey.objects.filter(account=account, pk=passkey_id).delete()
        if not deleted:
            raise DomainError("passkey_not_found", _("No such passkey on this account."), status=404)
        auth_event_record(kind="factor_removed", account=account, source=source, factor="passkey", tell=True)


def _b64decode(value: str) -> bytes:
    from webauthn import base64url_to_bytes

    return base64url_to_bytes(value)
