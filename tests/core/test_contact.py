"""The one rule for phone numbers and email addresses."""

from __future__ import annotations

import pytest

from gov21.core.contact import email_normalised, phone_normalised


@pytest.mark.parametrize(
    ("raw", "number"),
    [
        ("+1 (767) 555-0100", "+17675550100"),
        ("767.555.0100", "7675550100"),
        ("+123456789012345", "+123456789012345"),
    ],
)
def test_a_phone_number_is_kept_as_its_digits(raw: str, number: str) -> None:
    assert phone_normalised(raw) == number


@pytest.mark.parametrize(
    "raw", ["+1234567890123456", "+17675550100123456", "12345", "call me", "+1 767 555 0100 x2", ""]
)
def test_more_than_fifteen_digits_or_anything_but_digits_is_not_a_phone_number(raw: str) -> None:
    assert phone_normalised(raw) is None


def test_an_email_address_is_stripped_and_checked() -> None:
    assert email_normalised("  ana@example.org ") == "ana@example.org"
    assert email_normalised("ana@") is None
    assert email_normalised("ana example.org") is None
    assert email_normalised("a" * 190 + "@example.org") is None
