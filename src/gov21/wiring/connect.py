"""Which app reacts to which other app's hooks (``gov21.core.hooks``): the one place where two apps
that must not import each other are joined, read at start-up."""

from __future__ import annotations

from gov21.identity.contracts import account_disable_for_death
from gov21.registry.contracts import death_registered


def _digital_id_stop(uin: str) -> None:
    account_disable_for_death(uin=uin)


def hooks_connect() -> None:
    """Connect every reaction; safe to call again (a reaction is connected once)."""
    # A death registered in the civil registry disables the person's digital ID and revokes their
    # tokens in the same transaction, so no one signs in as the dead between the two.
    death_registered.connect(_digital_id_stop)
