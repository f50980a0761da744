from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from gov21.core.errors import Conflict, DomainError
from gov21.core.ids import uin_is_valid
from gov21.core.principal import Principal
from gov21.registry import selectors, services
from gov21.registry.models import EventState, LifeEvent, Person, PersonVersion
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def test_birth_goes_from_declaration_to_certificate(registrar: Principal) -> None:
    mother = register_person(registrar, given="Marie", sex="F", born=date(1990, 1, 2))
    father = register_person(registrar, given="Jean", family="Charles", sex="M", born=date(1988, 3, 4))
    born = timezone.localdate() - timedelta(days=10)
    event = services.event_declare(
        declaration=services.declaration_parse(
            kind="birth",
            data={
                "given_names": "Aline",
                "family_name": "Charles",
                "sex": "F",
                "birth_date": born.isoformat(),
                "birth_parish": "XA-02",
                "mother_uin": mother.uin,
                "father_uin": father.uin,
            },
        ),
        actor=registrar,
    )
    assert event.state == EventState.DECLARED
    assert event.timeliness == "on_time"
    services.event_validate(event_id=event.pk, actor=registrar)
    event = services.event_register(event_id=event.pk, actor=registrar)
    assert event.number is not None and event.number.startswith(f"B-{timezone.localdate().year}-")
    child = Person.objects.get(pk=event.subject_id)
    assert uin_is_valid(child.uin)
    assert child.mother_id == mother.pk and child.father_id == father.pk
    assert child.address_line == "1 Bay Street"  # the mother's address
    certificate = services.certificate_issue(event_id=event.pk, actor=registrar)
    result = selectors.certificate_verify(payload="GOV21:" + certificate.credential)
    assert result.status == "valid"
    assert result.claims["uin"] == child.uin


def test_registration_numbers_are_consecutive(registrar: Principal) -> None:
    people = [register_person(registrar) for _ in range(3)]
    numbers = sorted(
        int(LifeEvent.objects.get(subject=p, kind="birth").number.rsplit("-", 1)[1])  # type: ignore[union-attr]
        for p in people
    )
    assert numbers == list(range(numbers[0], numbers[0] + 3))


def test_death_closes_the_person_and_cannot_happen_twice(registrar: Principal) -> None:
    person = register_person(registrar, born=date(1950, 1, 1))
    event = services.event_declare(
        declaration=services.declaration_parse(kind="death", data={"uin": person.uin, "death_date": "2024-02-02"}),
        actor=registrar,
    )
    services.event_validate(event_id=event.pk, actor=registrar)
    services.event_register(event_id=event.pk, actor=registrar)
    person.refresh_from_db()
    assert person.status == "deceased"
    with pytest.raises(Conflict) as info:
        services.event_declare(
            declaration=services.declaration_parse(kind="death", data={"uin": person.uin, "death_date": "2024-02-03"}),
            actor=registrar,
        )
    assert info.value.code == "already_deceased"


def test_death_before_birth_is_refused(registrar: Principal) -> None:
    person = register_person(registrar, born=date(1990, 1, 1))
    with pytest.raises(DomainError) as info:
        services.event_declare(
            declaration=services.declaration_parse(kind="death", data={"uin": person.uin, "death_date": "1989-12-31"}),
            actor=registrar,
        )
    assert info.value.code == "death_before_birth"
    assert info.value.field == "death_date"


def test_parent_must_be_old_enough(registrar: Principal) -> None:
    mother = register_person(registrar, born=date(2015, 1, 1))
    with pytest.raises(DomainError) as info:
        register_person(registrar, born=date(2024, 1, 1), mother=mother)
    assert info.value.code == "parent_too_young"
    assert info.value.field == "mother_uin"


def test_marriage_rules(registrar: Principal) -> None:
    a = register_person(registrar, sex="F", born=date(1990, 1, 1))
    b = register_person(registrar, sex="M", born=date(1991, 1, 1))
    c = register_person(registrar, sex="M", born=date(2010, 1, 1))
    with pytest.raises(DomainError) as info:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="marriage",
                data={"partner_a_uin": a.uin, "partner_b_uin": c.uin, "date": "2024-01-01", "parish": "XA-01"},
            ),
            actor=registrar,
        )
    assert info.value.code == "party_under_age"
    event = services.event_declare(
        declaration=services.declaration_parse(
            kind="marriage",
            data={
                "partner_a_uin": a.uin,
                "partner_b_uin": b.uin,
                "date": "2024-01-01",
                "parish": "XA-01",
                "partner_a_new_family_name": "Augustine",
            },
        ),
        actor=registrar,
    )
    services.event_validate(event_id=event.pk, actor=registrar)
    services.event_register(event_id=event.pk, actor=registrar)
    a.refresh_from_db()
    assert a.marital_status == "married"
    assert a.family_name == "Augustine"
    assert a.former_names and a.former_names[-1].endswith("Baptiste")
    d = register_person(registrar, sex="M", born=date(1985, 1, 1))
    with pytest.raises(Conflict) as conflict:
        services.event_declare(
            declaration=services.declaration_parse(
                kind="marriage",
                data={"partner_a_uin": a.uin, "partner_b_uin": d.uin, "date": "2024-06-01", "parish": "XA-01"},
            ),
            actor=registrar,
        )
    assert conflict.value.code == "party_already_married"


def test_correction_adds_a_version_and_as_of_answers_the_past(registrar: Principal) -> None:
    person = register_person(registrar, given="Jonh")
    services.person_correct(uin=person.uin, changes={"given_names": "John"}, reason="Typing error", actor=registrar)
    versions = list(PersonVersion.objects.filter(person=person).order_by("version"))
    assert [v.data["given_names"] for v in versions] == ["Jonh", "John"]
    assert versions[1].changed == ["given_names"] and versions[1].author == registrar.name
    PersonVersion.objects.filter(pk=versions[1].pk).update(recorded_at=timezone.now() + timedelta(days=2))
    today = selectors.person_view(uin=person.uin, actor=registrar, purpose="test", as_of=timezone.localdate())
    assert today.given_names == "Jonh"
    current = selectors.person_view(uin=person.uin, actor=registrar, purpose="test")
    assert current.given_names == "John"


def test_possible_duplicate_blocks_registration_until_resolved(registrar: Principal) -> None:
    mother = register_person(registrar, born=date(1990, 1, 1))
    register_person(registrar, given="Kayla", born=date(2024, 3, 1), mother=mother, family="Joseph")
    event = services.event_declare(
        declaration=services.declaration_parse(
            kind="birth",
            data={
                "given_names": "Kaila",
                "family_name": "Joseph",
                "sex": "F",
                "birth_date": "2024-03-02",
                "birth_parish": "XA-01",
                "mother_uin": mother.uin,
            },
        ),
        actor=registrar,
    )
    assert event.has_open_duplicates
    services.event_validate(event_id=event.pk, actor=registrar)
    with pytest.raises(Conflict) as info:
        services.event_register(event_id=event.pk, actor=registrar)
    assert info.value.code == "unresolved_duplicates"
    for candidate in event.duplicates.all():
        services.duplicate_resolve(candidate_id=candidate.pk, resolution="distinct", actor=registrar)
    event = services.event_register(event_id=event.pk, actor=registrar)
    assert event.state == EventState.REGISTERED


def test_reader_cannot_register(reader: Principal) -> None:
    with pytest.raises(DomainError) as info:
        death = services.declaration_parse(kind="death", data={"uin": "2345678901", "death_date": "2024-02-02"})
        services.event_declare(declaration=death, actor=reader)
    assert info.value.status == 403
