"""The shapes of the civil registry's records, written once.

Every other shape is derived from these: the snapshot kept with each version, the columns the fast
read selects, the API's schemas, the bulk loader's rows and the exchange's OpenAPI documents. Other
apps see them through ``gov21.registry.contracts``.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar

from pydantic import BaseModel, ConfigDict


class Record(BaseModel):
    """A value that crosses a boundary: immutable, and refusing fields it does not know."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class PersonFacts(Record):
    """What the registry holds about one person at one moment: the snapshot kept with every version."""

    uin: str
    given_names: str
    family_name: str
    former_names: list[str]
    sex: str
    birth_date: date
    birth_parish: str
    birth_settlement: str
    mother_uin: str | None
    father_uin: str | None
    citizenship: str
    address_parish: str
    address_settlement: str
    address_line: str
    address_since: date | None
    marital_status: str
    status: str
    death_date: date | None

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

    version: int
    recorded_at: datetime


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
