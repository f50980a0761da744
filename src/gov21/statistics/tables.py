"""The statistical tables the statistics office keeps and publishes: each a cross-classification of
counts read from the civil registry's numbers service, with its dimensions, categories and how
it is protected. Declared once here; the release, the published rows, the pages and the charts
derive from it."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from django.utils.translation import gettext_lazy as _
from django_stubs_ext import StrOrPromise
from numpy.typing import NDArray

from gov21.core.geography import parishes

SEXES: Final = ("F", "M", "X")
AGE_GROUPS: Final = (*tuple(f"{low:02d}-{low + 4:02d}" for low in range(0, 85, 5)), "85+")
TIMELINESS: Final = ("on_time", "late", "delayed")
POPULATION_DATASET: Final = "population-by-parish-sex-age"


def months(year: int) -> tuple[str, ...]:
    return tuple(f"{year:04d}-{m:02d}" for m in range(1, 13))


@dataclass(frozen=True, slots=True)
class Dimension:
    name: str  # the column's name in the published table
    title: StrOrPromise
    categories: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class TableSpec:
    """One statistical table of one period (a year, or the day the population is counted on)."""

    dataset: str
    title: str  # English, as the catalogue stores it
    measure: str  # the counted column: "births", "persons", ...
    source: str  # "population" or the registry's event kind
    dimensions: tuple[Dimension, ...]
    monotone: bool  # counts of registered events only grow; the population does not
    year: int
    # The source cell's fields, in the order of ``dimensions``.
    fields: tuple[str, ...]

    @property
    def shape(self) -> tuple[int, ...]:
        return tuple(len(d.categories) for d in self.dimensions)

    def counts(self, cells: Sequence[dict[str, object]], count_field: str) -> NDArray[np.int64]:
        """The interior counts from the registry's cells; a cell outside the categories (a person
        without a parish of address) is left out of this table, and said so in its description."""
        array = np.zeros(self.shape, dtype=np.int64)
        index = [{c: i for i, c in enumerate(d.categories)} for d in self.dimensions]
        for cell in cells:
            at = [index[k].get(str(cell[f])) for k, f in enumerate(self.fields)]
            if any(i is None for i in at):
                continue
            array[tuple(at)] += int(str(cell[count_field]))
        return array


def _parish() -> Dimension:
    return Dimension("parish", _("Parish"), tuple(code for code, _name in parishes()))


def _sex() -> Dimension:
    return Dimension("sex", _("Sex"), SEXES)


def _age() -> Dimension:
    return Dimension("age_group", _("Age group"), AGE_GROUPS)


def _month(year: int) -> Dimension:
    return Dimension("month", _("Month"), months(year))


def _events(kind: str, plural: str, year: int) -> list[TableSpec]:
    return [
        TableSpec(
            dataset=f"{plural}-by-parish-month-sex-{year}",
            title=f"{plural.capitalize()} registered in {year} by parish, month and sex",
            measure=plural,
            source=kind,
            dimensions=(_parish(), _month(year), _sex()),
            monotone=True,
            year=year,
            fields=("parish", "month", "sex"),
        )
    ]


def year_tables(year: int) -> list[TableSpec]:
    """Every table of the registered events of ``year``."""
    tables = _events("birth", "births", year)
    tables += [
        TableSpec(
            dataset=f"births-by-parish-timeliness-{year}",
            title=f"Births of {year} by parish and how soon they were registered",
            measure="births",
            source="birth",
            dimensions=(_parish(), Dimension("timeliness", _("Registered"), TIMELINESS)),
            monotone=True,
            year=year,
            fields=("parish", "timeliness"),
        )
    ]
    tables += _events("death", "deaths", year)
    tables += [
        TableSpec(
            dataset=f"deaths-by-parish-age-sex-{year}",
            title=f"Deaths registered in {year} by parish, age group and sex",
            measure="deaths",
            source="death",
            dimensions=(_parish(), _age(), _sex()),
            monotone=True,
            year=year,
            fields=("parish", "age_group", "sex"),
        )
    ]
    for kind, plural in (("marriage", "marriages"), ("divorce", "divorces"), ("address_change", "moves")):
        tables.append(
            TableSpec(
                dataset=f"{plural}-by-parish-month-{year}",
                title=f"{plural.capitalize()} registered in {year} by parish and month",
                measure=plural,
                source=kind,
                dimensions=(_parish(), _month(year)),
                monotone=True,
                year=year,
                fields=("parish", "month"),
            )
        )
    return tables


def population_table(year: int) -> TableSpec:
    return TableSpec(
        dataset=POPULATION_DATASET,
        title="Population by parish, sex and five-year age group",
        measure="persons",
        source="population",
        dimensions=(_parish(), _sex(), _age()),
        monotone=False,
        year=year,
        fields=("parish", "sex", "age_group"),
    )


def all_tables(year: int) -> list[TableSpec]:
    return [population_table(year), *year_tables(year)]


def spec_find(dataset: str, *, years: Callable[[], Sequence[int]]) -> TableSpec | None:
    for year in years():
        for spec in all_tables(year):
            if spec.dataset == dataset:
                return spec
    return None
