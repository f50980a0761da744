from __future__ import annotations

import re

import pytest
from django.test import Client


@pytest.mark.django_db
def test_the_report_shows_the_ranking_as_a_chart_and_a_table_without_signing_in(egdi_loaded: list[int]) -> None:
    page = Client().get("/readiness/", {"year": 2018, "group": "caricom"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<svg" in html and 'role="img"' in html
    # One dot per country in the chart, one row per country in the table.
    assert html.count("<circle") == 14
    rows = re.findall(r'<td data-label="Rank">(\d+)</td>', html)
    assert rows == [str(n) for n in range(1, 15)]
    assert "Barbados" in html and "Which choice moves ranks most" in html
    assert "/readiness/report.pdf?year=2018&amp;group=caricom" in html


@pytest.mark.django_db
def test_the_report_defaults_to_the_latest_year(egdi_loaded: list[int]) -> None:
    page = Client().get("/readiness/")
    assert page.status_code == 200
    assert "CARICOM, 2018" in page.content.decode()


@pytest.mark.django_db
def test_a_year_not_loaded_gets_a_message_on_the_page(egdi_loaded: list[int]) -> None:
    page = Client().get("/readiness/", {"year": 2012, "group": "caricom"})
    assert page.status_code == 400
    html = page.content.decode()
    assert "There is a problem" in html and "Choose one of the survey years listed." in html
    assert "<svg" not in html


@pytest.mark.django_db
def test_without_any_survey_the_page_says_so() -> None:
    page = Client().get("/readiness/")
    assert page.status_code == 200
    assert "No UN E-Government Survey is loaded yet" in page.content.decode()


@pytest.mark.django_db
def test_a_countrys_page_compares_its_pillars_with_the_group(egdi_loaded: list[int]) -> None:
    page = Client().get("/readiness/countries/JAM/", {"year": 2018, "group": "caricom"})
    assert page.status_code == 200
    html = page.content.decode()
    assert "<h1>Jamaica</h1>" in html and "Group median" in html and "Best in the group" in html
    assert html.count('<th scope="row">') == 4
    assert Client().get("/readiness/countries/DOM/", {"year": 2018, "group": "caricom"}).status_code == 404


@pytest.mark.django_db
def test_the_report_as_pdf(egdi_loaded: list[int]) -> None:
    answer = Client().get("/readiness/report.pdf", {"year": 2016, "group": "cariforum"})
    assert answer.status_code == 200
    assert answer["Content-Type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    assert len(answer.content) > 5000
    assert Client().get("/readiness/report.pdf", {"year": 2012}).status_code == 404
