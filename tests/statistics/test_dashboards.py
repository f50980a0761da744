"""The decision makers' dashboards: completeness and timeliness from the published tables, and the
projection's pages, readable without script, with their data and downloads."""

from __future__ import annotations

import pytest
from django.test import Client, override_settings
from django.utils import timezone

from gov21.statistics import dashboards, services
from gov21.statistics.disclosure import TOTAL
from tests.identity.flows import portal_sign_in, staff
from tests.statistics.test_services import births

pytestmark = pytest.mark.django_db


@override_settings(GOV21_STATISTICS_BIRTHS_PER_1000=50)
def test_completeness_compares_registered_births_with_those_expected_from_the_population() -> None:
    births(8, month=1)
    births(6, month=2, sex="M")
    services.events_follow()
    today = timezone.localdate()
    year = today.year
    result = dashboards.completeness(year=year, today=today)
    assert result is not None
    total = result.rows[-1]
    assert total.parish == TOTAL
    # The 14 newborn are the whole population of XA-01; 50 births a year per 1,000 of them expected.
    assert total.population == 14 and total.births == 14
    assert total.births_expected == round(14 * 50 / 1000 * result.share_of_year)
    xa01 = next(r for r in result.rows if r.parish == "XA-01")
    assert xa01.births == 14
    # Births of January and February registered in a later month: late (past 45 days), but within a year.
    if today.month >= 4:
        assert xa01.on_time_share == 0 and xa01.within_year_share == 100
    # A parish with nobody expects nothing: its completeness is unknown, not a division by zero.
    empty = next(r for r in result.rows if r.parish == "XA-02")
    assert empty.population == 0 and empty.birth_completeness is None


def test_the_completeness_page_and_its_download_work_without_script_and_refuse_a_bad_year() -> None:
    births(7, month=3)
    services.events_follow()
    client = Client()
    page = client.get("/statistics/completeness/").content.decode()
    main = page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "<script" not in main
    assert main.count('<svg xmlns="http://www.w3.org/2000/svg" role="img"') == 3
    assert "Births registered as a share of those expected" in main
    assert len(page.encode()) < 100_000
    csv = client.get(f"/statistics/completeness/csv?year={timezone.localdate().year}")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0].startswith("parish,population,births_expected,births_registered")
    assert any(line.startswith("XA-01,7,") for line in lines)
    for bad in ("abc", "1492", str(timezone.localdate().year + 1)):
        response = client.get(f"/statistics/completeness/?year={bad}")
        assert response.status_code == 400
        assert "The year must be a year" in response.content.decode()
        assert client.get(f"/statistics/completeness/csv?year={bad}").status_code == 400


def test_the_office_shows_the_completeness_dashboard_and_links_the_projection() -> None:
    births(6, month=2)
    services.events_follow()
    client = Client()
    portal_sign_in(client, staff("stats.reader", "reader"), next_url="/office/statistics/")
    page = client.get("/office/statistics/").content.decode()
    assert "Registration completeness in" in page
    assert "/statistics/forecasts/" in page


def test_the_forecast_page_says_when_nothing_has_been_projected() -> None:
    page = Client().get("/statistics/forecasts/").content.decode()
    assert "No projection has been made yet." in page
    csv = Client().get("/statistics/forecasts/csv").content.decode().splitlines()
    assert csv == ["measure,parish,year,median,lo80,hi80,lo95,hi95"]
