"""Invariants held for any input (hypothesis): owners' shares must add up to exactly one, and an
inheritance passes exactly the deceased's share to the heirs, leaving the others' untouched."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gov21.core.errors import DomainError
from gov21.land.models import Party
from gov21.land.parties import shares_check
from gov21.land.records import OwnerShare, PartyRef
from gov21.land.services import inherited_shares

fractions = st.fractions(min_value=Fraction(1, 1000), max_value=1, max_denominator=1000)


def _owner(index: int, share: Fraction) -> OwnerShare:
    return OwnerShare(
        party=PartyRef(kind="agency", identifier=f"A{index:03d}"), share=f"{share.numerator}/{share.denominator}"
    )


def _split(weights: list[int]) -> list[Fraction]:
    total = sum(weights)
    return [Fraction(w, total) for w in weights]


@given(st.lists(st.integers(min_value=1, max_value=50), min_size=1, max_size=12))
def test_shares_that_add_up_to_one_are_accepted(weights: list[int]) -> None:
    shares_check([_owner(i, s) for i, s in enumerate(_split(weights))], field="owners")


@given(st.lists(fractions, min_size=1, max_size=8))
def test_shares_that_do_not_add_up_are_refused(shares: list[Fraction]) -> None:
    owners = [_owner(i, s) for i, s in enumerate(shares)]
    if sum(shares) == 1:
        shares_check(owners, field="owners")
        return
    with pytest.raises(DomainError) as refused:
        shares_check(owners, field="owners")
    assert refused.value.code == "shares_do_not_add_up" and str(sum(shares)) in refused.value.detail


def _party(pk: int) -> Party:
    return Party(pk=pk, kind="person", identifier=f"{pk:010d}", name="")


@settings(max_examples=200)
@given(
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=6),
    st.integers(min_value=0, max_value=5),
    st.lists(st.integers(min_value=1, max_value=30), min_size=1, max_size=5),
    st.booleans(),
)
def test_an_inheritance_passes_exactly_the_deceaseds_share(
    holder_weights: list[int], deceased_index: int, heir_weights: list[int], heir_is_owner: bool
) -> None:
    holders = [(_party(i + 1), share) for i, share in enumerate(_split(holder_weights))]
    deceased_party, deceased_share = holders[deceased_index % len(holders)]
    deceased = PartyRef(kind="person", identifier=deceased_party.identifier)
    heirs = [(_party(100 + i), share) for i, share in enumerate(_split(heir_weights))]
    if heir_is_owner and len(holders) > 1:
        # An heir who already owns a share adds the inherited one to it.
        other = next(p for p, _s in holders if p is not deceased_party)
        heirs[0] = (other, heirs[0][1])
    after = {p.pk: s for p, s in inherited_shares(holders, deceased, heirs)}
    assert sum(after.values()) == 1
    assert deceased_party.pk not in after
    for party, share in holders:
        if party is deceased_party:
            continue
        inherited = sum((s for h, s in heirs if h.pk == party.pk), Fraction(0)) * deceased_share
        assert after[party.pk] == share + inherited
