"""The statistics office's forecasts (decision 0072): the registry's counts read through the exchange
(the population on 1 January of each year, the births and deaths of each year), the projection of
``forecast`` run from this year and, as a back-test, from five years ago against what the registry
then counted; the result stored as a ``Forecast`` for the pages."""

from __future__ import annotations

from typing import Any, Final

import numpy as np
from django.conf import settings
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.core.geography import parishes
from gov21.statistics import forecast
from gov21.statistics.models import Forecast
from gov21.statistics.services import _cells, _numbers
from gov21.statistics.tables import AGE_GROUPS, SEXES

RATE_YEARS: Final = 3  # years of events the rates are estimated from
HORIZON: Final = 10
BACKTEST_YEARS: Final = 5  # held back: the back-test projects from this many years ago


def _index() -> tuple[dict[str, int], dict[str, int], dict[str, int]]:
    return (
        {code: i for i, (code, _name) in enumerate(parishes())},
        {s: i for i, s in enumerate(SEXES)},
        {g: i for i, g in enumerate(AGE_GROUPS)},
    )


def _population(year: int) -> forecast.Counts:
    at_parish, at_sex, at_age = _index()
    out = np.zeros((len(at_parish), len(at_sex), len(at_age)), dtype=np.int64)
    for cell in _cells(_numbers("/population", f"as_of={year:04d}-01-01")):
        p, s, a = at_parish.get(str(cell["parish"])), at_sex.get(str(cell["sex"])), at_age.get(str(cell["age_group"]))
        if p is not None and s is not None and a is not None:
            out[p, s, a] += int(str(cell["persons"]))
    return out


def _events(kind: str, year: int) -> forecast.Counts:
    at_parish, at_sex, at_age = _index()
    out = np.zeros((len(at_parish), len(at_sex), len(at_age)), dtype=np.int64)
    for cell in _cells(_numbers("/events", f"kind={kind}&year={year}")):
        p, s, a = at_parish.get(str(cell["parish"])), at_sex.get(str(cell["sex"])), at_age.get(str(cell["age_group"]))
        if p is not None and s is not None and a is not None:
            out[p, s, a] += int(str(cell["events"]))
    return out


def history_read(*, first_year: int, years: int) -> forecast.History:
    """The registry's counts for ``years`` years from ``first_year``, through the exchange."""
    return forecast.History(
        first_year=first_year,
        population=[_population(first_year + i) for i in range(years + 1)],
        births=[_events("birth", first_year + i).sum(axis=2) for i in range(years)],
        deaths=[_events("death", first_year + i) for i in range(years)],
    )


def _series(projection: forecast.Projection, renewal_years: int) -> dict[str, Any]:
    codes = [code for code, _name in parishes()]
    demand = {name: projection.bands(forecast.demand(projection, name)) for name in forecast.DEMAND}
    demand["licence_renewals"] = projection.bands(forecast.renewals(projection, renewal_years))
    last = projection.runs[:, -1]
    return {
        "years": projection.years,
        "total": projection.bands(projection.total()),
        "parishes": {code: projection.bands(projection.parish(i)) for i, code in enumerate(codes)},
        "demand": demand,
        "pyramid_last": {
            sex: [float(v) for v in np.median(last[:, :, k].sum(axis=1), axis=0)] for k, sex in enumerate(SEXES)
        },
    }


def _backtest(*, base: int, renewal_years: int, history: forecast.History) -> dict[str, Any]:
    """Project from ``base`` with rates from the years before it, and compare each later 1 January
    with what the registry counted (``history`` runs from ``base`` - RATE_YEARS to this year)."""
    before = forecast.History(
        first_year=history.first_year,
        population=history.population[: RATE_YEARS + 1],
        births=history.births[:RATE_YEARS],
        deaths=history.deaths[:RATE_YEARS],
    )
    held = list(history.population[RATE_YEARS:])
    projection = forecast.project(held[0], forecast.estimate(before), first_year=base, years=len(held) - 1, seed=1)
    predicted = _series(projection, renewal_years)
    actual_total = [float(p.sum()) for p in held]
    codes = [code for code, _name in parishes()]
    parish_errors = []
    for h in range(1, len(held)):
        errors = [
            forecast.mape([predicted["parishes"][code]["median"][h]], [float(held[h][i].sum())])
            for i, code in enumerate(codes)
        ]
        known = [e for e in errors if e is not None]
        parish_errors.append(float(np.mean(known)) if known else None)
    inside = 0
    checked = 0
    for h in range(1, len(held)):
        for i, code in enumerate(codes):
            band = predicted["parishes"][code]
            checked += 1
            inside += band["lo80"][h] <= float(held[h][i].sum()) <= band["hi80"][h]
    demand_actual: dict[str, list[float]] = {}
    for name, (groups, share) in forecast.DEMAND.items():
        demand_actual[name] = [float(p[:, :, groups].sum()) * share for p in held]
    demand_actual["licence_renewals"] = [float(p[:, :, forecast.RENEWAL_AGES].sum()) / renewal_years for p in held]
    return {
        "base_year": base,
        "years": projection.years,
        "total_actual": actual_total,
        "total_predicted": predicted["total"]["median"],
        "total_mape": [
            forecast.mape([p], [a]) for p, a in zip(predicted["total"]["median"], actual_total, strict=True)
        ],
        "parish_mape": [None, *parish_errors],
        "parish_coverage80": inside / checked if checked else None,
        "demand_mape": {
            name: [
                forecast.mape([p], [a])
                for p, a in zip(predicted["demand"][name]["median"], demand_actual[name], strict=True)
            ]
            for name in demand_actual
        },
    }


def forecast_build(*, base_year: int | None = None) -> Forecast:
    """Project the population and the demand for services ``HORIZON`` years from 1 January of
    ``base_year`` (this year), back-test the method from ``BACKTEST_YEARS`` years earlier, and keep both."""
    base = base_year or timezone.localdate().year
    renewal_years = int(settings.GOV21_STATISTICS_RENEWAL_YEARS)
    back = base - BACKTEST_YEARS
    # One read covers both: from the back-test's first rate year to the base.
    history = history_read(first_year=back - RATE_YEARS, years=base - (back - RATE_YEARS))
    if not int(history.population[-1].sum()):
        raise DomainError("no_population", "The civil registry counts nobody to project from", status=409)
    recent = forecast.History(
        first_year=base - RATE_YEARS,
        population=history.population[-RATE_YEARS - 1 :],
        births=history.births[-RATE_YEARS:],
        deaths=history.deaths[-RATE_YEARS:],
    )
    rates = forecast.estimate(recent)
    projection = forecast.project(history.population[-1], rates, first_year=base, years=HORIZON)
    women = float(rates.birth_exposure.sum())
    exposure = float(rates.death_exposure.sum())
    result = {
        **_series(projection, renewal_years),
        "rates": {
            "years": [base - RATE_YEARS, base - 1],
            "births_per_1000_women_15_49": 1000 * float(rates.birth_events.sum()) / women if women else None,
            "deaths_per_1000": 1000 * float(rates.death_events.sum()) / exposure if exposure else None,
            "net_moves_a_year": float(rates.migration.sum()),
            "simulations": forecast.SIMULATIONS,
            "renewal_years": renewal_years,
        },
        "backtest": _backtest(base=back, renewal_years=renewal_years, history=history),
    }
    return Forecast.objects.create(created_at=timezone.now(), base_year=base, result=result)


def forecast_latest() -> Forecast | None:
    return Forecast.objects.order_by("-created_at").first()
