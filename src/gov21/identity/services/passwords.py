"""Sign-in with a password (in constant time whether the account exists or not), and changing it."""

from __future__ import annotations

import secrets

from django.contrib.auth.hashers import check_password, make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gov21.core.capacity import Busy
from gov21.core.errors import DomainError, Unauthenticated
from gov21.identity.models import (
    Account,
)
from gov21.identity.passwords import password_step
from gov21.identity.services.accounts import auth_event_record
from gov21.identity.throttle import ACCOUNT, ADDRESS, address_key, attempt_begin, throttle_key

_DUMMY_HASH: list[str] = []

GENERIC_SIGN_IN_FAILURE = gettext_lazy(
    "The UIN, user name or password is not right, or this account cannot sign in now."
)


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
            detail=_("Too many failed attempts. Wait {wait} seconds, then try again, or visit a service counter."),
        )
    except DomainError:
        auth_event_record(kind="sign_in_blocked", account=None, source=source)
        raise
    usable = bool(identifier) and "\x00" not in identifier  # PostgreSQL refuses NUL in text
    account = Account.objects.select_related("user").filter(user__username=identifier).first() if usable else None
    try:
        with password_step():
            if account is None:
                _dummy_password_check(password)
                ok = False
            else:
                # A right password kept with older parameters is hashed again here, in the same slot.
                ok = account.user.check_password(password) and account.status == Account.Status.ACTIVE
    except Busy:
        attempt.withdrawn()  # nothing was checked: the person has not used up an attempt
        raise
    if not ok:
        auth_event_record(kind="sign_in_failed", account=account, source=source, step="password")
        raise Unauthenticated("sign_in_failed", str(GENERIC_SIGN_IN_FAILURE))
    assert account is not None
    attempt.succeeded()
    return account


def password_change(*, account: Account, current: str, new: str, source: str) -> None:
    """Change a password, proving the current one again (a borrowed unlocked phone is not enough)."""
    attempt = attempt_begin(
        [(ACCOUNT, throttle_key("pwchange", str(account.pk))), (ADDRESS, address_key(source))],
        detail=_("Too many attempts. Wait {wait} seconds, then try again."),
    )
    user = account.user
    try:
        with password_step():
            right = user.check_password(current)
    except Busy:
        attempt.withdrawn()
        raise
    if not right:
        raise DomainError("wrong_password", _("Your current password is not right."), field="current_password")
    attempt.succeeded()
    try:
        validate_password(new, user)
    except ValidationError as error:
        raise DomainError("weak_password", " ".join(error.messages), field="new_password") from error
    with password_step():
        user.set_password(new)
    with transaction.atomic():
        user.save(update_fields=["password"])
        auth_event_record(kind="password_changed", account=account, source=source, tell=True)
