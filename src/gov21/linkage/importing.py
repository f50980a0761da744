"""Reading an agency's file (CSV, XLSX or Parquet) into rows of linkage fields, with a mapping of its
columns. A file that cannot be read at all is refused with the reason; a row that cannot be read is
reported with its line and why, and never dropped silently. Cells are read as values only: a formula
in a spreadsheet is refused, never evaluated."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from django.utils.translation import gettext as _

from gov21.core import config
from gov21.core.errors import DomainError

# The linkage fields an agency's columns are mapped to; without a mapping, columns of these names.
FIELDS: tuple[str, ...] = (
    "record_id",
    "given_names",
    "surname",
    "former_surname",
    "date_of_birth",
    "sex",
    "address",
    "settlement",
    "parish",
    "mother_name",
    "father_name",
    "phone",
    "recorded_on",  # the day the agency made the record: names and addresses are compared as of it
)
FORMATS = ("csv", "xlsx", "parquet")


@dataclass(frozen=True, slots=True)
class Row:
    line: int
    values: dict[str, str]


@dataclass(frozen=True, slots=True)
class BadRow:
    line: int
    reason: str


@dataclass
class Read:
    rows: list[Row] = field(default_factory=list)
    bad: list[BadRow] = field(default_factory=list)


def mapping_load(path: Path | None) -> dict[str, str] | None:
    """The mapping file's linkage field → column, or None without one."""
    if path is None:
        return None
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise DomainError(
            "mapping_unreadable", _("The mapping file cannot be read: %(error)s") % {"error": error}, field="mapping"
        ) from None
    if isinstance(data, dict) and isinstance(data.get("columns"), dict):
        data = data["columns"]
    if not isinstance(data, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in data.items()):
        raise DomainError(
            "mapping_invalid",
            _("A mapping lists linkage fields and the agency's column for each, such as surname: LAST_NAME."),
            field="mapping",
        )
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise DomainError(
            "mapping_unknown_field",
            _("The mapping names fields linkage does not know: %(fields)s. Known fields: %(known)s.")
            % {"fields": ", ".join(unknown), "known": ", ".join(FIELDS)},
            field="mapping",
        )
    if "record_id" not in data:
        raise DomainError(
            "mapping_no_record_id",
            _("The mapping must name the column of the agency's own id (record_id)."),
            field="mapping",
        )
    return dict(data)


def _columns(header: list[str], mapping: dict[str, str] | None) -> dict[str, int]:
    """Each linkage field's position in the header; a mapped column the file lacks is refused."""
    names = [str(h or "").strip() for h in header]
    if mapping is None:
        positions = {f: names.index(f) for f in FIELDS if f in names}
        if "record_id" not in positions:
            raise DomainError(
                "no_record_id",
                _("The file has no record_id column; name the agency's id column in a mapping (--mapping)."),
                field="file",
            )
        return positions
    missing = [column for column in mapping.values() if column not in names]
    if missing:
        raise DomainError(
            "mapping_missing_column",
            _("The mapping names columns the file does not have: %(missing)s. The file's columns: %(columns)s.")
            % {"missing": ", ".join(missing), "columns": ", ".join(names)},
            field="mapping",
        )
    return {f: names.index(column) for f, column in mapping.items()}


def _format(path: Path) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise DomainError(
            "unknown_format",
            _("Send a CSV, XLSX or Parquet file; %(name)s is none of them.") % {"name": path.name},
            field="file",
        )
    return suffix


def _csv_rows(path: Path, encoding: str) -> Iterator[tuple[int, list[str]]]:
    raw = path.read_bytes()
    try:
        text = raw.decode(encoding)
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise DomainError(
            "file_encoding",
            _(
                "The file is not in %(encoding)s: line %(line)d holds bytes that are not. Save it as UTF-8, or"
                " name its encoding (such as --encoding cp1252)."
            )
            % {"encoding": encoding, "line": line},
            field="file",
        ) from None
    except LookupError:
        raise DomainError(
            "unknown_encoding", _("%(encoding)s is not an encoding.") % {"encoding": encoding}, field="encoding"
        ) from None
    reader = csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline=""))
    for row in reader:
        yield reader.line_num, row


