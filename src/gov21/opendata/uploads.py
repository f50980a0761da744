"""Files a publisher uploads: checked before anything is kept. A CSV or XLSX table must be UTF-8 (for
CSV), rectangular, and free of spreadsheet formulas (a cell that a spreadsheet would run when a
visitor opens the download); its column types are inferred and it goes to the datastore."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from django.utils.translation import gettext as _

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.opendata.datastore import COLUMN_NAME

TABLE_FORMATS: Final = {"csv": "text/csv", "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
_NUMBER: Final = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?")
_INTEGER: Final = re.compile(r"[+-]?\d{1,18}")
_DATE: Final = re.compile(r"\d{4}-\d{2}-\d{2}")
_FORMULA_START: Final = ("=", "@", "+", "-", "\t", "\r")
ROWS_MAX: Final = 1_000_000


@dataclass(frozen=True)
class Upload:
    filename: str
    content: bytes
    media_type: str

    @property
    def format(self) -> str:
        return self.filename.rsplit(".", 1)[-1].upper() if "." in self.filename else ""


def size_check(length: int) -> None:
    limit = config.OPENDATA_UPLOAD_MAX_BYTES.read()
    if length > limit:
        raise DomainError(
            "upload_too_large",
            _("The file is larger than the %(mb)d MB the portal accepts.") % {"mb": limit // (1024 * 1024) or 1},
            status=413,
            field="upload",
        )


def _formula(cell: str) -> bool:
    return cell.startswith(_FORMULA_START) and not _NUMBER.fullmatch(cell)


def _column_names(header: Sequence[str]) -> list[str]:
    names = []
    for raw in header:
        name = re.sub(r"[^a-z0-9_]+", "_", raw.strip().lower()).strip("_")
        if name and name[0].isdigit():
            name = f"_{name}"
        if not COLUMN_NAME.fullmatch(name or "-") or name in names or name == "_id":
            raise DomainError(
                "invalid_header",
                _("The first row names the columns, each once: %(name)s is not usable.") % {"name": raw[:50]},
                field="upload",
            )
        names.append(name)
    return names


def _infer(values: list[str]) -> str:
    present = [v for v in values if v != ""]
    if not present:
        return "text"
    if all(_INTEGER.fullmatch(v) for v in present):
        return "integer"
    if all(_NUMBER.fullmatch(v) for v in present):
        return "numeric"
    if all(_DATE.fullmatch(v) for v in present):
        try:
            for v in present:
                dt.date.fromisoformat(v)
        except ValueError:
            return "text"
        return "date"
    if all(v.lower() in {"true", "false"} for v in present):
        return "boolean"
    return "text"


def _convert(value: str, kind: str) -> object:
    if value == "":
        return None
    if kind == "integer":
        return int(value)
    if kind == "numeric":
        return float(value)
    if kind == "date":
        return dt.date.fromisoformat(value)
    if kind == "boolean":
        return value.lower() == "true"
    return value


def _table(cells: list[list[str]]) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]]:
    if not cells:
        raise DomainError("empty_table", _("The file has no rows."), field="upload")
    names = _column_names(cells[0])
    body = cells[1:]
    if len(body) > ROWS_MAX:
        raise DomainError("too_many_rows", _("The table has more rows than an upload may."), field="upload")
    for number, row in enumerate(body, start=2):
        if len(row) != len(names):
            raise DomainError(
                "ragged_row",
                _("Row %(row)d has %(got)d cells; the table has %(width)d columns.")
                % {"row": number, "got": len(row), "width": len(names)},
                field="upload",
            )
        for position, cell in enumerate(row):
            if _formula(cell):
                raise DomainError(
                    "formula_cell",
                    _("Row %(row)d, column %(column)s holds a formula; upload values only.")
                    % {"row": number, "column": names[position]},
                    field="upload",
                )
    kinds = [_infer([row[i] for row in body]) for i in range(len(names))]
    columns = list(zip(names, kinds, strict=True))
    rows = [tuple(_convert(cell, kind) for cell, kind in zip(row, kinds, strict=True)) for row in body]
    return columns, rows


def _csv_cells(content: bytes) -> list[list[str]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DomainError(
            "invalid_encoding",
            _("The file is not UTF-8 text (byte %(position)d); save it as CSV UTF-8 and upload it again.")
            % {"position": exc.start},
            field="upload",
        ) from None
    try:
        return [row for row in csv.reader(io.StringIO(text, newline="")) if row]
    except csv.Error as exc:
        raise DomainError(
            "invalid_csv", _("The CSV could not be read: %(error)s") % {"error": exc}, field="upload"
        ) from None


def _xlsx_cells(content: bytes) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(io.BytesIO(content), read_only=True, data_only=False)
    except (zipfile.BadZipFile, KeyError, ValueError, OSError):
        raise DomainError("invalid_xlsx", _("The file is not a readable XLSX workbook."), field="upload") from None
    sheet = book.worksheets[0]
    cells = []
    for row in sheet.iter_rows(values_only=True):
        values = ["" if v is None else v.isoformat()[:10] if isinstance(v, dt.datetime) else str(v) for v in row]
        if any(values):
            cells.append(values)
    book.close()
    return cells


def table_read(upload: Upload) -> tuple[list[tuple[str, str]], list[tuple[object, ...]]] | None:
    """The table in an uploaded CSV or XLSX file; None for any other kind of file."""
    size_check(len(upload.content))
    kind = upload.format.lower()
    if kind == "csv":
        return _table(_csv_cells(upload.content))
    if kind == "xlsx":
        return _table(_xlsx_cells(upload.content))
    return None
