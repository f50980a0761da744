from __future__ import annotations

from pathlib import Path

import pytest

from gov21.core.errors import DomainError
from gov21.readiness.models import EgdiCountry, EgdiImport
from gov21.readiness.services import egdi_import

HEADER = "country-code,country-name,e-gov-rank,e-gov-index,e-pat-index,osi,hci,tii\n"
GOOD = (
    HEADER + "BRB,Barbados,46,0.7229,0.7079,0.7014,0.8372,0.6301\nJAM,Jamaica,114,0.4697,0.3933,0.3681,0.6863,0.3548\n"
)


@pytest.mark.django_db
@pytest.mark.parametrize("year", [2014, 2016, 2018])
def test_each_shipped_year_loads_and_recomputes_to_the_published_values(egdi_dir: Path, year: int) -> None:
    loaded = egdi_import(content=(egdi_dir / f"egdi-{year}.csv").read_bytes(), year=year)
    assert loaded.countries == 193
    assert loaded.discrepancies == ()
    assert loaded.incomplete == ()
    row = EgdiCountry.objects.get(survey__year=year, country_code="BRB")
    assert row.egdi is not None and row.osi is not None and row.hci is not None and row.tii is not None
    assert abs((row.osi + row.hci + row.tii) / 3 - row.egdi) <= 0.0005


@pytest.mark.django_db
def test_a_published_value_that_is_not_the_mean_of_its_components_is_reported() -> None:
    content = HEADER + "BRB,Barbados,46,0.7400,0.7079,0.7014,0.8372,0.6301\nJAM,Jamaica,114,,0.39,0.3681,0.6863,\n"
    loaded = egdi_import(content=content.encode(), year=2018)
    assert [d.country_code for d in loaded.discrepancies] == ["BRB"]
    assert loaded.discrepancies[0].recomputed == pytest.approx((0.7014 + 0.8372 + 0.6301) / 3)
    assert loaded.incomplete == ("JAM",)
    assert EgdiImport.objects.get(year=2018).discrepancies[0]["country_code"] == "BRB"


@pytest.mark.django_db
def test_loading_a_year_again_replaces_it() -> None:
    egdi_import(content=GOOD.encode(), year=2018)
    again = egdi_import(content=(HEADER + "HTI,Haiti,,0.3047,0.2,0.2,0.4,0.3141\n").encode(), year=2018)
    assert again.replaced
    assert list(EgdiCountry.objects.values_list("country_code", flat=True)) == ["HTI"]


BAD = {
    "missing column": (HEADER.replace(",tii", ""), "missing tii", "header"),
    "extra column": (HEADER.replace(",tii", ",tii,gdp"), "unexpected gdp", "header"),
    "value above one": (HEADER + "BRB,Barbados,46,1.7229,0.7,0.7,0.8,0.6\n", "outside 0 to 1", "e-gov-index"),
    "negative value": (HEADER + "BRB,Barbados,46,0.7,0.7,-0.1,0.8,0.6\n", "outside 0 to 1", "osi"),
    "not a number": (HEADER + "BRB,Barbados,46,0.7,0.7,high,0.8,0.6\n", "not a number", "osi"),
    "unknown country": (HEADER + "XAA,Nowhere,46,0.7,0.7,0.7,0.8,0.6\n", "not the code of a UN", "country-code"),
    "duplicate country": (
        GOOD + "BRB,Barbados,46,0.7229,0.7079,0.7014,0.8372,0.6301\n",
        "listed twice",
        "country-code",
    ),
    "short row": (HEADER + "BRB,Barbados,46,0.7\n", "values where there are", None),
    "empty": ("", "empty", None),
}


@pytest.mark.django_db
@pytest.mark.parametrize("case", sorted(BAD))
def test_a_faulty_file_is_refused_whole_and_the_year_is_left_as_it_was(case: str) -> None:
    egdi_import(content=GOOD.encode(), year=2018)
    content, message, field = BAD[case]
    # The fault comes after good rows where it can: nothing of the file may be written.
    with pytest.raises(DomainError) as raised:
        egdi_import(content=content.encode(), year=2018)
    assert raised.value.code == "egdi_invalid"
    assert message in raised.value.detail
    assert raised.value.field == field
    assert sorted(EgdiCountry.objects.values_list("country_code", flat=True)) == ["BRB", "JAM"]
    with pytest.raises(DomainError):
        egdi_import(content=content.encode(), year=2016)
    assert not EgdiImport.objects.filter(year=2016).exists()


@pytest.mark.django_db
def test_a_year_outside_the_surveys_is_refused() -> None:
    with pytest.raises(DomainError) as raised:
        egdi_import(content=GOOD.encode(), year=1999)
    assert raised.value.field == "year"
