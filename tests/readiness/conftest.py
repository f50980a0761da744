from __future__ import annotations

from pathlib import Path

import pytest

from gov21.readiness.contracts import EGDI_DIR

# The UN E-Government Survey's country tables of 2014, 2016 and 2018 as published and as gov21
# ships them (see the README beside them for the source), so the import is tested against the
# very files a new platform loads.
SHIPPED = EGDI_DIR


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
