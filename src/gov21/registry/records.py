"""The shapes of the civil registry's records, written once.

Every other shape is derived from these: the snapshot kept with each version, the columns the fast
read selects, the API's schemas, the bulk loader's rows and the exchange's OpenAPI documents. Other
apps see them through ``gov21.registry.contracts``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, ClassVar, Literal

from django.utils.translation import gettext_noop
from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator


class Record(BaseModel):
    """A value that crosses a boundary: immutable, and refusing fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonFacts(Record):
    """What the registry holds about one person at one moment: the snapshot kept with every version.

    Each field's title is what a person or an officer reads instead of its name: it travels in the
    exchange's OpenAPI document of the person service, where every reader finds it, and is marked
    for translation here."""

    uin: Annotated[str, Field(title=gettext_noop("National identification number (UIN)"))]
    given_names: Annotated[str, Field(title=gettext_noop("Given names"))]
    family_name: Annotated[str, Field(title=gettext_noop("Family name"))]
    former_names: Annotated[list[str], Field(title=gettext_noop("Former names"))]
    sex: Annotated[str, Field(title=gettext_noop("Sex"))]
    birth_date: Annotated[date, Field(title=gettext_noop("Date of birth"))]
    birth_parish: Annotated[str, Field(title=gettext_noop("Parish of birth"))]
    birth_settlement: Annotated[str, Field(title=gettext_noop("Town or village of birth"))]
    mother_uin: Annotated[str | None, Field(title=gettext_noop("Mother's UIN"))]
    father_uin: Annotated[str | None, Field(title=gettext_noop("Father's UIN"))]
    citizenship: Annotated[str, Field(title=gettext_noop("Citizenship"))]
    address_parish: Annotated[str, Field(title=gettext_noop("Parish of address"))]
    address_settlement: Annotated[str, Field(title=gettext_noop("Town or village of address"))]
    address_line: Annotated[str, Field(title=gettext_noop("Address"))]
    address_since: Annotated[date | None, Field(title=gettext_noop("At this address since"))]
    marital_status: Annotated[str, Field(title=gettext_noop("Marital status"))]
    status: Annotated[str, Field(title=gettext_noop("Living or deceased"))]
    death_date: Annotated[date | None, Field(title=gettext_noop("Date of death"))]

    # Fields held in the person table itself (the parents are links to other rows).
    LINKED: ClassVar[frozenset[str]] = frozenset({"mother_uin", "father_uin"})
    DATES: ClassVar[frozenset[str]] = frozenset({"birth_date", "address_since", "death_date"})

    @classmethod
    def fields(cls) -> tuple[str, ...]:
        return tuple(cls.model_fields)

    @classmethod
    def columns(cls) -> tuple[str, ...]:
        """The person table's own columns, in snapshot order."""
        return tuple(name for name in cls.model_fields if name not in cls.LINKED)


class PersonRecord(PersonFacts):
    """A person's record as the registry answers it: the facts, with the version they stand at."""

    version: Annotated[int, Field(title=gettext_noop("Version of the record"))]
    recorded_at: Annotated[datetime, Field(title=gettext_noop("Recorded on"))]


class PersonVersionRecord(Record):
    """One version of a person's record in its history."""

    version: int
    recorded_at: datetime
    effective_date: date
    changed: list[str]
    reason: str
    author: str
    event_number: str | None
    data: PersonFacts


class PersonHistory(Record):
    uin: str
    versions: list[PersonVersionRecord]


# ---------------------------------------------------------------------------------------------
# Declarations: what is declared to the registry for each kind of life event. The API takes these
# as its input schemas, the registrar's forms convert to them, and the services check and store them.


