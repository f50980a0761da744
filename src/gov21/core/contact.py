"""The one rule for contact details every app checks: a phone number and an email address.

A question that asks for a phone number and the SMS that is later sent to it must agree on what a
phone number is, so both ask here. Each function returns the detail in the form it is sent to, or
None when it is not one; the caller words the refusal for its own reader."""

from __future__ import annotations

import re
from typing import Final

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# E.164: at most 15 digits, after an optional "+" and the country code.
PHONE_MOST_DIGITS: Final = 15
PHONE_LEAST_DIGITS: Final = 7
EMAIL_MAX_LENGTH: Final = 200
# What people type between the digits of a phone number, and which is not sent.
_PHONE_PUNCTUATION = re.compile(r"[\s().-]")
_PHONE = re.compile(rf"\+?[0-9]{{{PHONE_LEAST_DIGITS},{PHONE_MOST_DIGITS}}}")


def phone_normalised(raw: str) -> str | None:
    """The phone number in ``raw`` as digits with an optional leading "+" (spaces, dots, dashes and
    brackets removed), or None when it is not a phone number of 7 to 15 digits."""
    number = _PHONE_PUNCTUATION.sub("", raw)
    return number if _PHONE.fullmatch(number) else None


def email_normalised(raw: str) -> str | None:
    """The email address in ``raw``, stripped, or None when it is not one or is longer than
    ``EMAIL_MAX_LENGTH`` characters."""
    email = raw.strip()
    if len(email) > EMAIL_MAX_LENGTH:
        return None
    try:
        validate_email(email)
    except ValidationError:
        return None
    return email
