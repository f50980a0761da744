"""Population projection and service demand forecasts (decision 0072): a cohort-component model by
parish, sex and five-year age group stepped a year at a time, with rates estimated from the civil
registry's own counts and prediction intervals by simulation over the rates' uncertainty and the
randomness of births, deaths and moves. numpy only; nothing here reads the database.

Arrays of people are indexed ``[parish, sex, age group]`` (sexes and age groups as in ``tables``);
a year's counts come as the same shape for deaths and as ``[parish, sex]`` for births."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray

from gov21.statistics.tables import AGE_GROUPS

Counts = NDArray[np.int64]
Floats = NDArray[np.float64]

WIDTH: Final = 5  # years in an age group; one in five of a group's survivors moves up each year
FERTILE: Final = slice(3, 10)  # women aged 15-49: age groups 15-19 .. 45-49
# Shrinkage of a small area's (or sex's) rate toward the pooled one: as if this many person-years
# had been seen at the pooled rate (a gamma prior), so that a parish with 30 women is not projected
# from its 2 births alone.
PRIOR_YEARS: Final = 1000.0
SIMULATIONS: Final = 1000
QUANTILES: Final = {"lo95": 0.025, "lo80": 0.10, "median": 0.5, "hi80": 0.90, "hi95": 0.975}

# Age groups each service's demand is counted over (indices into AGE_GROUPS) and how it is derived.
DEMAND: Final[dict[str, tuple[slice, float]]] = {
    # Children of primary school age (5-9); a fifth of them start school each year.
    "school_entrants": (slice(1, 2), 1 / WIDTH),
    # Children 0-14, for whom a child benefit is paid.
    "child_benefit": (slice(0, 3), 1.0),
    # Persons 65 and over, for whom the old-age pension is paid.
    "old_age_pension": (slice(13, 18), 1.0),
}
# Adults 20-74 hold a licence or identity card renewed every RENEWAL_YEARS years.
RENEWAL_AGES: Final = slice(4, 15)


@dataclass(frozen=True, slots=True)
class History:
    """What the registry counted: the population on 1 January of consecutive years (one more than
    the years of events), and the births and deaths registered in each of those years."""

    first_year: int
    population: Sequence[Counts]  # [parish, sex, age], on 1 January of first_year + i
    births: Sequence[Counts]  # [parish, sex], in first_year + i
    deaths: Sequence[Counts]  # [parish, sex, age], in first_year + i

    def __post_init__(self) -> None:
        if len(self.population) != len(self.births) + 1 or len(self.births) != len(self.deaths):
            raise ValueError("a history needs the population on 1 January of each year and of the year after")
        if not self.births:
            raise ValueError("a history needs at least one year of events")


@dataclass(frozen=True, slots=True)
class Rates:
    """Rates a year, with what they were estimated from (for their uncertainty)."""

    death_events: Floats  # [sex, age] deaths seen
    death_exposure: Floats  # [sex, age] person-years
    birth_events: Floats  # [parish] births seen
    birth_exposure: Floats  # [parish] woman-years aged 15-49
    sex_shares: Floats  # [sex] of births
    migration: Floats  # [parish] net moves in a year (mean)
    migration_sd: Floats  # [parish] its year-to-year spread


def _aged(alive: Counts, up: Counts) -> Counts:
    """``alive`` a year on, ``up`` of each group having moved up a group (the open group keeps its own)."""
    out = alive - up
    out[..., 1:] += up[..., :-1]
    out[..., -1] += up[..., -1]
    return out


def estimate(history: History) -> Rates:
    """Death rates by sex and age (pooled over parishes), a general fertility rate by parish,
    the sex ratio at birth, and net moves by parish from the balancing equation (what the
    parish's population became, less its births, plus its deaths). Moves are estimated per parish,
    not per sex and age: a cell's residual of a small parish is mostly noise, and drawing it per
    cell and cutting it at zero biases the projection upwards."""
    years = len(history.births)
    exposure = [(history.population[i] + history.population[i + 1]) / 2 for i in range(years)]
    deaths = sum((d.astype(np.float64) for d in history.deaths), np.zeros(history.deaths[0].shape))
    person_years = sum(exposure, np.zeros(history.population[0].shape))
    births = sum((b.astype(np.float64) for b in history.births), np.zeros(history.births[0].shape))
    women = person_years[:, 0, FERTILE].sum(axis=1)
    moves = np.stack(
        [
            (history.population[i + 1] - history.population[i] + history.deaths[i]).sum(axis=(1, 2))
            - history.births[i].sum(axis=1)
            for i in range(years)
        ]
    ).astype(np.float64)
    total_births = births.sum(axis=0)
    return Rates(
        death_events=deaths.sum(axis=0),
        death_exposure=person_years.sum(axis=0),
        birth_events=births.sum(axis=1),
        birth_exposure=women,
        sex_shares=total_births / total_births.sum() if total_births.sum() else np.array([0.5, 0.5, 0.0]),
        migration=moves.mean(axis=0),
        migration_sd=moves.std(axis=0, ddof=1) if years > 1 else np.zeros(moves.shape[1:]),
    )


def _draw_rates(rates: Rates, rng: np.random.Generator, n: int) -> tuple[Floats, Floats]:
    """``n`` draws of the death rates [n, sex, age] and fertility [n, parish] from their gamma
    posteriors, each shrunk toward the pooled rate."""
    pooled_death = rates.death_events.sum(axis=0) / np.maximum(rates.death_exposure.sum(axis=0), 1.0)
    shape = rates.death_events + PRIOR_YEARS * pooled_death + 0.5
    scale = 1.0 / (rates.death_exposure + PRIOR_YEARS)
    death = rng.gamma(shape, scale, size=(n, *shape.shape))
    pooled_birth = rates.birth_events.sum() / max(float(rates.birth_exposure.sum()), 1.0)
    b_shape = rates.birth_events + PRIOR_YEARS * pooled_birth + 0.5
    b_scale = 1.0 / (rates.birth_exposure + PRIOR_YEARS)
    fertility = rng.gamma(b_shape, b_scale, size=(n, *b_shape.shape))
    return death, fertility


@dataclass(frozen=True, slots=True)
class Projection:
    first_year: int  # the base: the population on 1 January of this year
    runs: Counts  # [simulation, year (0 = base), parish, sex, age]

    @property
    def years(self) -> list[int]:
        return [self.first_year + i for i in range(self.runs.shape[1])]

    def bands(self, values: Floats) -> dict[str, list[float]]:
        """The quantiles over simulations of ``values`` [simulation, year]."""
        return {name: [float(v) for v in np.quantile(values, q, axis=0)] for name, q in QUANTILES.items()}

    def total(self) -> Floats:
        out: Floats = self.runs.sum(axis=(2, 3, 4)).astype(np.float64)
        return out

    def parish(self, index: int) -> Floats:
        out: Floats = self.runs[:, :, index].sum(axis=(2, 3)).astype(np.float64)
        return out

    def ages(self, groups: slice) -> Floats:
        out: Floats = self.runs[:, :, :, :, groups].sum(axis=(2, 3, 4)).astype(np.float64)
        return out


def project(
    start: Counts, rates: Rates, *, first_year: int, years: int, seed: int = 0, n: int = SIMULATIONS
) -> Projection:
    """``n`` simulated paths of the population ``start`` (on 1 January of ``first_year``) for ``years``
    years: each path draws its rates once, then each year its deaths (binomial), births (Poisson
    from the women aged 15-49, split by sex) and net moves (normal about the mean, rounded)."""
    rng = np.random.default_rng(seed)
    death, fertility = _draw_rates(rates, rng, n)
    dying = 1.0 - np.exp(-death)  # [n, sex, age]
    people = np.broadcast_to(start, (n, *start.shape)).astype(np.int64)
    runs = [people]
    for _year in range(years):
        deaths = rng.binomial(people, np.broadcast_to(dying[:, None], people.shape))
        women = people[:, :, 0, FERTILE].sum(axis=2).astype(np.float64)
        mid_women = np.maximum(women - deaths[:, :, 0, FERTILE].sum(axis=2) / 2, 0.0)
        births = rng.poisson(fertility * mid_women)  # [n, parish]
        by_sex = rng.multinomial(births, rates.sex_shares)  # [n, parish, sex]
        alive = people - deaths
        people = _aged(alive, rng.binomial(alive, 1 / WIDTH)).astype(np.int64)
        people[:, :, :, 0] += by_sex
        # A parish's net moves, shared over its sexes and ages as its people are.
        net = rates.migration + rng.standard_normal((n, len(rates.migration))) * rates.migration_sd
        held = people.sum(axis=(2, 3), keepdims=True)
        share = people / np.maximum(held, 1)
        people = np.maximum(people + np.rint(net[:, :, None, None] * share).astype(np.int64), 0)
        runs.append(people)
    return Projection(first_year=first_year, runs=np.stack(runs, axis=1))


def mape(predicted: Sequence[float], actual: Sequence[float]) -> float | None:
    """The mean absolute percentage error, over the actual values that are not zero."""
    pairs = [(p, a) for p, a in zip(predicted, actual, strict=True) if a]
    if not pairs:
        return None
    return float(np.mean([abs(p - a) / abs(a) for p, a in pairs]) * 100)


def renewals(projection: Projection, renewal_years: int) -> Floats:
    return projection.ages(RENEWAL_AGES) / max(1, renewal_years)


def demand(projection: Projection, name: str) -> Floats:
    groups, share = DEMAND[name]
    return projection.ages(groups) * share


__all__ = ["AGE_GROUPS", "DEMAND", "History", "Projection", "Rates", "estimate", "mape", "project"]
