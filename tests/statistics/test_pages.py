"""The statistics office's public pages and back office, through the test client."""

from __future__ import annotations

import pytest
from django.test import Client
from django.utils import timezone

from gov21.statistics import services
from tests.identity.flows import portal_sign_in, staff
from tests.statistics.test_services import births

pytestmark = pytest.mark.django_db


def test_the_public_pages_show_charts_their_data_and_a_download_without_script() -> None:
    year = timezone.localdate().year
    births(7, month=3)
    births(2, month=6)
    services.events_follow()
    client = Client()
    page = client.get("/statistics/").content.decode()
    assert '<svg xmlns="http://www.w3.org/2000/svg" role="img"' in page
    assert "<script" not in page.split("<main", 1)[-1].split("</main>", 1)[0]
    assert "Population by sex and age group" in page
    assert f"/statistics/births-by-parish-month-sex-{year}/csv" in page

    table = client.get(f"/statistics/births-by-parish-month-sex-{year}/").content.decode()
    assert "suppressed" in table  # June's 2
    csv = client.get(f"/statistics/births-by-parish-month-sex-{year}/csv")
    assert csv["Content-Type"].startswith("text/csv")
    lines = csv.content.decode().splitlines()
    assert lines[0] == "parish,month,sex,births,suppressed"
    assert f"XA-01,{year}-06,F,,true" in lines
    counts = [line.split(",")[3] for line in lines[1:]]
    assert not [c for c in counts if c and 0 < int(c) < 5]


def test_an_unknown_table_is_a_helpful_404() -> None:
    response = Client().get("/statistics/no-such-table/")
    assert response.status_code == 404
    assert "publishes no table called" in response.content.decode()
    assert Client().get("/statistics/no-such-table/csv").status_code == 404


def test_the_back_office_shows_releases_and_timeliness_to_staff_only() -> None:
    births(6, month=2)
    services.events_follow()
    client = Client()
    portal_sign_in(client, staff("stats.reader", "reader"), next_url="/office/statistics/")
    page = client.get("/office/statistics/").content.decode()
    assert "Timeliness of birth registration" in page
    assert "Data portal version" in page
    assert Client().get("/office/statistics/").status_code == 302
