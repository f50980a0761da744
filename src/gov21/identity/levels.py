"""Levels of assurance (eIDAS low / substantial / high) and how a sign-in reaches them.

``amr`` values are those of RFC 8176: ``pwd`` a password, ``otp`` a one-time code from an
authenticator app or a recovery code, ``hwk`` a passkey (proof of possession of a key, with user
verification), ``mfa`` more than one factor.
"""

from __future__ import annotations

from typing import Final

from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

LOW: Final = "http://eidas.europa.eu/LoA/low"
SUBSTANTIAL: Final = "http://eidas.europa.eu/LoA/substantial"
HIGH: Final = "http://eidas.europa.eu/LoA/high"
ORDER: Final = (LOW, SUBSTANTIAL, HIGH)
# The eIDAS names, as a person reads them on the sign-in and account pages, in their language.
NAMES: Final = {
    LOW: pgettext_lazy("level of assurance", "low"),
    SUBSTANTIAL: pgettext_lazy("level of assurance", "substantial"),
    HIGH: pgettext_lazy("level of assurance", "high"),
}
# What a level means to the person signed in at it, in their language.
DESCRIPTIONS: Final = {
    LOW: _("basic: you signed in with your password only"),
    SUBSTANTIAL: _("substantial: you signed in with your password and a code from your app, or with a passkey"),
    HIGH: _("high: you signed in with a passkey, and your identity was checked at a service counter"),
}


def rank(acr: str) -> int:
    return ORDER.index(acr) if acr in ORDER else -1


def level_of(amr: list[str], *, proofed_in_person: bool) -> str:
    """What a sign-in with these methods proves about an account.

    A passkey after an in-person identity check is high; a passkey alone, or a password with a
    one-time code, is substantial; a password alone is low."""
    if "hwk" in amr:
        return HIGH if proofed_in_person else SUBSTANTIAL
    if "pwd" in amr and "otp" in amr:
        return SUBSTANTIAL
    return LOW


def strongest(acr_values: str | None) -> str | None:
    """The highest level among a request's space-separated ``acr_values`` that we know."""
    known = [value for value in (acr_values or "").split() if value in ORDER]
    return max(known, key=rank) if known else None


def amr_with(amr: list[str], method: str) -> list[str]:
    methods = sorted({*amr, method} - {"mfa"})
    return [*methods, "mfa"] if len(methods) > 1 or "hwk" in methods else methods
