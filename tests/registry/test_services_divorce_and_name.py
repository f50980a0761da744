"""registry/services.py for the two kinds of event declared only through the API: a divorce ends a
marriage (and may give a party back a name), a change of name renames a person, both keeping the
past answerable."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.ids import verhoeff_check_digit
from gov21.core.principal import Principal
from gov21.registry import selectors, services
from gov21.registry.models import EventState, LifeEvent, Person, Union
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def _registered(kind: str, data: dict[str, str], actor: Principal) -> LifeEvent:
    event = services.event_declare(declaration=services.declaration_parse(kind=kind, data=data), actor=actor)
    services.event_validate(event_id=event.pk, actor=actor)
    return services.event_register(event_id=event.pk, actor=actor)


def _couple(actor: Principal, *, married_days_ago: int = 400) -> tuple[Person, Person]:
    a = register_person(actor, given="Ruth", family="Charles", born=date(1990, 1, 1))
    b = register_person(actor, given="Jon", family="Baptiste", sex="M", born=date(1988, 6, 6))
    marriage = {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        "date": _days_ago(married_days_ago),
        "parish": "XA-01",
        "partner_a_new_family_name": "Baptiste",
    }
    _registered("marriage", marriage, actor)
    return a, b


def test_a_divorce_dissolves_the_union_and_records_a_version_for_each_party(registrar: Principal) -> None:
    a, b = _couple(registrar)
    on = _days_ago(2)
    data = {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        "date": on,
        "court_reference": "HC-2026-7",
        "partner_a_new_family_name": "Charles",
    }
    event = _registered("divorce", data, registrar)
    assert event.state == EventState.REGISTERED and event.number
    assert (event.subject, event.partner) == (a, b)
    union = Union.objects.get(partner_a=a, partner_b=b)
    assert (union.dissolved_on, union.dissolution, union.divorce_event) == (date.fromisoformat(on), "divorce", event)
    a.refresh_from_db()
    b.refresh_from_db()
    assert (a.marital_status, a.family_name) == ("divorced", "Charles")
    assert a.former_names == ["Ruth Charles", "Ruth Baptiste"]
    assert (b.marital_status, b.family_name, b.former_names) == ("divorced", "Baptiste", [])
    for person in (a, b):
        latest = person.versions.order_by("-version").first()
        assert latest is not None and latest.reason == "Divorce registered" and latest.event == event
    # Divorced, each may marry again.
    again = register_person(registrar, sex="M", born=date(1987, 3, 3))
    remarriage = {"partner_a_uin": a.uin, "partner_b_uin": again.uin, "date": _days_ago(1), "parish": "XA-02"}
    assert (
        services.event_declare(
            declaration=services.declaration_parse(kind="marriage", data=remarriage), actor=registrar
        ).state
        == EventState.DECLARED
    )


def test_the_history_shows_the_marriage_then_the_divorce_from_its_date(registrar: Principal) -> None:
    a, b = _couple(registrar, married_days_ago=40)
    divorced_on = _days_ago(5)
    event = _registered("divorce", {"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": divorced_on}, registrar)
    history = selectors.person_history(uin=a.uin, actor=registrar, purpose="test")
    married, divorced = history.versions[-2], history.versions[-1]
    assert (married.data.marital_status, married.data.family_name) == ("married", "Baptiste")
    assert (divorced.data.marital_status, divorced.event_number) == ("divorced", event.number)
    assert divorced.effective_date == date.fromisoformat(divorced_on)
    assert divorced.changed == ["marital_status"]


def test_a_divorce_needs_a_marriage_between_the_two_and_a_date_after_it(registrar: Principal) -> None:
    a, b = _couple(registrar, married_days_ago=30)
    stranger = register_person(registrar, sex="M", born=date(1980, 1, 1))
    with pytest.raises(Conflict) as not_married:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="divorce", data={"partner_a_uin": a.uin, "partner_b_uin": stranger.uin, "date": _days_ago(1)}
            ),
            actor=registrar,
        )
    assert (not_married.value.code, not_married.value.field) == ("not_married", "partner_b_uin")
    with pytest.raises(DomainError) as early:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="divorce", data={"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": _days_ago(60)}
            ),
            actor=registrar,
        )
    assert (early.value.code, early.value.field) == ("divorce_before_marriage", "date")
    future = (timezone.localdate() + timedelta(days=1)).isoformat()
    with pytest.raises(DomainError) as ahead:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="divorce", data={"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": future}
            ),
            actor=registrar,
        )
    assert ahead.value.field == "date"
    assert not LifeEvent.objects.filter(kind="divorce").exists()


def test_a_second_divorce_of_the_same_marriage_fails_at_registration(registrar: Principal) -> None:
    a, b = _couple(registrar)
    data = {"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": _days_ago(3)}
    first = services.event_declare(declaration=services.declaration_parse(kind="divorce", data=data), actor=registrar)
    second = services.event_declare(declaration=services.declaration_parse(kind="divorce", data=data), actor=registrar)
    for event in (first, second):
        services.event_validate(event_id=event.pk, actor=registrar)
    services.event_register(event_id=first.pk, actor=registrar)
    with pytest.raises(Conflict) as info:
        services.event_register(event_id=second.pk, actor=registrar)
    assert info.value.code == "not_married"
    second.refresh_from_db()
    assert second.state == EventState.VALIDATED and not second.number


def test_a_change_of_name_renames_and_keeps_the_former_name(registrar: Principal) -> None:
    person = register_person(registrar, given="Marie", family="Charles", born=date(1984, 8, 8))
    on = _days_ago(3)
    data = {"uin": person.uin, "date": on, "given_names": "Maria", "family_name": "Rose", "reason": "Deed poll"}
    event = _registered("name_change", data, registrar)
    assert event.subject == person and event.number
    person.refresh_from_db()
    assert (person.given_names, person.family_name, person.former_names) == ("Maria", "Rose", ["Marie Charles"])
    version = person.versions.order_by("-version").first()
    assert version is not None
    assert (version.reason, version.effective_date, version.event) == (
        "Change of name: Deed poll",
        date.fromisoformat(on),
        event,
    )
    assert set(version.changed) >= {"given_names", "family_name", "former_names"}
    found = selectors.person_search(name="maria rose", actor=registrar, purpose="test", cursor=None, limit=5)
    assert [row.uin for row in found.items] == [person.uin]


def test_a_change_of_only_the_family_name_keeps_the_given_names(registrar: Principal) -> None:
    person = register_person(registrar, given="Marie", family="Charles", born=date(1984, 8, 8))
    _registered(
        "name_change", {"uin": person.uin, "date": _days_ago(1), "family_name": "Rose", "reason": "Choice"}, registrar
    )
    person.refresh_from_db()
    assert (person.given_names, person.family_name) == ("Marie", "Rose")


def test_a_change_of_name_is_refused_for_no_name_an_unknown_or_a_dead_person(registrar: Principal) -> None:
    person = register_person(registrar, born=date(1940, 8, 8))
    with pytest.raises(DomainError) as nothing:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="name_change", data={"uin": person.uin, "date": _days_ago(1), "reason": "Choice"}
            ),
            actor=registrar,
        )
    assert (nothing.value.code, nothing.value.field) == ("required", "family_name")
    with pytest.raises(DomainError) as no_reason:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="name_change", data={"uin": person.uin, "date": _days_ago(1), "family_name": "Rose"}
            ),
            actor=registrar,
        )
    assert no_reason.value.field == "reason"
    wrong_digit = person.uin[:-1] + str((int(person.uin[-1]) + 1) % 10)
    with pytest.raises(DomainError) as bad_uin:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="name_change",
                data={"uin": wrong_digit, "date": _days_ago(1), "family_name": "Rose", "reason": "Choice"},
            ),
            actor=registrar,
        )
    assert bad_uin.value.field == "uin"
    _registered("death", {"uin": person.uin, "death_date": _days_ago(2)}, registrar)
    with pytest.raises(Conflict) as dead:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="name_change",
                data={"uin": person.uin, "date": _days_ago(1), "family_name": "Rose", "reason": "Choice"},
            ),
            actor=registrar,
        )
    assert dead.value.code == "already_deceased"


def test_a_change_of_name_for_a_person_not_registered_is_not_found(registrar: Principal) -> None:
    person = register_person(registrar, born=date(1970, 1, 1))
    body = str((int(person.uin[:-1]) + 1) % 10 ** (len(person.uin) - 1)).zfill(len(person.uin) - 1)
    unknown = body + verhoeff_check_digit(body)
    assert not Person.objects.filter(uin=unknown).exists()
    with pytest.raises(NotFound) as info:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="name_change",
                data={"uin": unknown, "date": _days_ago(1), "family_name": "Rose", "reason": "Choice"},
            ),
            actor=registrar,
        )
    assert (info.value.code, info.value.field) == ("person_not_found", "uin")


def test_a_reader_can_declare_neither(reader: Principal, registrar: Principal) -> None:
    a, b = _couple(registrar)
    with pytest.raises(DomainError) as divorce:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="divorce", data={"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": _days_ago(1)}
            ),
            actor=reader,
        )
    with pytest.raises(DomainError) as rename:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="name_change", data={"uin": a.uin, "date": _days_ago(1), "family_name": "R", "reason": "Deed poll"}
            ),
            actor=reader,
        )
    assert divorce.value.status == rename.value.status == 403
