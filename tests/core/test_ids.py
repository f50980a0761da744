from __future__ import annotations

import random
from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gov21.core import ids
from gov21.core.errors import DomainError
from gov21.core.ids import (
    uin_check,
    uin_generate,
    uin_generate_batch,
    uin_is_valid,
    uin_rejection_reason,
    verhoeff_check_digit,
    verhoeff_is_valid,
)

digit_strings = st.text(alphabet="0123456789", min_size=1, max_size=40)
bodies = st.text(alphabet="0123456789", min_size=9, max_size=9)

GOOD_UIN = "4859702568"


def passes_filters_by_the_letter(uin: str) -> bool:
    """The issuing filters written as plainly as the rules read, independently of ids.py."""
    d = [int(c) for c in uin]
    if d[0] in (0, 1):
        return False
    for a, b, c in zip(d, d[1:], d[2:], strict=False):
        if (b - a) % 10 == 1 and (c - b) % 10 == 1:
            return False
        if (a - b) % 10 == 1 and (b - c) % 10 == 1:
            return False
        if all(x in (2, 4, 6, 8) for x in (a, b, c)):
            return False
    for i in range(len(d)):
        if d[i] in d[i + 1 : i + 3]:
            return False
    for size in range(2, len(uin)):
        blocks = [uin[i : i + size] for i in range(len(uin) - size + 1)]
        if len(set(blocks)) < len(blocks):
            return False
    if uin[:5] in (uin[5:], uin[5:][::-1]):
        return False
    return "666" not in uin and "786" not in uin


# --- Verhoeff ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("digits", "check"), [("236", "3"), ("12345", "1"), ("142857", "0")])
def test_verhoeff_known_vectors(digits: str, check: str) -> None:
    assert verhoeff_check_digit(digits) == check
    assert verhoeff_is_valid(digits + check)


@given(digit_strings)
def test_verhoeff_appended_check_digit_is_valid(digits: str) -> None:
    assert verhoeff_is_valid(digits + verhoeff_check_digit(digits))


@given(digit_strings, st.data())
def test_verhoeff_detects_every_single_digit_substitution(digits: str, data: st.DataObject) -> None:
    number = digits + verhoeff_check_digit(digits)
    i = data.draw(st.integers(0, len(number) - 1), label="position")
    wrong = data.draw(st.sampled_from("0123456789").filter(lambda c: c != number[i]))
    assert not verhoeff_is_valid(number[:i] + wrong + number[i + 1 :])


@given(digit_strings, st.data())
def test_verhoeff_detects_every_adjacent_transposition(digits: str, data: st.DataObject) -> None:
    number = digits + verhoeff_check_digit(digits)
    swaps = [i for i in range(len(number) - 1) if number[i] != number[i + 1]]
    if not swaps:
        return
    i = data.draw(st.sampled_from(swaps), label="position")
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert not verhoeff_is_valid(swapped)


@pytest.mark.parametrize("bad", ["12a", " 12", "1.5", "\u0663\u0664", "\u00b2"])
def test_verhoeff_rejects_non_digits(bad: str) -> None:
    with pytest.raises(ValueError):
        verhoeff_check_digit(bad)
    assert not verhoeff_is_valid(bad)


def test_verhoeff_empty() -> None:
    assert verhoeff_check_digit("") == "0"
    assert not verhoeff_is_valid("")


# --- Rejection reasons -------------------------------------------------------------------------


def test_good_uin_passes() -> None:
    assert uin_rejection_reason(GOOD_UIN) is None
    assert uin_is_valid(GOOD_UIN)
    assert passes_filters_by_the_letter(GOOD_UIN)


@pytest.mark.parametrize(
    ("uin", "reason"),
    [
        ("485970256", "length"),
        ("48597025681", "length"),
        ("48597025 8", "not_digits"),
        ("485970256\u0668", "not_digits"),
        ("4859702569", "check_digit"),
        ("4859702658", "check_digit"),
        ("1831785120", "leading_digit"),
        ("4266675068", "forbidden_number"),  # 666
        ("9237860435", "forbidden_number"),  # 786
        ("9335993359", "mirror"),  # halves equal
        ("5099009905", "mirror"),  # second half reversed
        ("6123903216", "sequence"),  # 123
        ("4630710961", "sequence"),  # 109, wrapping
        ("4389024984", "sequence"),  # 890, wrapping
        ("9718901350", "sequence"),  # 901, wrapping
        ("6450981943", "sequence"),  # 098, wrapping
        ("8631157245", "repeated_digit"),  # 11
        ("9604340821", "repeated_digit"),  # 434
        ("9274892731", "repeated_block"),  # 27 twice
        ("9382468926", "even_run"),  # 246
        ("3190746851", "even_run"),  # 468
    ],
)
def test_each_rule_rejects_its_example(uin: str, reason: str) -> None:
    assert uin_rejection_reason(uin) == reason
    assert not uin_is_valid(uin)
    if reason not in ("length", "not_digits", "check_digit"):
        assert not passes_filters_by_the_letter(uin)


@given(bodies)
def test_filters_match_the_rules_as_written(body: str) -> None:
    uin = body + verhoeff_check_digit(body)
    assert (uin_rejection_reason(uin) is None) == passes_filters_by_the_letter(uin)


