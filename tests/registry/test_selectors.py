"""Name search (``selectors.person_search``): the same answers on SQLite's FTS5 and PostgreSQL's
stored ``tsvector``; this file runs on both engines."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.registry import selectors, services
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db

NAMES = [
    ("Marie Claire", "Jean-Baptiste"),
    ("Kevin", "Joseph"),
    ("Kevina", "Josephs"),
    ("Josephine", "Kevin"),
    ("Zoë", "Saint-Hilaire"),
    ("Patrick", "O'Brien"),
    ("Jean", "Baptiste"),
]


@pytest.fixture
def people(registrar: Principal) -> dict[str, str]:
    born = date(1970, 1, 1)
    found = {}
    for i, (given, family) in enumerate(NAMES):
        person = register_person(registrar, given=given, family=family, born=born + timedelta(days=400 * i))
        found[f"{given} {family}"] = person.uin
    return found


def _names(query: str, actor: Principal, people: dict[str, str], limit: int = 20) -> set[str]:
    page = selectors.person_search(name=query, actor=actor, purpose="test", limit=limit)
    return {f"{item.given_names} {item.family_name}" for item in page.items}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("kevin joseph", {"Kevin Joseph", "Kevina Josephs", "Josephine Kevin"}),
        ("kev jos", {"Kevin Joseph", "Kevina Josephs", "Josephine Kevin"}),
        ("Joseph", {"Kevin Joseph", "Kevina Josephs", "Josephine Kevin"}),
        ("josephs", {"Kevina Josephs"}),
        ("evin", set()),  # words are matched from their beginning
        # The parts of a hyphenated name are words of their own, however the name is typed.
        ("baptiste", {"Marie Claire Jean-Baptiste", "Jean Baptiste"}),
        ("Jean-Baptiste", {"Marie Claire Jean-Baptiste", "Jean Baptiste"}),
        ("marie jean-baptiste", {"Marie Claire Jean-Baptiste"}),
        ("hilaire zoe", {"Zoë Saint-Hilaire"}),
        ("o'brien", {"Patrick O'Brien"}),
        ("brien", {"Patrick O'Brien"}),
        ("Nobody Here", set()),
    ],
)
def test_search_finds_names_by_the_beginnings_of_their_words(
    query: str, expected: set[str], reader: Principal, people: dict[str, str]
) -> None:
    assert _names(query, reader, people) == expected


def test_search_pages_in_the_order_persons_were_registered(reader: Principal, people: dict[str, str]) -> None:
    first = selectors.person_search(name="kev", actor=reader, purpose="test", limit=2)
    assert [i.uin for i in first.items] == [people["Kevin Joseph"], people["Kevina Josephs"]]
    assert first.next_cursor is not None
    second = selectors.person_search(name="kev", actor=reader, purpose="test", cursor=first.next_cursor, limit=2)
    assert [i.uin for i in second.items] == [people["Josephine Kevin"]] and second.next_cursor is None


def test_search_follows_a_change_of_name(registrar: Principal, reader: Principal, people: dict[str, str]) -> None:
    services.person_correct(
        uin=people["Kevin Joseph"], changes={"family_name": "Quenneville"}, reason="clerical error", actor=registrar
    )
    assert _names("quenn", reader, people) == {"Kevin Quenneville"}
    assert "Kevin Joseph" not in _names("joseph", reader, people)


def test_a_query_without_letters_is_refused(reader: Principal) -> None:
    with pytest.raises(DomainError) as caught:
        selectors.person_search(name=" - ' ", actor=reader, purpose="test")
    assert caught.value.code == "invalid_query"
