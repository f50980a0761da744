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
    # pillar -> the question in English, the reference text
    questions: dict[str, str]
    # pillar -> language -> the question in that language (en, es, fr, nl)
    translations: dict[str, dict[str, str]]

    def question(self, pillar: str, language: str) -> str:
        """The pillar's question in ``language`` (a code such as ``es`` or ``es-419``), else English."""
        texts = self.translations.get(pillar, {})
        return texts.get(language) or texts.get(language.split("-")[0]) or self.questions.get(pillar, "")


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
    translations: dict[str, dict[str, str]] = {}
    for pillar, texts in raw["questions"].items():
        given = texts if isinstance(texts, dict) else {"en": texts}
        translations[str(pillar)] = {str(lang): " ".join(str(t).split()) for lang, t in given.items()}
        if not translations[str(pillar)].get("en"):
            raise ValueError(f"The question of {pillar} has no English text.")
    return Questionnaire(
        str(raw["version"]),
        {int(k): str(v) for k, v in raw["levels"].items()},
        {pillar: texts["en"] for pillar, texts in translations.items()},
        translations,
    )
