"""Writes of the readiness app: loading a UN E-Government Survey's country table."""

from __future__ import annotations

import csv
import hashlib
import io
import re
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.readiness.models import EgdiCountry, EgdiImport
from gov21.readiness.reference import countries
from gov21.readiness.tasks import results_publish_soon

# The column layout of the UN's country table as UNU-EGOV publishes it.
EGDI_COLUMNS = ("country-code", "country-name", "e-gov-rank", "e-gov-index", "e-pat-index", "osi", "hci", "tii")
_VALUES = {"e-gov-index": "egdi", "e-pat-index": "epart", "osi": "osi", "hci": "hci", "tii": "tii"}
# The EGDI is published to four or five decimals: a recomputed mean further than this is a discrepancy.
TOLERANCE = 0.0005
FIRST_YEAR, LAST_YEAR = 2001, 2100


@dataclass(frozen=True)
class Discrepancy:
    country_code: str
    published: float
    recomputed: float


@dataclass(frozen=True)
class EgdiLoaded:
    year: int
    countries: int
    replaced: bool
    discrepancies: tuple[Discrepancy, ...]
    # Countries whose EGDI could not be recomputed because a component is missing.
    incomplete: tuple[str, ...]


def _bad(detail: str, *, line: int | None = None, field: str | None = None) -> DomainError:
    where = f"Line {line}: " if line is not None else ""
    return DomainError(
        "egdi_invalid",
        where + detail,
        field=field,
        title="The EGDI file cannot be loaded",
        extra={"line": line} if line is not None else None,
    )


def _value(raw: str, *, column: str, line: int) -> float | None:
    text = raw.strip()
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise _bad(f"'{text}' in column {column} is not a number.", line=line, field=column) from None
    if not 0.0 <= value <= 1.0:
        raise _bad(f"{column} is {text}, outside 0 to 1.", line=line, field=column)
    return value


def egdi_import(*, content: bytes, year: int) -> EgdiLoaded:
    """Load one survey year's country table (CSV in the layout of ``EGDI_COLUMNS``), replacing a
    year loaded before. The whole file is checked before anything is written: a file with any fault
    is refused, naming its first, and the year stays as it was."""
    if not FIRST_YEAR <= year <= LAST_YEAR:
        raise _bad(f"The year must be from {FIRST_YEAR} to {LAST_YEAR}.", field="year")
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise _bad("The file is not UTF-8 text.") from None
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if header is None:
        raise _bad("The file is empty.")
    header = [h.strip() for h in header]
    missing = [c for c in EGDI_COLUMNS if c not in header]
    extra = [c for c in header if c not in EGDI_COLUMNS]
    if missing or extra or len(header) != len(EGDI_COLUMNS):
        parts = []
        if missing:
            parts.append("missing " + ", ".join(missing))
        if extra:
            parts.append("unexpected " + ", ".join(extra))
        if not parts:
            parts.append("a column is repeated")
        raise _bad(
            "The columns must be " + ", ".join(EGDI_COLUMNS) + " (" + "; ".join(parts) + ").", line=1, field="header"
        )
    known = countries()
    rows: list[EgdiCountry] = []
    seen: dict[str, int] = {}
    discrepancies: list[Discrepancy] = []
    incomplete: list[str] = []
    for line, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(cells) != len(header):
            raise _bad(f"{len(cells)} values where there are {len(header)} columns.", line=line)
        record = dict(zip(header, cells, strict=True))
        code = record["country-code"].strip().upper()
        if code not in known:
            raise _bad(f"'{code}' is not the code of a UN member state.", line=line, field="country-code")
        if code in seen:
            raise _bad(f"{code} is listed twice (first on line {seen[code]}).", line=line, field="country-code")
        seen[code] = line
        values = {attr: _value(record[col], column=col, line=line) for col, attr in _VALUES.items()}
        rank_text = record["e-gov-rank"].strip()
        if rank_text and not (rank_text.isdigit() and 1 <= int(rank_text) <= len(known)):
            raise _bad(f"The rank '{rank_text}' is not a whole number from 1 to 193.", line=line, field="e-gov-rank")
        components = [values["osi"], values["hci"], values["tii"]]
        published = values["egdi"]
        if published is not None and all(v is not None for v in components):
            recomputed = sum(v for v in components if v is not None) / 3
            if abs(recomputed - published) > TOLERANCE:
                discrepancies.append(Discrepancy(code, published, recomputed))
        else:
            incomplete.append(code)
        rows.append(
            EgdiCountry(
                country_code=code,
                country_name=record["country-name"].strip() or known[code],
                published_rank=int(rank_text) if rank_text else None,
                **values,
            )
        )
    if not rows:
        raise _bad("The file has no countries.")
    with transaction.atomic():
        replaced, _ = EgdiImport.objects.filter(year=year).delete()
        survey = EgdiImport.objects.create(
            year=year,
            sha256=hashlib.sha256(content).hexdigest(),
            countries=len(rows),
            discrepancies=[
                {"country_code": d.country_code, "published": d.published, "recomputed": d.recomputed}
                for d in discrepancies
            ],
            imported_at=timezone.now(),
        )
        for row in rows:
            row.survey = survey
        EgdiCountry.objects.bulk_create(rows)
        results_publish_soon()
    return EgdiLoaded(year, len(rows), bool(replaced), tuple(discrepancies), tuple(incomplete))


# The UN's country tables as published (see the README beside them for the source and its terms).
EGDI_DIR = Path(__file__).resolve().parent / "data" / "egdi"
_EGDI_NAME = re.compile(r"egdi-(\d{4})\.csv")


def egdi_shipped() -> dict[int, Path]:
    """The survey years shipped with gov21 and their files, oldest first."""
    found = {int(m.group(1)): p for p in EGDI_DIR.iterdir() if (m := _EGDI_NAME.fullmatch(p.name))}
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
