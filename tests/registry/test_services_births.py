"""A birth's declare → validate → register: the rows, access records and published event it leaves,
and what it costs the database (statement counts pinned, so that a change that adds a query per
registration shows up here)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gov21.audit.models import AccessRecord
from gov21.core.errors import Conflict, DomainError
from gov21.core.principal import Principal
from gov21.exchange.models import Event
from gov21.registry import services
from gov21.registry.models import DuplicateCandidate, EventState, LifeEvent, Person, PersonVersion, UinPoolEntry
from gov21.registry.records import BirthFacts
from gov21.registry.services import workflow
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _birth(mother: Person, father: Person | None = None, **extra: Any) -> BirthFacts:
    data: dict[str, Any] = {
        "given_names": "Aline Rose",
        "family_name": "Quenneville",
        "sex": "F",
        "birth_date": (timezone.localdate() - timedelta(days=5)).isoformat(),
        "birth_parish": "XA-02",
        "mother_uin": mother.uin,
        "father_uin": father.uin if father else None,
        **extra,
    }
    return BirthFacts.model_validate(data)


@pytest.fixture
def parents(registrar: Principal, exchange: None) -> tuple[Person, Person]:
    mother = register_person(registrar, given="Marie", sex="F", born=date(1990, 1, 2))
    father = register_person(registrar, given="Jean", family="Charles", sex="M", born=date(1988, 3, 4))
    return mother, father


def _statements(queries: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in queries.captured_queries]


def test_one_call_registers_with_every_row_record_and_event(
    registrar: Principal, parents: tuple[Person, Person]
) -> None:
    mother, father = parents
    event = services.register_birth(birth=_birth(mother, father), actor=registrar)
    event.refresh_from_db()
    assert event.state == EventState.REGISTERED and event.number is not None
    assert [(t.from_state, t.to_state) for t in event.transitions.order_by("pk")] == [
        ("", "declared"),
        ("declared", "validated"),
        ("validated", "registered"),
    ]
    child = Person.objects.get(pk=event.subject_id)
    assert (child.mother_id, child.father_id) == (mother.pk, father.pk)
    assert child.address_line == "1 Bay Street"  # the mother's address
    version = PersonVersion.objects.get(person=child)
    assert version.version == 1 and version.event_id == event.pk and version.data["mother_uin"] == mother.uin
    actions = list(AccessRecord.objects.filter(detail__event=event.pk).order_by("seq").values_list("action", flat=True))
    assert actions == ["declare.birth", "register.birth"]
    published = Event.objects.get(event_type__code="birth.registered", idempotency_key__startswith=event.number)
    assert published.payload == {
        "number": event.number,
        "date": event.event_date.isoformat(),
        "declaration": event.pk,
        "uin": child.uin,
    }


def test_a_possible_duplicate_is_kept_validated_for_a_registrar(
    registrar: Principal, parents: tuple[Person, Person]
) -> None:
    mother, _ = parents
    services.register_birth(birth=_birth(mother), actor=registrar)
    people = Person.objects.count()
    with pytest.raises(Conflict) as caught:
        services.register_birth(birth=_birth(mother, given_names="Aline Rosa"), actor=registrar)
    assert caught.value.code == "unresolved_duplicates"
    held = LifeEvent.objects.get(kind="birth", state=EventState.VALIDATED)
    assert held.has_open_duplicates and held.number is None
    assert DuplicateCandidate.objects.filter(event=held, resolution="").count() == 1
    assert list(held.transitions.order_by("pk").values_list("to_state", flat=True)) == ["declared", "validated"]
    assert list(AccessRecord.objects.filter(detail__event=held.pk).values_list("action", flat=True)) == [
        "declare.birth"
    ]
    assert Person.objects.count() == people
    # The registrar resolves it and registers it through the ordinary steps.
    candidate = DuplicateCandidate.objects.get(event=held)
    services.duplicate_resolve(candidate_id=candidate.pk, resolution="distinct", actor=registrar)
    assert services.event_register(event_id=held.pk, actor=registrar).state == EventState.REGISTERED


def test_one_call_is_one_transaction(
    registrar: Principal, parents: tuple[Person, Person], monkeypatch: pytest.MonkeyPatch
) -> None:
    mother, _ = parents
    before = (
        LifeEvent.objects.count(),
        Person.objects.count(),
        AccessRecord.objects.count(),
        UinPoolEntry.objects.count(),
    )

    def refuse(*args: object, **kwargs: object) -> None:
        raise DomainError("exchange_down", "The exchange refused the event.")

    monkeypatch.setattr(workflow, "_publish_registered", refuse)
    with pytest.raises(DomainError):
        services.register_birth(birth=_birth(mother), actor=registrar)
    after = (
        LifeEvent.objects.count(),
        Person.objects.count(),
        AccessRecord.objects.count(),
        UinPoolEntry.objects.count(),
    )
    assert after == before  # no declaration, no person, no access record, the UIN back in the pool


def test_a_refused_birth_leaves_nothing(registrar: Principal, parents: tuple[Person, Person]) -> None:
    _, father = parents
    events = LifeEvent.objects.count()
    with pytest.raises(DomainError) as caught:
        services.register_birth(birth=_birth(father), actor=registrar)  # a father given as the mother
    assert caught.value.code == "parent_sex_mismatch"
    assert LifeEvent.objects.count() == events


def test_one_call_needs_both_rights(clerk: Principal, parents: tuple[Person, Person]) -> None:
    mother, _ = parents
    events = LifeEvent.objects.count()
    with pytest.raises(DomainError):
        services.register_birth(birth=_birth(mother), actor=clerk)
    assert LifeEvent.objects.count() == events


# Statements per step, transaction control included, on SQLite (PostgreSQL runs fewer: no BEGIN is
# sent as a statement). The access-log append and the exchange's publishing are counted as they are.
# A registration's first publish in a transaction also queues the delivery worker's run (one INSERT);
# inside a test's transaction an earlier registration has queued it already, hence the one of margin.
REGISTER_BIRTH_MAX = 24
DECLARE_MAX = 11
VALIDATE_MAX = 6
REGISTER_MAX = 22


def test_a_registration_in_one_call_costs_at_most_its_statements(
    registrar: Principal, parents: tuple[Person, Person]
) -> None:
    mother, father = parents
    services.register_birth(birth=_birth(father=father, mother=mother), actor=registrar)  # the year's counter exists
    other = register_person(registrar, given="Odile", sex="F", born=date(1992, 5, 6))
    with CaptureQueriesContext(connection) as queries:
        services.register_birth(birth=_birth(other, father, family_name="Delacroix"), actor=registrar)
    statements = _statements(queries)
    assert len(statements) <= REGISTER_BIRTH_MAX, "\n".join(statements)
    # Both parents are read once, and the person, the event and the version are each written once.
    assert sum('FROM "registry_person" WHERE "registry_person"."uin" IN' in s for s in statements) == 1
    for table in ("registry_person", "registry_lifeevent", "registry_personversion", "registry_eventtransition"):
        assert sum(s.startswith(f'INSERT INTO "{table}"') for s in statements) == 1, table
    assert not any(s.startswith('UPDATE "registry_lifeevent"') for s in statements)


def test_each_step_costs_at_most_its_statements(registrar: Principal, parents: tuple[Person, Person]) -> None:
    mother, father = parents
    services.register_birth(birth=_birth(father=father, mother=mother), actor=registrar)
    other = register_person(registrar, given="Odile", sex="F", born=date(1992, 5, 6))
    with CaptureQueriesContext(connection) as declared:
        event = services.event_declare(declaration=_birth(other, father, family_name="Delacroix"), actor=registrar)
    with CaptureQueriesContext(connection) as validated:
        services.event_validate(event_id=event.pk, actor=registrar)
    with CaptureQueriesContext(connection) as registered:
        services.event_register(event_id=event.pk, actor=registrar)
    assert len(declared.captured_queries) <= DECLARE_MAX, "\n".join(_statements(declared))
    assert len(validated.captured_queries) <= VALIDATE_MAX, "\n".join(_statements(validated))
    assert len(registered.captured_queries) <= REGISTER_MAX, "\n".join(_statements(registered))
    # Registering reads the parents once and takes its number in one statement.
    statements = _statements(registered)
    assert sum('FROM "registry_person" WHERE "registry_person"."uin" IN' in s for s in statements) == 1
    assert sum("registry_registrationcounter" in s for s in statements) == 1


def test_a_year_without_registrations_starts_its_numbers_at_one(registrar: Principal) -> None:
    with transaction.atomic():
        numbers = [workflow._next_number("death", 1999) for _ in range(3)]
    assert numbers == ["D-1999-000001", "D-1999-000002", "D-1999-000003"]
