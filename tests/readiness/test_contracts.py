"""The shipped UN survey years load on a new platform, once, and never over an operator's own."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.readiness.contracts import egdi_shipped, egdi_shipped_load
from gov21.readiness.models import EgdiCountry, EgdiImport
from gov21.readiness.services import egdi_import


def test_the_shipped_years_are_the_three_surveys_with_their_provenance() -> None:
    shipped = egdi_shipped()
    assert list(shipped) == [2014, 2016, 2018]
    readme = (next(iter(shipped.values())).parent / "README.md").read_text()
    assert "UN DESA" in readme and "Licence" in readme


@pytest.mark.django_db
def test_a_new_platform_loads_each_shipped_year_once_and_ranks_the_caribbean() -> None:
    assert egdi_shipped_load() == [2014, 2016, 2018]
    assert EgdiCountry.objects.filter(survey__year=2018).count() == 193
    assert egdi_shipped_load() == []
    body = Client().get("/api/v1/readiness/rankings", {"index": "egdi", "year": 2018, "group": "caricom"}).json()
    assert len(body["countries"]) == 14 and body["previous_year"] == 2016
    page = Client().get("/readiness/")
    assert page.status_code == 200 and "Barbados" in page.content.decode()


@pytest.mark.django_db
def test_a_year_the_operator_loaded_is_left_as_it_is() -> None:
    mine = b"country-code,country-name,e-gov-rank,e-gov-index,e-pat-index,osi,hci,tii\n"
    mine += b"JAM,Jamaica,1,0.5,0.5,0.5,0.5,0.5\n"
    egdi_import(content=mine, year=2016)
    assert egdi_shipped_load() == [2014, 2018]
    assert EgdiImport.objects.get(year=2016).countries == 1
