from __future__ import annotations

from pathlib import Path

import pytest

# The UN E-Government Survey's country tables of 2014, 2016 and 2018 as published (see the README
# beside them for the source), so that the import is tested against the real files everywhere.
SHIPPED = Path(__file__).resolve().parent / "data" / "egdi"


@pytest.fixture
def egdi_dir() -> Path:
    return SHIPPED


@pytest.fixture
def egdi_loaded(db: None, egdi_dir: Path) -> list[int]:
    from gov21.readiness.services import egdi_import

    years = [2014, 2016, 2018]
    for year in years:
        egdi_import(content=(egdi_dir / f"egdi-{year}.csv").read_bytes(), year=year)
    return years
