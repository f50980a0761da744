from __future__ import annotations

from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command


@pytest.mark.django_db
def test_import_egdi_loads_a_year_and_says_the_published_values_agree(egdi_dir: Path) -> None:
    out = StringIO()
    call_command("readiness", "import-egdi", str(egdi_dir / "egdi-2016.csv"), "--year", "2016", stdout=out)
    assert "Loaded the EGDI of 2016: 193 countries." in out.getvalue()
    assert "agrees with the published value" in out.getvalue()
    out = StringIO()
    call_command("readiness", "rankings", "--year", "2016", stdout=out)
    assert out.getvalue().splitlines()[1].split()[:2] == ["1", "BRB"]


@pytest.mark.django_db
def test_import_egdi_refuses_a_faulty_file_in_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "egdi.csv"
    bad.write_text("country-code,country-name\nBRB,Barbados\n")
    with pytest.raises(CommandError, match="missing e-gov-rank"):
        call_command("readiness", "import-egdi", str(bad), "--year", "2018")
    with pytest.raises(CommandError, match="Cannot read"):
        call_command("readiness", "import-egdi", str(tmp_path / "none.csv"), "--year", "2018")
