"""Pure rules of civil registration, shared by the registration services and the bulk loader of the
synthetic nation, so both enforce exactly the same checks."""

from __future__ import annotations

import unicodedata
from datetime import date

import jellyfish

from gov21.core.errors import Conflict, DomainError

REGISTRATION_PREFIX: dict[str, str] = {
    "birth": "B",
    "death": "D",
    "marriage": "M",
    "divorce": "V",
    "name_change": "N",
    "address_change": "A",
}


def normalise_name(value: str) -> str:
    """Lower-case, unaccented, single-spaced: 'Zoë  Saint-Hilaire' -> 'zoe saint-hilaire'."""
    decomposed = unicodedata.normalize("NFKD", value)
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return " ".join(stripped.lower().split())


def family_key(family_name: str) -> str:
    """Phonetic key of a family name, so 'Baptiste' and 'Batiste' meet in duplicate checks."""
    norm = normalise_name(family_name).replace("-", " ").replace("'", "")
    return jellyfish.metaphone(norm)[:16] or norm[:16]


def years_between(earlier: date, later: date) -> int:
    """Completed years from ``earlier`` to ``later`` (an age)."""
    years = later.year - earlier.year
    if (later.month, later.day) < (earlier.month, earlier.day):
        years -= 1
    return years


def timeliness(*, event_date: date, registered_on: date, target_days: int, late_days: int) -> str:
    days = (registered_on - event_date).days
    if days <= target_days:
        return "on_time"
    if days <= late_days:
        return "late"
    return "delayed"


# No civil record of a living register reaches further back; the checks around a date (duplicate
# windows, parents' ages) also count days back from it, which a date in year 1 would overflow.
EARLIEST_DATE = date(1800, 1, 1)


def check_not_before_records(*, value: date, field: str) -> None:
    if value < EARLIEST_DATE:
        raise DomainError(
            "date_too_early", f"This date is before {EARLIEST_DATE.isoformat()}, the start of the records.", field=field
        )


def check_not_future(*, value: date, today: date, field: str) -> None:
    if value > today:
        raise DomainError("date_in_future", "This date is in the future.", field=field)


def check_parent(
    *, role: str, parent_birth: date, parent_sex: str, parent_death: date | None, child_birth: date, min_age: int
) -> None:
    """A parent must be old enough, of the declared role, and (for a mother) alive at the birth."""
    field = f"{role}_uin"
    expected_sex = "F" if role == "mother" else "M"
    if parent_sex not in (expected_sex, "X"):
        raise DomainError(
            "parent_sex_mismatch", f"The person given as {role} is recorded with another sex.", field=field
        )
    if years_between(parent_birth, child_birth) < min_age:
        raise DomainError(
            "parent_too_young",
            f"The {role} must be at least {min_age} years older than the child.",
            field=field,
        )
    if parent_death is not None:
        # A father may die before the birth; a mother cannot.
        limit = parent_death if role == "mother" else date.fromordinal(parent_death.toordinal() + 300)
        if child_birth > limit:
            raise Conflict("parent_deceased", f"The {role} was recorded as deceased before this birth.", field=field)


def check_death(*, birth_date: date, status: str, death_date: date) -> None:
    if status == "deceased":
        raise Conflict("already_deceased", "This person is already recorded as deceased.", field="uin")
    if death_date < birth_date:
        raise DomainError("death_before_birth", "The date of death is before the date of birth.", field="death_date")


def check_marriage_party(
    *, field: str, birth_date: date, status: str, death_date: date | None, married: bool, on: date, min_age: int
) -> None:
    if status == "deceased" and (death_date is None or death_date <= on):
        raise Conflict("party_deceased", "This person is recorded as deceased.", field=field)
    if on < birth_date or years_between(birth_date, on) < min_age:
        raise DomainError(
            "party_under_age", f"Both parties must be at least {min_age} years old on the day of marriage.", field=field
        )
    if married:
        raise Conflict("party_already_married", "This person is already married.", field=field)


def registration_number(*, kind: str, year: int, sequence: int) -> str:
    return f"{REGISTRATION_PREFIX[kind]}-{year}-{sequence:06d}"