class Declaration(BaseModel):
    """The facts of one declaration, as typed: surrounding spaces dropped, unknown fields ignored
    (as an agency's system may send more than the registry keeps). UINs are checked, check digit
    included, with the registry's other rules (after the declarant's right to declare)."""

    model_config = ConfigDict(frozen=True, str_strip_whitespace=True)

    KIND: ClassVar[str]
    # The field that holds the date of the event.
    EVENT_DATE: ClassVar[str] = "date"

    @field_validator("*", mode="before")
    @classmethod
    def _blank_uin_is_none(cls, value: object, info: ValidationInfo) -> object:
        """An optional UIN left empty is not given."""
        name = info.field_name or ""
        optional_uin = name.endswith("uin") and not cls.model_fields[name].is_required()
        return None if optional_uin and isinstance(value, str) and not value.strip() else value

    def uins(self) -> dict[str, str]:
        """The UINs the declaration names, by field."""
        return {name: value for name, value in self if name.endswith("uin") and isinstance(value, str)}

    def event_date(self) -> date:
        value = getattr(self, self.EVENT_DATE)
        assert isinstance(value, date)
        return value


Text = Annotated[str, Field(max_length=200)]
Name = Annotated[str, Field(min_length=1, max_length=200)]
ParishCode = Annotated[str, Field(min_length=1, max_length=12)]
OptionalParishCode = Annotated[str, Field(max_length=12)]
Place = Annotated[str, Field(max_length=120)]
# A field named ``date`` hides the type of the same name inside its class.
Day = date


class BirthFacts(Declaration):
    """A birth as declared: the child, where and when it was born, its parents and where it lives."""

    KIND: ClassVar[str] = "birth"
    EVENT_DATE: ClassVar[str] = "birth_date"

    given_names: Annotated[Name, Field(title=gettext_noop("Child's given names"))]
    family_name: Annotated[Name, Field(title=gettext_noop("Child's family name"))]
    sex: Annotated[Literal["F", "M", "X"], Field(title=gettext_noop("Sex"))]
    birth_date: Annotated[date, Field(title=gettext_noop("Date of birth"))]
    birth_parish: Annotated[ParishCode, Field(title=gettext_noop("Parish of birth"))]
    birth_settlement: Annotated[Place, Field(title=gettext_noop("Town or village of birth"))] = ""
    # A foundling, or an adult registered late with unknown parents, has no mother on record.
    mother_uin: Annotated[str | None, Field(title=gettext_noop("Mother's UIN"))] = None
    father_uin: Annotated[str | None, Field(title=gettext_noop("Father's UIN"))] = None
    address_parish: Annotated[OptionalParishCode, Field(title=gettext_noop("Parish of address"))] = ""
    address_settlement: Annotated[Place, Field(title=gettext_noop("Town or village of address"))] = ""
    address_line: Annotated[Text, Field(title=gettext_noop("Address"))] = ""
    informant: Annotated[Text, Field(title=gettext_noop("Informant"))] = ""


class DeathFacts(Declaration):
    """A death as declared: who died, when and where, of what, and who says so."""

    KIND: ClassVar[str] = "death"
    EVENT_DATE: ClassVar[str] = "death_date"

    uin: Annotated[str, Field(title=gettext_noop("UIN of the person who died"))]
    death_date: Annotated[date, Field(title=gettext_noop("Date of death"))]
    place_parish: Annotated[OptionalParishCode, Field(title=gettext_noop("Parish of death"))] = ""
    cause: Annotated[str, Field(max_length=300, title=gettext_noop("Cause of death"))] = ""
    informant: Annotated[Text, Field(title=gettext_noop("Informant"))] = ""


class MarriageFacts(Declaration):
    """A marriage as declared: the two parties, the day and parish, and any family name taken."""

    KIND: ClassVar[str] = "marriage"

    partner_a_uin: Annotated[str, Field(title=gettext_noop("First party's UIN"))]
    partner_b_uin: Annotated[str, Field(title=gettext_noop("Second party's UIN"))]
    date: Annotated[Day, Field(title=gettext_noop("Date of marriage"))]
    parish: Annotated[ParishCode, Field(title=gettext_noop("Parish of marriage"))]
    partner_a_new_family_name: Annotated[Text, Field(title=gettext_noop("First party's new family name"))] = ""
    partner_b_new_family_name: Annotated[Text, Field(title=gettext_noop("Second party's new family name"))] = ""


