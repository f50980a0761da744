from __future__ import annotations

from pathlib import Path

import pytest

SHIPPED = Path(__file__).resolve().parents[2].parent.parent / "shared" / "data" / "egdi"


def _shipped_dir() -> Path:
    for candidate in (Path("/work/shared/data/egdi"), SHIPPED):
        if (candidate / "egdi-2018.csv").exists():
            return candidate
    pytest.skip("the UN EGDI tables (shared/data/egdi) are not on this machine")


@pytest.fixture
def egdi_dir() -> Path:
    return _shipped_dir()


@pytest.fixture
def egdi_loaded(db: None, egdi_dir: Path) -> list[int]:
    from gov21.readiness.services import egdi_import

    years = [2014, 2016, 2018]
    for year in years:
        egdi_import(content=(egdi_dir / f"egdi-{year}.csv").read_bytes(), year=year)
    return years
