"""Agencies' files: the formats, the mapping, and each kind of bad input refused or reported."""

from __future__ import annotations

import io
import os
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from django.core.management import CommandError, call_command
from openpyxl import Workbook

from gov21.core.errors import DomainError
from gov21.linkage import services
from gov21.linkage.models import Record, RowError
from tests.linkage.helpers import write_csv

pytestmark = pytest.mark.django_db


def _import(path: Path, **kwargs: object) -> services.ImportReport:
    return services.records_import(source="tax", agency="BRA", path=path, **kwargs)  # type: ignore[arg-type]


def test_a_mapping_names_the_agencys_columns_and_unreadable_rows_are_reported_with_line_and_reason(
    tmp_path: Path,
) -> None:
    header = ["TIN", "FIRST", "LAST", "DOB", "JUNK"]
    rows = [
        ["T1", "Ruth", "Charles", "04/03/1990", "x"],
        ["", "No", "Id", "1990-01-01", ""],
        ["T3", "Bad", "Date", "31/31/1990", ""],
        ["T1", "Again", "Same", "1990-01-01", ""],
        ["T5", "Too", "Many", "1990-01-01", "", "extra"],
        ["T6", "José", "Pérez", "1 July 1960", ""],
    ]
    mapping = tmp_path / "map.yml"
    mapping.write_text("columns:\n  record_id: TIN\n  given_names: FIRST\n  surname: LAST\n  date_of_birth: DOB\n")
    report = _import(write_csv(tmp_path / "t.csv", rows, header), mapping=mapping)
    assert report.imported == 2
    assert [(b.line, b.reason) for b in report.bad] == [
        (3, "The row has no record id."),
        (4, "The date of birth 31/31/1990 is not a date."),
        (5, "The record id T1 is on line 2 already."),
        (6, "The row has more cells than the header has columns."),
    ]
    assert RowError.objects.filter(source__code="tax").count() == 4
    jose = Record.objects.get(record_id="T6")
    assert (jose.given, jose.surname, jose.raw["given_names"]) == ("joseph", "perez", "José")


def test_a_mapping_that_names_a_missing_column_is_refused_and_nothing_is_imported(tmp_path: Path) -> None:
    mapping = tmp_path / "map.yml"
    mapping.write_text("record_id: TIN\nsurname: FAMILY\n")
    with pytest.raises(DomainError) as refused:
        _import(write_csv(tmp_path / "t.csv", [["T1", "X"]], ["TIN", "LAST"]), mapping=mapping)
    assert refused.value.code == "mapping_missing_column" and "FAMILY" in refused.value.detail
    assert not Record.objects.exists()
    mapping.write_text("record_id: TIN\nshoe_size: SIZE\n")
    with pytest.raises(DomainError, match="shoe_size"):
        _import(tmp_path / "t.csv", mapping=mapping)


def test_a_file_in_the_wrong_encoding_is_refused_with_the_line_and_read_when_named(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "latin.csv",
        [["L1", "Zoé", "Lefèvre", "1990-01-01"]],
        ["record_id", "given_names", "surname", "date_of_birth"],
        encoding="cp1252",
    )
    with pytest.raises(DomainError) as refused:
        _import(path)
    assert refused.value.code == "file_encoding" and "line 2" in refused.value.detail
    assert not Record.objects.exists()
    assert _import(path, encoding="cp1252").imported == 1
    assert Record.objects.get().surname == "lefevre"


def test_an_empty_file_and_a_header_alone_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    with pytest.raises(DomainError) as refused:
        _import(empty)
    assert refused.value.code == "file_empty"
    with pytest.raises(DomainError) as header_only:
        _import(write_csv(tmp_path / "h.csv", []))
    assert header_only.value.code == "file_no_rows"


def test_a_5_gb_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    huge = tmp_path / "huge.csv"
    with huge.open("wb") as out:
        out.truncate(5 * 2**30)  # sparse: no disk is used
    with pytest.raises(DomainError) as refused:
        _import(huge)
    assert refused.value.status == 413 and "5120 MB" in refused.value.detail
    os.unlink(huge)


def test_formula_cells_in_a_spreadsheet_are_reported_never_evaluated(tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["record_id", "given_names", "surname", "date_of_birth"])
    sheet.append(["X1", "Ruth", "Charles", "1990-03-04"])
    sheet.append(["X2", '=HYPERLINK("http://example.invalid","x")', "Evil", "1990-01-01"])
    sheet.append(["X3", "Jon", "Baptiste", "1988-06-06"])
    path = tmp_path / "clinic.xlsx"
    book.save(path)
    report = _import(path)
    assert report.imported == 2
    assert [(b.line, b.reason) for b in report.bad] == [
        (3, "The cell in column given_names is a formula, not a value.")
    ]


def test_parquet_is_read_and_the_command_reports_rows_not_read(tmp_path: Path) -> None:
    table = pa.table(
        {"record_id": ["P1", "P2"], "surname": ["Charles", "Henry"], "date_of_birth": ["1990-03-04", "never"]}
    )
    pq.write_table(table, tmp_path / "p.parquet")
    out = io.StringIO()
    call_command("linkage", "import", "tax", str(tmp_path / "p.parquet"), "--agency", "BRA", stdout=out)
    assert "1 records imported" in out.getvalue() and "line 3: The date of birth never is not a date." in out.getvalue()
    with pytest.raises(CommandError, match="CSV, XLSX or Parquet"):
        call_command("linkage", "import", "tax", str(tmp_path / "p.txt"), "--agency", "BRA")
    with pytest.raises(CommandError, match="belongs to BRA"):
        call_command("linkage", "import", "tax", str(tmp_path / "p.parquet"), "--agency", "MSD")


def test_reimporting_a_record_replaces_it_and_keeps_one_row(tmp_path: Path) -> None:
    write_csv(tmp_path / "a.csv", [["A1", "Ruth", "Charles", "1990-03-04", "F", "", "", ""]])
    _import(tmp_path / "a.csv")
    write_csv(tmp_path / "a.csv", [["A1", "Ruth", "Baptiste", "1990-03-04", "F", "", "", ""]])
    report = _import(tmp_path / "a.csv")
    assert (report.imported, report.updated) == (0, 1)
    assert list(Record.objects.values_list("surname", flat=True)) == ["baptiste"]