class DivorceFacts(Declaration):
    """A divorce as declared: the two parties, the day, the court's reference, and names taken back."""

    KIND: ClassVar[str] = "divorce"

    partner_a_uin: Annotated[str, Field(title=gettext_noop("First party's UIN"))]
    partner_b_uin: Annotated[str, Field(title=gettext_noop("Second party's UIN"))]
    date: Annotated[Day, Field(title=gettext_noop("Date of the divorce"))]
    court_reference: Annotated[Text, Field(title=gettext_noop("Court reference"))] = ""
    partner_a_new_family_name: Annotated[
        Text, Field(title=gettext_noop("First party's family name after the divorce"))
    ] = ""
    partner_b_new_family_name: Annotated[
        Text, Field(title=gettext_noop("Second party's family name after the divorce"))
    ] = ""


class NameChangeFacts(Declaration):
    """A change of name as declared: whose, from when, the new names (a blank one is kept) and why."""

    KIND: ClassVar[str] = "name_change"

    uin: Annotated[str, Field(title=gettext_noop("UIN of the person changing their name"))]
    date: Annotated[Day, Field(title=gettext_noop("Date the new name takes effect"))]
    given_names: Annotated[Text, Field(title=gettext_noop("New given names"))] = ""
    family_name: Annotated[Text, Field(title=gettext_noop("New family name"))] = ""
    reason: Annotated[str, Field(min_length=3, max_length=200, title=gettext_noop("Reason for the change"))]


class AddressChangeFacts(Declaration):
    """A change of address as declared: whose, from when, and the new address."""

    KIND: ClassVar[str] = "address_change"

    uin: Annotated[str, Field(title=gettext_noop("UIN of the person who moved"))]
    date: Annotated[Day, Field(title=gettext_noop("Date of the move"))]
    parish: Annotated[ParishCode, Field(title=gettext_noop("Parish of the new address"))]
    settlement: Annotated[Place, Field(title=gettext_noop("Town or village"))] = ""
    line: Annotated[Name, Field(title=gettext_noop("Address"))]


DECLARATIONS: dict[str, type[Declaration]] = {
    record.KIND: record
    for record in (BirthFacts, DeathFacts, MarriageFacts, DivorceFacts, NameChangeFacts, AddressChangeFacts)
}


# The purposes for which the disaster management office may have the residents of a place named:
# each is about finding or helping people (welfare checks, evacuation, relief distribution).
ResidentPurpose = Literal["welfare_check", "evacuation", "relief_distribution"]


class NamedResident(Record):
    """A living person whose address is in a place asked about, with what a welfare check needs:
    who they are, where they live, with whom (``household``: a name shared by the people at the same
    address line, ``household_size`` of them), and whether they are a young child or an old person."""

    uin: Annotated[str, Field(title=gettext_noop("National identification number (UIN)"))]
    given_names: Annotated[str, Field(title=gettext_noop("Given names"))]
    family_name: Annotated[str, Field(title=gettext_noop("Family name"))]
    sex: Annotated[str, Field(title=gettext_noop("Sex"))]
    birth_date: Annotated[date, Field(title=gettext_noop("Date of birth"))]
    age: Annotated[int, Field(title=gettext_noop("Age"))]
    parish: Annotated[str, Field(title=gettext_noop("Parish of address"))]
    settlement: Annotated[str, Field(title=gettext_noop("Town or village of address"))]
    address_line: Annotated[str, Field(title=gettext_noop("Address"))]
    household: Annotated[str, Field(title=gettext_noop("Household"))]
    household_size: Annotated[int, Field(title=gettext_noop("People in the household"))]
    child_under_5: Annotated[bool, Field(title=gettext_noop("Child under 5"))]
    aged_75_plus: Annotated[bool, Field(title=gettext_noop("Aged 75 or more"))]


class NamedResidents(Record):
    """One page of the residents of some places, in the order of their addresses: ``total`` of them
    on ``pages`` pages."""

    residents: list[NamedResident]
    total: int
    page: int
    pages: int
