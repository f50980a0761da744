from __future__ import annotations

import re
from collections import defaultdict
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.core.ids import uin_is_valid
from gov21.core.principal import Principal
from gov21.demo.bulk import load_nation
from gov21.demo.synthetic import simulate
from gov21.registry import selectors, services
from gov21.registry.models import LifeEvent, Person, PersonVersion, RegistrationCounter, Union
from gov21.registry.records import DECLARATIONS, BirthFacts

pytestmark = pytest.mark.django_db


def test_seeded_nation_is_consistent_and_usable(registrar: Principal) -> None:
    call_command("seed", people=1500, seed=7, verbosity=0)
    assert Person.objects.count() == 1500
    persons = list(Person.objects.all())
    assert all(uin_is_valid(p.uin) for p in persons)
    # Registration numbers are gap-free per kind and year, and counters continue from them.
    numbers: dict[tuple[str, int], list[int]] = defaultdict(list)
    for number in LifeEvent.objects.values_list("number", flat=True):
        match = re.fullmatch(r"([A-Z])-(\d{4})-(\d{6})", number or "")
        assert match, number
        numbers[(match.group(1), int(match.group(2)))].append(int(match.group(3)))
    for seq in numbers.values():
        assert sorted(seq) == list(range(1, len(seq) + 1))
    assert RegistrationCounter.objects.count() == len(numbers)
    # Every person's current row equals their latest version, and version 1 is the birth.
    for person in persons[:200]:
        versions = list(PersonVersion.objects.filter(person=person).order_by("version"))
        assert versions[0].reason == "Birth registered"
        assert versions[-1].version == person.version
        assert versions[-1].data == services.person_snapshot(person).model_dump(mode="json")
    # Nobody is married twice at once; the deceased have a death date after birth.
    open_unions = Union.objects.filter(dissolved_on__isnull=True)
    partners = [u.partner_a_id for u in open_unions] + [u.partner_b_id for u in open_unions]
    assert len(partners) == len(set(partners))
    for person in Person.objects.filter(status="deceased"):
        assert person.death_date is not None and person.death_date >= person.birth_date
    # Search finds seeded people by name.
    someone = persons[100]
    page = selectors.person_search(
        name=f"{someone.given_names.split()[0]} {someone.family_name}", actor=registrar, purpose="test"
    )
    assert someone.uin in {item.uin for item in page.items}
    # What the record said in the past: before birth registration nothing; at it, version 1.
    first = PersonVersion.objects.filter(person=someone).order_by("version").first()
    assert first is not None
    then = selectors.person_view(
        uin=someone.uin, actor=registrar, purpose="test", as_of=timezone.localdate(first.recorded_at)
    )
    assert then.version >= 1
    # The registry keeps working through the normal services after a seed.
    mother = Person.objects.filter(
        sex="F", status="alive", birth_date__year__gte=1975, birth_date__year__lte=2000
    ).first()
    assert mother is not None
    event = services.register_birth(
        birth=BirthFacts.model_validate(
            {
                "given_names": "Seedling",
                "family_name": "Newborn",
                "sex": "F",
                "birth_date": timezone.localdate().isoformat(),
                "birth_parish": "XA-01",
                "mother_uin": mother.uin,
            }
        ),
        actor=registrar,
    )
    year = timezone.localdate().year
    assert event.number == f"B-{year}-{len(numbers.get(('B', year), [])) + 1:06d}"


def test_seeding_refuses_a_nation_that_breaks_a_rule() -> None:
    nation = simulate(people=300, seed=3, today=date(2026, 1, 1))
    child = next(p for p in nation.persons if p.mother is not None)
    mother = nation.persons[child.mother]  # type: ignore[index]
    mother.birth_date = date(child.birth_date.year - 5, 1, 1)
    mother.birth_registered_on = mother.birth_date
    with pytest.raises(DomainError) as info:
        load_nation(nation)
    assert info.value.code == "parent_too_young"
    assert not Person.objects.exists()


def test_seeding_refuses_a_registry_that_holds_people(registrar: Principal) -> None:
    from tests.registry.factories import register_person

    register_person(registrar)
    with pytest.raises(DomainError) as info:
        load_nation(simulate(people=50, seed=1, today=date(2026, 1, 1)))
    assert info.value.code == "registry_not_empty"


def test_an_interrupted_seed_is_reported_not_built_upon(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(settings, "DATA_DIR", tmp_path)
    (tmp_path / "seeding-incomplete").write_text("")
    with pytest.raises(DomainError) as info:
        load_nation(simulate(people=50, seed=1, today=date(2026, 1, 1)))
    assert info.value.code == "seed_interrupted"
    assert "Delete the data directory" in info.value.detail


def test_seeded_declarations_have_the_shape_the_registry_declares() -> None:
    call_command("seed", people=400, seed=3, verbosity=0)
    kinds = set()
    for kind, data in LifeEvent.objects.values_list("kind", "data"):
        record = DECLARATIONS[kind]
        # The same fields (PostgreSQL's jsonb keeps keys in its own order, not the writer's).
        assert sorted(data) == sorted(record.model_fields), kind
        assert record.model_validate(data).model_dump(mode="json") == data
        kinds.add(kind)
    assert {"birth", "death", "marriage", "address_change"} <= kinds
