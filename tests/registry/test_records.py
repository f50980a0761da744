"""The civil registry's record shapes: written once, and every other shape agrees with them."""

from __future__ import annotations

from datetime import date

import pytest
from django import forms as django_forms
from pydantic import ValidationError

from gov21.core.errors import DomainError
from gov21.core.forms import DEFAULT_MAX_LENGTH
from gov21.core.principal import Principal
from gov21.registry import forms, selectors, services
from gov21.registry.models import PersonVersion
from gov21.registry.records import DECLARATIONS, BirthFacts, PersonFacts
from tests.registry.factories import register_person

# The facts that every version stored since the first migration holds: the services and the bulk
# loader have always written all of them.
FIRST_FACTS = frozenset(
    {
        "uin", "given_names", "family_name", "former_names", "sex", "birth_date", "birth_parish",
        "birth_settlement", "mother_uin", "father_uin", "citizenship", "address_parish", "address_settlement",
        "address_line", "address_since", "marital_status", "status", "death_date",
    }
)  # fmt: skip

DECLARATION_FORMS = {
    "birth": forms.BirthForm,
    "death": forms.DeathForm,
    "marriage": forms.MarriageForm,
    "address_change": forms.AddressForm,
}


def test_every_fact_and_declared_field_has_a_label_and_every_label_a_field() -> None:
    fields = set(PersonFacts.fields()).union(*(set(record.model_fields) for record in DECLARATIONS.values()))
    assert set(forms.FIELD_LABELS) == fields


def test_a_fact_added_later_has_a_default_so_older_versions_still_read() -> None:
    assert set(PersonFacts.fields()) >= FIRST_FACTS
    for name, field in PersonFacts.model_fields.items():
        if name not in FIRST_FACTS:
            assert not field.is_required(), f"{name} is missing from versions stored before it existed"


@pytest.mark.django_db
def test_the_snapshot_kept_is_the_record_and_reads_back_unchanged(registrar: Principal) -> None:
    mother = register_person(registrar, born=date(1990, 1, 1))
    child = register_person(registrar, given="Ana", born=date(2024, 2, 3), mother=mother)
    stored = PersonVersion.objects.get(person=child).data
    # The same fields (PostgreSQL's jsonb keeps keys in its own order, not the writer's).
    assert sorted(stored) == sorted(PersonFacts.fields())
    assert stored["birth_date"] == "2024-02-03" and stored["mother_uin"] == mother.uin
    facts = PersonFacts.model_validate(stored)
    assert facts == services.person_snapshot(child)
    record = selectors.person_view(uin=child.uin, actor=registrar, purpose="test")
    assert PersonFacts.model_validate(record.model_dump(include=set(PersonFacts.fields()))) == facts
    history = selectors.person_history(uin=child.uin, actor=registrar, purpose="test")
    assert [v.data for v in history.versions] == [facts]


@pytest.mark.django_db
def test_a_stored_snapshot_that_lost_a_fact_is_refused_not_guessed(registrar: Principal) -> None:
    person = register_person(registrar)
    stored = dict(PersonVersion.objects.get(person=person).data)
    del stored["citizenship"]
    with pytest.raises(ValidationError):
        PersonFacts.model_validate(stored)


def test_marriage_and_a_change_of_name_are_replayed_the_same_way_everywhere() -> None:
    facts = PersonFacts(
        uin="2345678901", given_names="Ana", family_name="Joseph", former_names=[], sex="F",
        birth_date=date(1990, 1, 1), birth_parish="XA-01", birth_settlement="", mother_uin=None, father_uin=None,
        citizenship="XA", address_parish="XA-01", address_settlement="", address_line="", address_since=None,
        marital_status="single", status="alive", death_date=None,
    )  # fmt: skip
    married = services.facts_married(facts, new_family_name="Baptiste")
    assert (married.marital_status, married.family_name, married.former_names) == (
        "married",
        "Baptiste",
        ["Ana Joseph"],
    )
    assert services.facts_married(facts, new_family_name="").former_names == []
    widowed = services.facts_widowed(married)
    assert widowed.marital_status == "widowed" and widowed.family_name == "Baptiste"
    renamed = services.facts_renamed(widowed, family_name="Joseph", given_names="Anna")
    assert renamed.former_names == ["Ana Joseph", "Ana Baptiste"] and renamed.given_names == "Anna"


@pytest.mark.parametrize("kind", sorted(DECLARATION_FORMS))
def test_the_registrars_forms_ask_for_the_declared_fields_with_the_same_limits(kind: str) -> None:
    record = DECLARATIONS[kind]
    form = DECLARATION_FORMS[kind]()
    assert set(form.fields) <= set(record.model_fields)
    for name, field in form.fields.items():
        limits = [m.max_length for m in record.model_fields[name].metadata if hasattr(m, "max_length")]
        if isinstance(field, django_forms.ChoiceField):
            pass  # its choices bound it more tightly than any length
        elif limits:
            assert limits == [getattr(field, "max_length", None)], name
        else:
            # A field the record does not limit keeps the form base's generous guard against floods.
            assert getattr(field, "max_length", None) in (None, DEFAULT_MAX_LENGTH), name
        # A form may ask for more than the registry needs (the registrar names the informant), never less.
        assert field.required or not record.model_fields[name].is_required(), name


def test_the_api_takes_the_declarations_as_its_input_schemas() -> None:
    from gov21.api import api as public_api

    schemas = public_api.get_openapi_schema()["components"]["schemas"]
    for record in DECLARATIONS.values():
        assert schemas[record.__name__]["properties"].keys() == record.model_fields.keys()


ANA = {"given_names": "Ana", "family_name": "Joseph", "sex": "f"}


@pytest.mark.parametrize(
    ("data", "code", "field"),
    [
        ({"family_name": "Joseph"}, "required", "given_names"),
        ({"given_names": "  ", "family_name": "Joseph"}, "required", "given_names"),
        ({"given_names": "A" * 201, "family_name": "Joseph"}, "too_long", "given_names"),
        ({"given_names": "Ana", "family_name": "Joseph", "sex": "Q"}, "invalid_sex", "sex"),
        ({**ANA, "birth_date": "3/2/2024"}, "invalid_date", "birth_date"),
    ],
)  # fmt: skip
def test_a_declaration_typed_wrongly_names_the_field_and_the_problem(
    data: dict[str, str], code: str, field: str
) -> None:
    with pytest.raises(DomainError) as error:
        services.declaration_parse(kind="birth", data=data)
    assert (error.value.code, error.value.field) == (code, field)


def test_a_declaration_is_tidied_as_typed() -> None:
    birth = services.declaration_parse(
        kind="birth",
        data={"given_names": " Ana ", "family_name": "Joseph", "sex": "f", "birth_date": "2024-02-03",
              "birth_parish": "XA-01", "mother_uin": "", "father_uin": None, "unknown": "ignored"},
    )  # fmt: skip
    assert isinstance(birth, BirthFacts)
    assert (birth.given_names, birth.sex, birth.mother_uin, birth.father_uin) == ("Ana", "F", None, None)
    assert birth.event_date() == date(2024, 2, 3)
    with pytest.raises(DomainError) as error:
        services.declaration_parse(kind="adoption", data={})
    assert error.value.code == "unknown_event_kind"
