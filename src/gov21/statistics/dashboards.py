"""The decision makers' dashboards (decision 0072), computed from the published (protected) releases
only, so that every figure on them may be shown to anyone: registration completeness (births and
deaths registered against those expected from the population and the crude rates of the last census)
and timeliness, by parish. A suppressed count makes its ratios unknown ("–"), never guessed."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from gov21.core.errors import NotFound
from gov21.core.geography import parish_name
from gov21.statistics import selectors
from gov21.statistics.disclosure import TOTAL
from gov21.statistics.selectors import ReleaseView
from gov21.statistics.tables import TIMELINESS, population_table


@dataclass(frozen=True, slots=True)
class CompletenessRow:
    parish: str  # code, or "total"
    name: str
    population: int | None
    births_expected: int | None
    births: int | None
    deaths_expected: int | None
    deaths: int | None
    births_on_time: int | None  # registered within the registry's target (45 days by default)
    births_within_year: int | None
    births_timed: int | None  # births of the timeliness table (its own protection)

    @staticmethod
    def _share(part: int | None, whole: int | None) -> int | None:
        return round(100 * part / whole) if part is not None and whole else None

    @property
    def birth_completeness(self) -> int | None:
        return self._share(self.births, self.births_expected)

    @property
    def death_completeness(self) -> int | None:
        return self._share(self.deaths, self.deaths_expected)

    @property
    def on_time_share(self) -> int | None:
        return self._share(self.births_on_time, self.births_timed)

    @property
    def within_year_share(self) -> int | None:
        return self._share(self.births_within_year, self.births_timed)


@dataclass(frozen=True, slots=True)
class Completeness:
    year: int
    share_of_year: float  # of the year elapsed (1 for a past year): what the expected numbers cover
    rows: list[CompletenessRow]
    births_per_1000: int
    deaths_per_1000: int
    sources: list[str]  # the datasets the figures come from


def _optional(dataset: str) -> ReleaseView | None:
    try:
        return selectors.release_latest(dataset)
    except NotFound:
        return None


def _sum(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def completeness(*, year: int, today: date) -> Completeness | None:
    """Completeness and timeliness of ``year``'s registrations by parish, or None before the
    population has been published."""
    population = _optional(population_table(year).dataset)
    if population is None:
        return None
    births = _optional(f"births-by-parish-month-sex-{year}")
    deaths = _optional(f"deaths-by-parish-month-sex-{year}")
    timed = _optional(f"births-by-parish-timeliness-{year}")
    days = 366 if calendar.isleap(year) else 365
    elapsed = 1.0 if year < today.year else min(1.0, max(0, (today - date(year, 1, 1)).days + 1) / days)
    per_births = int(settings.GOV21_STATISTICS_BIRTHS_PER_1000)
    per_deaths = int(settings.GOV21_STATISTICS_DEATHS_PER_1000)
    rows = []
    for parish in (*population.spec.dimensions[0].categories, TOTAL):
        persons = population.value(parish, TOTAL, TOTAL)
        on_time = timed.value(parish, TIMELINESS[0]) if timed else None
        late = timed.value(parish, TIMELINESS[1]) if timed else None
        rows.append(
            CompletenessRow(
                parish=parish,
                name=parish_name(parish) if parish != TOTAL else "",
                population=persons,
                births_expected=round(persons * per_births / 1000 * elapsed) if persons is not None else None,
                births=births.value(parish, TOTAL, TOTAL) if births else None,
                deaths_expected=round(persons * per_deaths / 1000 * elapsed) if persons is not None else None,
                deaths=deaths.value(parish, TOTAL, TOTAL) if deaths else None,
                births_on_time=on_time,
                births_within_year=_sum(on_time, late),
                births_timed=timed.value(parish, TOTAL) if timed else None,
            )
        )
    sources = [v.spec.dataset for v in (population, births, deaths, timed) if v is not None]
    return Completeness(
        year=year,
        share_of_year=elapsed,
        rows=rows,
        births_per_1000=per_births,
        deaths_per_1000=per_deaths,
        sources=sources,
    )
