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
