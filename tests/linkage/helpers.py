"""Building linkage test data: registry persons through the registry's services, agencies' files."""

from __future__ import annotations

import csv
from datetime import date, timedelta
from pathlib import Path

from django.utils import timezone

from gov21.core.principal import Principal
from gov21.registry import services as registry
from gov21.registry.models import LifeEvent, Person
from tests.registry.factories import register_person

REGISTRAR = Principal(name="civil.registrar", kind="staff", roles=frozenset({"registrar"}))
OFFICER = Principal(name="linkage.officer", kind="staff", roles=frozenset({"registrar"}))
OTHER_OFFICER = Principal(name="linkage.officer2", kind="staff", roles=frozenset({"registrar"}))
COLUMNS = ["record_id", "given_names", "surname", "date_of_birth", "sex", "address", "settlement", "recorded_on"]


def _registered(kind: str, data: dict[str, str]) -> LifeEvent:
    event = registry.event_declare(declaration=registry.declaration_parse(kind=kind, data=data), actor=REGISTRAR)
    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    return registry.event_register(event_id=event.pk, actor=REGISTRAR)


def person(given: str, family: str, born: date, *, sex: str = "F", line: str = "1 Bay Street") -> Person:
    return register_person(REGISTRAR, given=given, family=family, born=born, sex=sex, address_line=line)


def married(bride: Person, groom: Person, *, days_ago: int = 30) -> None:
    """``bride`` takes ``groom``'s family name."""
    on = (timezone.localdate() - timedelta(days=days_ago)).isoformat()
    _registered(
        "marriage",
        {
            "partner_a_uin": bride.uin,
            "partner_b_uin": groom.uin,
            "date": on,
            "parish": "XA-01",
            "partner_a_new_family_name": groom.family_name,
        },
    )


def population() -> dict[str, Person]:
    """A small registry: a woman who married (her records before carry her maiden name), and others
    with names and dates close to each other's."""
    people = {
        "ruth": person("Ruth", "Charles", date(1990, 3, 4)),
        "jon": person("Jonathan", "Baptiste", date(1988, 6, 6), sex="M", line="7 Hill Road"),
        "mary": person("Mary", "Joseph", date(1975, 11, 20), line="3 Church Street"),
        "marie": person("Marie", "Josephs", date(1979, 2, 14), line="22 Harbour Road"),
        "william": person("William", "Henry", date(1960, 7, 1), sex="M", line="5 Bay Street"),
        "kim": person("Kimberly", "Francis", date(2001, 9, 30), line="9 Cane Lane"),
    }
    married(people["ruth"], people["jon"])
    for p in people.values():
        p.refresh_from_db()
    return people


def write_csv(path: Path, rows: list[list[str]], header: list[str] | None = None, encoding: str = "utf-8") -> Path:
    with path.open("w", newline="", encoding=encoding) as out:
        writer = csv.writer(out)
        writer.writerow(header or COLUMNS)
        writer.writerows(rows)
    return path


def clinic_rows() -> list[list[str]]:
    """A clinic's patients, written as clinics write them."""
    return [
        # Ruth before her marriage, in 2009, at her old address: only the registry's history knows it.
        ["C-1", "Ruth", "CHARLES", "04/03/1990", "F", "1 Bay St", "Port Royal", "2009-05-05"],
        ["C-2", "Jon", "Baptiste", "1988-06-06", "M", "7 Hill Rd", "Port Royal", ""],
        ["C-3", "Mary", "Joseph", "20/11/1975", "female", "3 Church St.", "Port Royal", ""],
        ["C-4", "Bill", "Henry", "1 July 1960", "M", "5 Bay Street", "Port Royal", ""],
        ["C-5", "Nobody", "Known", "1950-01-01", "M", "", "", ""],
    ]
