"""Reference data shipped with the app: the UN member states and the country groups."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

DATA = Path(__file__).parent / "data"


@dataclass(frozen=True)
class Group:
    code: str
    name: str
    description: str
    members: tuple[str, ...]


@cache
def countries() -> dict[str, str]:
    """ISO 3166-1 alpha-3 code -> name, for the 193 UN member states."""
    with (DATA / "countries.csv").open(encoding="utf-8", newline="") as f:
        return {row["country-code"]: row["country-name"] for row in csv.DictReader(f)}


@cache
def groups() -> dict[str, Group]:
    raw = yaml.safe_load((DATA / "groups.yaml").read_text(encoding="utf-8"))
    return {
        code: Group(code, str(g["name"]), str(g["description"]), tuple(str(m) for m in g["members"]))
        for code, g in raw.items()
    }


@dataclass(frozen=True)
class Role:
    code: str
    name: str
    needs: dict[str, int]


@dataclass(frozen=True)
class Framework:
    """The ICT competency framework of the skills survey."""

    version: str
    levels: dict[int, str]
    competencies: dict[str, str]
    roles: dict[str, Role]


@dataclass(frozen=True)
class Questionnaire:
    """The self-assessment: one question per pillar, answered with a maturity level."""

    version: str
    levels: dict[int, str]
    questions: dict[str, str]


@cache
def framework() -> Framework:
    raw = yaml.safe_load((DATA / "skills.yaml").read_text(encoding="utf-8"))
    competencies = {str(k): str(v) for k, v in raw["competencies"].items()}
    roles = {
        str(code): Role(str(code), str(r["name"]), {str(k): int(v) for k, v in r["needs"].items()})
        for code, r in raw["roles"].items()
    }
    for role in roles.values():
        if set(role.needs) != set(competencies):
            raise ValueError(f"The role {role.code} must state a level for each competency.")
    return Framework(str(raw["version"]), {int(k): str(v) for k, v in raw["levels"].items()}, competencies, roles)


@cache
def questionnaire() -> Questionnaire:
    raw = yaml.safe_load((DATA / "questionnaire.yaml").read_text(encoding="utf-8"))
    return Questionnaire(
        str(raw["version"]),
        {int(k): str(v) for k, v in raw["levels"].items()},
        {str(k): " ".join(str(v).split()) for k, v in raw["questions"].items()},
    )
