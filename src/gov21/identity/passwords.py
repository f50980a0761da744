"""The password rule besides Django's own: a ceiling on length.

Argon2id hashes a password of any length, so the ceiling is not about truncation (there is none):
it stops a sign-in form from being used to make the server hash megabytes. 128 characters leaves
room for any passphrase a person or a password manager makes."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

MAX_PASSWORD_LENGTH = 128


class MaximumLengthValidator:
    def __init__(self, max_length: int = MAX_PASSWORD_LENGTH) -> None:
        self.max_length = max_length

    def validate(self, password: str, user: Any = None) -> None:
        if len(password) > self.max_length:
            raise ValidationError(
                ngettext(
                    "This password is too long. It must contain at most %(max_length)d character.",
                    "This password is too long. It must contain at most %(max_length)d characters.",
                    self.max_length,
                )
                % {"max_length": self.max_length},
                code="password_too_long",
            )

    def get_help_text(self) -> str:
        return _("Your password must contain at most %(max_length)d characters.") % {"max_length": self.max_length}
