"""The projection and demand forecasts: the model on known numbers, and the whole run over a
seeded nation read through the exchange, with its back-test."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.management import call_command
from django.utils import timezone

from gov21.statistics import forecast, forecasting
from gov21.statistics.tables import AGE_GROUPS

P, S, A = 2, 3, len(AGE_GROUPS)


def test_the_balancing_equation_finds_each_parishs_net_moves() -> None:
    """The first parish grows by 100 and 120 people a year with nobody born or dying; the second
    has 10 births and 4 deaths a year and keeps its size: 6 leave it a year."""
    pops = []
    for grown in (0, 100, 220):
        pop = np.zeros((P, S, A), dtype=np.int64)
        pop[:, :2, :] = 1000
        pop[0, 0, 5] += grown
        pops.append(pop)
    births = np.array([[0, 0, 0], [5, 5, 0]], dtype=np.int64)
    deaths = np.zeros((P, S, A), dtype=np.int64)
    deaths[1, 1, 17] = 4
    rates = forecast.estimate(
        forecast.History(first_year=2020, population=pops, births=[births, births], deaths=[deaths, deaths])
    )
    assert rates.migration.tolist() == pytest.approx([110, -6])
    assert rates.migration_sd.tolist() == pytest.approx([np.std([100, 120], ddof=1), 0])
    assert rates.birth_events.tolist() == [0, 20]


def test_a_projection_keeps_births_deaths_and_ageing_in_balance_and_its_bands_widen() -> None:
    pop = np.zeros((P, S, A), dtype=np.int64)
    pop[:, :2, 3:10] = 2000  # women and men aged 15-49
    births = np.array([[300, 300, 0], [300, 300, 0]], dtype=np.int64)
    deaths = np.zeros((P, S, A), dtype=np.int64)
    deaths[:, :2, 3:10] = 10
    history = forecast.History(first_year=2020, population=[pop, pop], births=[births], deaths=[deaths])
    rates = forecast.estimate(history)
    projection = forecast.project(pop, rates, first_year=2021, years=10, n=300)
    assert projection.years[0] == 2021 and projection.years[-1] == 2031
    total = projection.bands(projection.total())
    assert total["median"][0] == pop.sum()
    widths = [hi - lo for hi, lo in zip(total["hi80"], total["lo80"], strict=True)]
    assert widths[0] == 0 and widths[10] > widths[1] > 0
    assert all(lo <= m <= hi for lo, m, hi in zip(total["lo95"], total["median"], total["hi95"], strict=True))
    # Births keep coming: a year on, the youngest group holds about a year of births.
    young = projection.bands(projection.ages(slice(0, 1)))
    assert 1000 < young["median"][1] < 1400


def test_mape_ignores_zero_actuals() -> None:
    assert forecast.mape([110, 90, 5], [100, 100, 0]) == pytest.approx(10)
    assert forecast.mape([1], [0]) is None


@pytest.mark.django_db
def test_a_forecast_of_a_seeded_nation_reads_the_registry_and_back_tests_itself() -> None:
    call_command("seed", people=3000, seed=11, verbosity=0)
    run = forecasting.forecast_build()
    result = run.result
    year = timezone.localdate().year
    assert run.base_year == year
    assert result["years"] == list(range(year, year + 11))
    assert 2500 < result["total"]["median"][0] <= 3000
    assert result["total"]["lo80"][10] < result["total"]["median"][10] < result["total"]["hi80"][10]
    assert set(result["demand"]) == {"school_entrants", "child_benefit", "old_age_pension", "licence_renewals"}
    back = result["backtest"]
    assert back["base_year"] == year - 5
    assert len(back["total_actual"]) == 6
    # The method recovers a small nation's size five years on within a few per cent.
    assert back["total_mape"][5] is not None and back["total_mape"][5] < 5
    assert 0 <= back["parish_coverage80"] <= 1
    assert forecasting.forecast_latest() == run
    from django.test import Client

    client = Client()
    page = client.get("/statistics/forecasts/").content.decode()
    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "<script" not in main
    assert "Back-test of the population projection" in main
    assert main.count('role="img"') == 5  # the population and four services
    assert len(page.encode()) < 100_000
    lines = client.get("/statistics/forecasts/csv").content.decode().splitlines()
    assert lines[1].startswith(f"population,total,{year},")
    assert len(lines) == 1 + 11 * (1 + 12 + 4)
