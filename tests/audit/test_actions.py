"""Each kind of access reads as a sentence to the person it concerns, in their language; an
action nobody declared shows its code rather than nothing."""

from __future__ import annotations

from django.utils import translation

from gov21.audit.contracts import access_action_label
from gov21.registry import selectors  # noqa: F401 - declares the registry's reads
from gov21.registry.services import workflow  # noqa: F401 - declares the registrations


def test_the_registrys_actions_read_as_sentences_in_the_readers_language() -> None:
    assert access_action_label("person.read") == "Read your record in the civil registry"
    assert access_action_label("register.birth") == "Registered a birth that names you"
    with translation.override("nl"):
        assert access_action_label("person.read") == "Las uw gegevens in de burgerlijke stand"


def test_an_undeclared_action_shows_its_code() -> None:
    assert access_action_label("something.new") == "something.new"
