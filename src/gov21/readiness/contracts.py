"""What the rest of the platform may use of the readiness app: loading the UN E-Government
Survey years gov21 ships, so that a new platform shows the Caribbean ranking from the start."""

from __future__ import annotations

import re
from pathlib import Path

from gov21.readiness.models import EgdiImport
from gov21.readiness.services import egdi_import

# The UN's country tables as published (see the README beside them for the source and its terms).
EGDI_DIR = Path(__file__).resolve().parent / "data" / "egdi"
_NAME = re.compile(r"egdi-(\d{4})\.csv")


def egdi_shipped() -> dict[int, Path]:
    """The survey years shipped with gov21 and their files, oldest first."""
    found = {int(m.group(1)): p for p in EGDI_DIR.iterdir() if (m := _NAME.fullmatch(p.name))}
    return dict(sorted(found.items()))


def egdi_shipped_load() -> list[int]:
    """Load each shipped survey year that is not loaded yet (a year the operator loaded, from these
    files or another, is left as it is); the years loaded now."""
    loaded = set(EgdiImport.objects.values_list("year", flat=True))
    added = []
    for year, path in egdi_shipped().items():
        if year not in loaded:
            egdi_import(content=path.read_bytes(), year=year)
            added.append(year)
    return added