# --- Input checking ----------------------------------------------------------------------------


def test_uin_check_returns_the_stripped_uin() -> None:
    assert uin_check(f" \t{GOOD_UIN}\n") == GOOD_UIN


def test_uin_check_ignores_issuing_filters() -> None:
    # A number the filters would not issue today can still be someone's valid UIN.
    assert uin_check("9237860435") == "9237860435"


def _check_error(value: object, **kwargs: str) -> DomainError:
    with pytest.raises(DomainError) as caught:
        uin_check(value, **kwargs)
    error = caught.value
    assert error.status == 422
    assert error.code == "uin_invalid"
    return error


def test_uin_check_wrong_check_digit() -> None:
    error = _check_error("4859702569", field="applicant_uin")
    assert error.field == "applicant_uin"
    assert error.extra["reason"] == "check_digit"
    assert "check digit" in error.detail


def test_uin_check_default_field() -> None:
    assert _check_error("4859702569").field == "uin"


@pytest.mark.parametrize("value", ["", "   ", "485970256", "48597025681"])
def test_uin_check_bad_length(value: str) -> None:
    error = _check_error(value)
    assert error.extra["reason"] == "length"
    assert "10 digits" in error.detail


@pytest.mark.parametrize("value", ["4859-70256", "485970256x", "48597 0256"])
def test_uin_check_non_digits(value: str) -> None:
    error = _check_error(value)
    assert error.extra["reason"] == "not_digits"
    assert "digits 0 to 9" in error.detail


def test_uin_check_leading_digit() -> None:
    assert _check_error("1831785120").extra["reason"] == "leading_digit"


@pytest.mark.parametrize("value", [4859702568, None, b"4859702568"])
def test_uin_check_non_text(value: object) -> None:
    assert _check_error(value).extra["reason"] == "not_text"


def test_uin_check_messages_differ() -> None:
    assert _check_error("4859702569").detail != _check_error("485970256").detail


# --- Issuing -----------------------------------------------------------------------------------


@settings(deadline=None)
@given(st.integers(min_value=0, max_value=2**64))
def test_generated_uin_passes_every_rule(seed: int) -> None:
    uin = uin_generate(randbelow=random.Random(seed).randrange)
    assert len(uin) == 10
    assert verhoeff_is_valid(uin)
    assert uin_rejection_reason(uin) is None
    assert passes_filters_by_the_letter(uin)


def test_uin_generate_uses_secrets_by_default() -> None:
    assert uin_is_valid(uin_generate())


def test_batch_gives_distinct_valid_uins() -> None:
    batch = uin_generate_batch(5000)
    assert len(batch) == len(set(batch)) == 5000
    assert all(uin_is_valid(uin) for uin in batch)
    assert all(passes_filters_by_the_letter(uin) for uin in batch)


def test_batch_is_reproducible_with_a_seeded_source() -> None:
    first = uin_generate_batch(300, randbytes=random.Random(3).randbytes)
    again = uin_generate_batch(300, randbytes=random.Random(3).randbytes)
    assert first == again


def test_batch_bounds() -> None:
    assert uin_generate_batch(0) == []
    with pytest.raises(ValueError):
        uin_generate_batch(-1)
    with pytest.raises(ValueError):
        uin_generate_batch(ids.UIN_BATCH_MAX + 1)


def test_batch_joining_agrees_with_the_rules() -> None:
    # The batch generator's shortcut must accept exactly what the plain rules accept: accepting
    # more would issue bad numbers, accepting fewer would skew the draw.
    heads, tails = ids._pieces()
    rnd = random.Random(11)
    for _ in range(20_000):
        head, tail = rnd.choice(heads), rnd.choice(tails)
        body = head[0] + tail[0]
        uin = body + verhoeff_check_digit(body)
        expected = uin if uin_rejection_reason(uin) is None else None
        assert ids._join(head, tail) == expected


def test_batch_can_reach_every_issuable_uin() -> None:
    heads = {head[0]: head for head in ids._pieces()[0]}
    tails = {tail[0]: tail for tail in ids._pieces()[1]}
    rnd = random.Random(12)
    for _ in range(500):
        uin = uin_generate(randbelow=rnd.randrange)
        assert ids._join(heads[uin[:5]], tails[uin[5:9]]) == uin


# Among issuable UINs each leading digit 2-9 has a share between about 12.1% and 13.1%
# (the filters treat digits differently); a biased draw would leave that band by far more
# than 20,000 samples can wander (one standard deviation is about 47).
LEADING_DIGIT_BAND = range(2200, 2800)


def test_generate_has_no_leading_digit_bias() -> None:
    rnd = random.Random(2024)
    counts = Counter(uin_generate(randbelow=rnd.randrange)[0] for _ in range(20_000))
    assert sorted(counts) == list("23456789")
    assert all(n in LEADING_DIGIT_BAND for n in counts.values()), counts


def test_batch_has_no_leading_digit_bias() -> None:
    batch = uin_generate_batch(20_000, randbytes=random.Random(2025).randbytes)
    counts = Counter(uin[0] for uin in batch)
    assert sorted(counts) == list("23456789")
    assert all(n in LEADING_DIGIT_BAND for n in counts.values()), counts