def _xlsx_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    from openpyxl import load_workbook

    try:
        book = load_workbook(path, read_only=True, data_only=False)
    except Exception as error:
        raise DomainError(
            "file_unreadable", _("The spreadsheet cannot be read: %(error)s") % {"error": error}, field="file"
        ) from None
    sheet = book.worksheets[0]
    for number, cells in enumerate(sheet.iter_rows(), start=1):
        values = []
        for cell in cells:
            if getattr(cell, "data_type", "") == "f":
                values.append(_FORMULA)
            else:
                value = cell.value
                values.append(
                    "" if value is None else value.isoformat()[:10] if hasattr(value, "isoformat") else str(value)
                )
        yield number, values
    book.close()


def _parquet_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.ParquetFile(path)
    except (pa.ArrowException, OSError) as error:
        raise DomainError(
            "file_unreadable", _("The Parquet file cannot be read: %(error)s") % {"error": error}, field="file"
        ) from None
    yield 1, list(table.schema_arrow.names)
    number = 1
    for batch in table.iter_batches(batch_size=10000):
        for record in batch.to_pylist():
            number += 1
            yield (
                number,
                [
                    "" if v is None else v.isoformat()[:10] if hasattr(v, "isoformat") else str(v)
                    for v in record.values()
                ],
            )


# What a formula cell reads as: never a value, always an error of its row.
_FORMULA = "\x00formula"


def size_check(size: int) -> None:
    """A file larger than ``GOV21_LINKAGE_MAX_FILE_BYTES`` is refused before it is read."""
    limit = config.LINKAGE_MAX_FILE_BYTES.read()
    if size > limit:
        raise DomainError(
            "file_too_large",
            _("The file is %(size)d MB; at most %(limit)d MB is imported at once. Split it into parts.")
            % {"size": size // 2**20, "limit": limit // 2**20},
            status=413,
            field="file",
        )


def file_read(path: Path, *, mapping: dict[str, str] | None, encoding: str = "utf-8") -> Read:
    """Every row of the file as linkage fields, or the line and reason it could not be read."""
    kind = _format(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise DomainError("file_missing", _("There is no file at %(path)s.") % {"path": path}, field="file") from None
    size_check(size)
    if size == 0:
        raise DomainError("file_empty", _("The file is empty."), field="file")
    rows = _csv_rows(path, encoding) if kind == "csv" else _xlsx_rows(path) if kind == "xlsx" else _parquet_rows(path)
    header: list[str] | None = None
    positions: dict[str, int] = {}
    result = Read()
    seen: dict[str, int] = {}
    for line, cells in rows:
        if header is None:
            if not any(str(c).strip() for c in cells):
                continue
            header = [str(c) for c in cells]
            positions = _columns(header, mapping)
            continue
        if not any(str(c).strip() for c in cells):
            continue
        if len(cells) > len(header) and any(str(c).strip() for c in cells[len(header) :]):
            result.bad.append(BadRow(line, _("The row has more cells than the header has columns.")))
            continue
        formula = [header[i] for i in positions.values() if i < len(cells) and cells[i] == _FORMULA]
        if formula:
            result.bad.append(
                BadRow(line, _("The cell in column %(column)s is a formula, not a value.") % {"column": formula[0]})
            )
            continue
        values = {f: (str(cells[i]).strip() if i < len(cells) else "") for f, i in positions.items()}
        record_id = values.get("record_id", "")
        if not record_id:
            result.bad.append(BadRow(line, _("The row has no record id.")))
            continue
        if len(record_id) > 120:
            result.bad.append(BadRow(line, _("The record id is longer than 120 characters.")))
            continue
        if record_id in seen:
            result.bad.append(
                BadRow(
                    line,
                    _("The record id %(id)s is on line %(first)d already.")
                    % {"id": record_id, "first": seen[record_id]},
                )
            )
            continue
        seen[record_id] = line
        result.rows.append(Row(line, values))
    if header is None:
        raise DomainError("file_empty", _("The file has no header and no rows."), field="file")
    if not result.rows and not result.bad:
        raise DomainError("file_no_rows", _("The file has a header but no rows."), field="file")
    return result
