"""The population's numbers read from the counts the database keeps by month of birth (decision
0081) are those of a count of every person: on any day, after every kind of write, and after the
demo nation's bulk load, which makes the counts afresh."""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta

import pytest
from django.core.management import call_command
from django.db.models import Q
from django.utils import timezone

from gov21.core.principal import Principal
from gov21.registry import selectors, services
from gov21.registry.models import Person, PopulationMonth
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _by_person(as_of: date) -> dict[tuple[str, str, str], int]:
    """Every person alive on ``as_of`` counted one by one, in Python, from their dates."""
    counts: Counter[tuple[str, str, str]] = Counter()
    for person in Person.objects.filter(birth_date__lte=as_of).exclude(address_parish=""):
        if person.death_date is not None and person.death_date <= as_of:
            continue
        years = as_of.year - person.birth_date.year
        years -= (as_of.month, as_of.day) < (person.birth_date.month, person.birth_date.day)
        counts[(person.address_parish, person.sex, selectors.age_group(years))] += 1
    return dict(counts)


def _numbers(as_of: date) -> dict[tuple[str, str, str], int]:
    return {(c.parish, c.sex, c.age_group): c.persons for c in selectors.population_numbers(as_of=as_of)}


def _kept() -> dict[tuple[str, str, str], int]:
    rows = PopulationMonth.objects.filter(persons__gt=0).values_list("parish", "sex", "birth_month", "persons")
    return {(parish, sex, month): n for parish, sex, month, n in rows}


def _recounted() -> dict[tuple[str, str, str], int]:
    living = Person.objects.filter(death_date__isnull=True).exclude(address_parish="")
    return dict(Counter((p.address_parish, p.sex, f"{p.birth_date:%Y-%m}") for p in living))


# Family names unlike each other, so that no birth waits as a possible duplicate of another.
FAMILIES = (
    *("Abara", "Bodkin", "Cuthbert", "Dumont", "Eckhardt", "Fairweather", "Gonsalves", "Hutchins", "Ifill"),
    *("Jagessar", "Kowalski", "Lestrade", "Mahabir", "Nurse", "Oyelaran", "Persaud", "Quashie", "Ramdass"),
    *("Sealy", "Tavernier", "Urquhart", "Vanterpool", "Wickham", "Xuereb", "Yearwood"),
)


def _days(today: date) -> list[date]:
    """Today, days in the past, and days on and beside the age boundaries, 29 February included."""
    return [
        today,
        today - timedelta(days=1),
        today + timedelta(days=400),
        date(2024, 2, 29),
        date(2023, 2, 28),
        date(2010, 3, 1),
        date(1990, 6, 15),
        date(1955, 1, 1),
    ]


def _death(person: Person, on: date, actor: Principal) -> None:
    event = services.event_declare(
        declaration=services.declaration_parse(kind="death", data={"uin": person.uin, "death_date": on.isoformat()}),
        actor=actor,
    )
    services.event_validate(event_id=event.pk, actor=actor)
    services.event_register(event_id=event.pk, actor=actor)


def _move(person: Person, on: date, parish: str, actor: Principal) -> None:
    facts = {"uin": person.uin, "date": on.isoformat(), "parish": parish, "settlement": "", "line": "2 Hill Road"}
    event = services.event_declare(
        declaration=services.declaration_parse(kind="address_change", data=facts), actor=actor
    )
    services.event_validate(event_id=event.pk, actor=actor)
    services.event_register(event_id=event.pk, actor=actor)


def test_every_write_keeps_the_counts_and_the_numbers_equal_a_count_of_every_person(registrar: Principal) -> None:
    today = timezone.localdate()
    people = []
    # Born on, the day before and the day after age boundaries of today and of a leap day.
    for base in (today, date(2024, 2, 29)):
        for years in (5, 10, 85, 90):
            boundary = selectors._years_before(base, years)
            for shift in (-1, 0, 1):
                born = boundary + timedelta(days=shift)
                family = FAMILIES[len(people)]
                people.append(register_person(registrar, family=family, born=born, sex="MF"[shift % 2]))
    people.append(register_person(registrar, family=FAMILIES[-1], born=date(2004, 2, 29), sex="X"))
    assert _kept() == _recounted()
    _death(people[6], date(2020, 5, 1), registrar)
    _death(people[4], today - timedelta(days=2), registrar)
    _move(people[1], today - timedelta(days=10), "XA-05", registrar)
    services.person_correct(
        uin=people[2].uin, changes={"birth_date": "1931-07-31", "sex": "M"}, reason="Misread", actor=registrar
    )
    assert _kept() == _recounted()
    for day in _days(today):
        assert _numbers(day) == _by_person(day), day
    # Persons alive on a day before their death are counted on it, and those born after it are not.
    assert sum(_numbers(date(2019, 1, 1)).values()) == sum(_by_person(date(2019, 1, 1)).values())
    assert Person.objects.filter(Q(death_date__isnull=False)).count() == 2


def test_the_bulk_load_counts_afresh_and_the_numbers_stay_true() -> None:
    call_command("seed", people=1500, seed=11, verbosity=0)
    assert _kept() == _recounted()
    assert sum(_kept().values()) == Person.objects.filter(death_date__isnull=True).exclude(address_parish="").count()
    for day in _days(timezone.localdate()):
        assert _numbers(day) == _by_person(day), day


def test_a_day_before_any_age_can_be_counted() -> None:
    # The earliest day a date can hold: no boundary year before year 1, and nobody born yet.
    assert selectors.population_numbers(as_of=date(1, 1, 1)) == []
