"""Standardising agencies' names, dates, places and addresses."""

from __future__ import annotations

from datetime import date

from gov21.linkage.standardise import address_std, date_parse, given_std, phone_std, sex_std, surname_std


def test_names_lose_case_accents_titles_and_suffixes_and_nicknames_become_the_name() -> None:
    assert given_std("Mrs. JOSÉ-María") == "joseph mary"
    assert given_std("Dr Bill") == given_std("william") == given_std("Guillaume") == "william"
    assert surname_std("St. Hilaire Jr.") == "st hilaire"
    assert surname_std("O'Neil") == "oneil"


def test_dates_in_several_writings_and_a_possible_day_month_swap_is_flagged() -> None:
    assert date_parse("2009-03-04").value == date(2009, 3, 4)
    assert date_parse("20090304").value == date(2009, 3, 4)
    four_march = date_parse("04/03/2009")
    assert four_march.value == date(2009, 3, 4) and four_march.ambiguous
    assert date_parse("25/12/1980") == date_parse("25.12.1980")
    assert not date_parse("25/12/1980").ambiguous
    # Month first when day first is no date.
    assert date_parse("12/25/1980").value == date(1980, 12, 25)
    assert date_parse("4 March 2009").value == date(2009, 3, 4)
    assert date_parse("4 mars 2009").value == date(2009, 3, 4)
    assert date_parse("March 4 2009").value == date(2009, 3, 4)
    assert date_parse("31/31/2009").invalid and date_parse("soon").invalid
    assert date_parse("").value is None and not date_parse("").invalid


def test_addresses_sex_and_phones() -> None:
    assert address_std("12, Bay St.") == "12 bay street"
    assert address_std("12 Bay Stret", streets=frozenset({"12 bay street", "4 hill road"})) == "12 bay street"
    assert address_std("Calle Mayor 3") == "street mayor 3"
    assert (sex_std("Female"), sex_std("h"), sex_std("?")) == ("F", "M", "")
    assert phone_std("+1 (758) 450-1234") == "4501234" and phone_std("12") == ""
