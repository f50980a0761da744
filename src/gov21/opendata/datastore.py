"""The datastore: tabular resources as tables of one embedded DuckDB file under the data directory.

A resource's rows are read by its id, as in CKAN (``SELECT ... FROM "<resource id>"``). A table that
is published in versions keeps each release as a table of its own (``"<resource id>@<n>"``, never
changed again) and its id names a view over the latest one. A table created through the Action API
(``datastore_create``) is a plain table under the resource id.

The file is opened for each piece of work and closed after it, under a lock, so that the locked-down
read-only connection of the SQL sandbox (``sql_run``) never shares a database instance with a
writer. Another process that holds the file is waited for (DuckDB allows one writing process).
"""

from __future__ import annotations

import datetime as dt
import re
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import duckdb
from django.conf import settings
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError

DIRECTORY: Final = "opendata/datastore"
FILE: Final = "datastore.duckdb"
# The platform's column types (the contract's) and DuckDB's and CKAN's names for each.
DUCKDB_TYPES: Final = {
    "text": "VARCHAR",
    "integer": "BIGINT",
    "numeric": "DOUBLE",
    "date": "DATE",
    "timestamp": "TIMESTAMP",
    "boolean": "BOOLEAN",
}
CKAN_TYPES: Final = {
    "text": "text",
    "integer": "int",
    "numeric": "numeric",
    "date": "date",
    "timestamp": "timestamp",
    "boolean": "bool",
}
FROM_CKAN: Final = {
    "text": "text",
    "int": "integer",
    "int4": "integer",
    "int8": "integer",
    "integer": "integer",
    "bigint": "integer",
    "numeric": "numeric",
    "float": "numeric",
    "float8": "numeric",
    "double": "numeric",
    "date": "date",
    "timestamp": "timestamp",
    "bool": "boolean",
    "boolean": "boolean",
}
COLUMN_NAME: Final = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_RESOURCE_ID: Final = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
_LOCK = threading.RLock()
# What the SQL sandbox's connection may not do, set when it opens and locked for its lifetime.
_SANDBOX: Final = {
    "enable_external_access": False,
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
    "allow_community_extensions": False,
    "allow_unsigned_extensions": False,
    "lock_configuration": True,
}
_OPEN_WAIT_S: Final = 10.0


def path() -> Path:
    return Path(settings.DATA_DIR) / DIRECTORY / FILE


def quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def version_table(resource_id: str, number: int) -> str:
    return f"{resource_id}@{number}"


def _connect(*, read_only: bool) -> duckdb.DuckDBPyConnection:
    file = path()
    if not file.exists():
        file.parent.mkdir(parents=True, exist_ok=True)
        duckdb.connect(str(file)).close()
    config: dict[str, Any] = dict(_SANDBOX) if read_only else {"autoinstall_known_extensions": False}
    deadline = time.monotonic() + _OPEN_WAIT_S
    while True:
        try:
            return duckdb.connect(str(file), read_only=read_only, config=config)
        except duckdb.IOException:
            # Another process holds the file for writing: wait for it, briefly.
            if time.monotonic() > deadline:
                raise DomainError(
                    "datastore_busy", _("The datastore is busy; try again in a moment."), status=503
                ) from None
            time.sleep(0.05)


@contextmanager
def connection(*, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
    with _LOCK:
        con = _connect(read_only=read_only)
        try:
            yield con
        finally:
            con.close()


def _value(value: object, kind: str) -> object:
    """A cell as the column's type holds it; a DomainError naming the column for anything else."""
    if value is None:
        return None
    ok = {
        "text": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "numeric": isinstance(value, int | float | Decimal) and not isinstance(value, bool),
        "date": isinstance(value, dt.date) and not isinstance(value, dt.datetime),
        "timestamp": isinstance(value, dt.datetime),
        "boolean": isinstance(value, bool),
    }[kind]
    if not ok:
        raise ValueError(kind)
    return float(value) if isinstance(value, Decimal) else value


def rows_check(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[object]]) -> list[tuple[object, ...]]:
    """The rows, each checked against the columns (count and type of every cell)."""
    checked = []
    width = len(columns)
    for number, row in enumerate(rows, start=1):
        if len(row) != width:
            raise DomainError(
                "ragged_row",
                _("Row %(row)d has %(got)d cells; the table has %(width)d columns.")
                % {"row": number, "got": len(row), "width": width},
                field="rows",
            )
        try:
            checked.append(tuple(_value(cell, kind) for cell, (_name, kind) in zip(row, columns, strict=True)))
        except ValueError:
            bad = next(i for i, (cell, (_n, k)) in enumerate(zip(row, columns, strict=True)) if _bad(cell, k))
            raise DomainError(
                "invalid_cell",
                _("Row %(row)d: the value of %(column)s is not of type %(type)s.")
                % {"row": number, "column": columns[bad][0], "type": columns[bad][1]},
                field="rows",
            ) from None
    return checked


def _bad(cell: object, kind: str) -> bool:
    try:
        _value(cell, kind)
    except ValueError:
        return True
    return False


def table_write(*, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[object, ...]]) -> None:
    """A new table ``table`` holding ``rows`` (all or nothing)."""
    ddl = ", ".join(f"{quote(name)} {DUCKDB_TYPES[kind]}" for name, kind in columns)
    marks = ", ".join("?" for _ in columns)
    with connection() as con:
        con.execute("BEGIN")
        try:
            con.execute(f"CREATE TABLE {quote(table)} (_id BIGINT, {ddl})")
            if rows:
                con.executemany(
                    f"INSERT INTO {quote(table)} VALUES (?, {marks})",  # noqa: S608 - quoted names
                    [(i, *row) for i, row in enumerate(rows, start=1)],
                )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def table_drop(table: str) -> None:
    with connection() as con:
        con.execute(f"DROP TABLE IF EXISTS {quote(table)}")


def view_point(*, name: str, table: str) -> None:
    """``name`` reads ``table`` from now on (the latest release of a published table)."""
    with connection() as con:
        con.execute(f"CREATE OR REPLACE VIEW {quote(name)} AS SELECT * FROM {quote(table)}")  # noqa: S608


def view_restore(*, name: str, table: str) -> None:
    """Put back the view ``name`` as it was: over ``table``, or none at all."""
    with connection() as con:
        if table:
            con.execute(f"CREATE OR REPLACE VIEW {quote(name)} AS SELECT * FROM {quote(table)}")  # noqa: S608
        else:
            con.execute(f"DROP VIEW IF EXISTS {quote(name)}")


def table_rows(table: str, columns: Sequence[str]) -> list[tuple[object, ...]]:
    names = ", ".join(quote(c) for c in columns)
    with connection(read_only=True) as con:
        return con.execute(f"SELECT {names} FROM {quote(table)} ORDER BY _id").fetchall()  # noqa: S608


def _sql_check(sql: str) -> str:
    if len(sql) > 20_000:
        raise DomainError("sql_too_long", _("The query is longer than 20,000 characters."), field="sql")
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as exc:
        raise DomainError(
            "invalid_sql", _("The query could not be read: %(error)s") % {"error": exc}, field="sql"
        ) from None
    if len(statements) != 1:
        raise DomainError("invalid_sql", _("Send exactly one SELECT statement."), field="sql")
    if statements[0].type != duckdb.StatementType.SELECT:
        raise DomainError(
            "sql_not_allowed", _("Only a SELECT statement may run here; the datastore is read-only."), field="sql"
        )
    return statements[0].query.strip().rstrip(";")


def sql_run(sql: str, *, limit: int, timeout_s: float) -> tuple[list[str], list[tuple[object, ...]], bool]:
    """One SELECT statement over the datastore's tables, on a read-only connection without access to
    files, the network or extensions: its column names, at most ``limit`` rows, and whether more were
    cut. A query still running after ``timeout_s`` is stopped."""
    query = _sql_check(sql)
    with connection(read_only=True) as con:
        timer = threading.Timer(timeout_s, con.interrupt)
        timer.start()
        try:
            cursor = con.execute(query)
            names = [d[0] for d in cursor.description or []]
            rows = cursor.fetchmany(limit + 1)
        except duckdb.InterruptException:
            raise DomainError(
                "sql_timeout",
                _("The query ran past its time limit of %(seconds)s seconds.") % {"seconds": timeout_s},
                status=409,
                field="sql",
            ) from None
        except duckdb.PermissionException:
            raise DomainError(
                "sql_not_allowed", _("The query reaches outside the datastore, which is not allowed."), field="sql"
            ) from None
        except duckdb.Error as exc:
            raise DomainError("invalid_sql", _("The query failed: %(error)s") % {"error": exc}, field="sql") from None
        finally:
            timer.cancel()
    return names, rows[:limit], len(rows) > limit


def resource_id_check(value: str) -> str:
    if not _RESOURCE_ID.fullmatch(value):
        raise DomainError("not_found", _("No such resource."), status=404, field="resource_id")
    return value


def search(
    *,
    table: str,
    columns: Sequence[tuple[str, str]],
    filters: dict[str, Any],
    q: str,
    sort: Sequence[tuple[str, bool]],
    limit: int,
    offset: int,
    fields: Sequence[str],
) -> tuple[int, list[tuple[object, ...]]]:
    """The rows of ``table`` that match ``filters`` (column = value, or one of a list) and the text
    ``q`` (in any text column, case-insensitive), sorted, one page of them, and how many match."""
    known = {name for name, _kind in columns} | {"_id"}
    where: list[str] = []
    params: list[object] = []
    for name, value in filters.items():
        if name not in known:
            raise DomainError("invalid_filter", _("There is no column %(name)s.") % {"name": name}, field="filters")
        values = value if isinstance(value, list) else [value]
        where.append(f"CAST({quote(name)} AS VARCHAR) IN ({', '.join('?' for _ in values)})")
        params.extend(str(v) for v in values)
    text_columns = [name for name, kind in columns if kind == "text"]
    if q and text_columns:
        where.append("(" + " OR ".join(f"{quote(c)} ILIKE ?" for c in text_columns) + ")")
        escaped = q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.extend(f"%{escaped}%" for _ in text_columns)
    elif q:
        where.append("FALSE")
    for name, _desc in sort:
        if name not in known:
            raise DomainError("invalid_sort", _("There is no column %(name)s.") % {"name": name}, field="sort")
    for name in fields:
        if name not in known:
            raise DomainError("invalid_field", _("There is no column %(name)s.") % {"name": name}, field="fields")
    clause = (" WHERE " + " AND ".join(where)) if where else ""
    order = ", ".join(f"{quote(n)} {'DESC' if desc else 'ASC'}" for n, desc in sort) or "_id"
    chosen = ", ".join(quote(f) for f in fields)
    with connection(read_only=True) as con:
        total_row = con.execute(f"SELECT count(*) FROM {quote(table)}{clause}", params).fetchone()  # noqa: S608
        rows = con.execute(
            f"SELECT {chosen} FROM {quote(table)}{clause} ORDER BY {order}, _id LIMIT ? OFFSET ?",  # noqa: S608
            [*params, limit, offset],
        ).fetchall()
    return int(total_row[0]) if total_row else 0, rows


def table_columns(table: str) -> list[tuple[str, str]]:
    """A plain table's columns (name, DuckDB type), without ``_id``."""
    with connection(read_only=True) as con:
        found = con.execute(
            "SELECT column_name, data_type FROM information_schema.columns"
            " WHERE table_name = ? ORDER BY ordinal_position",
            [table],
        ).fetchall()
    return [(str(n), str(t)) for n, t in found if n != "_id"]


def rows_insert(*, table: str, columns: Sequence[tuple[str, str]], rows: Sequence[tuple[object, ...]]) -> None:
    """Append ``rows`` to a plain table (all or nothing), numbering them after the last."""
    marks = ", ".join("?" for _ in columns)
    names = ", ".join(quote(n) for n, _k in columns)
    with connection() as con:
        con.execute("BEGIN")
        try:
            last = con.execute(f"SELECT coalesce(max(_id), 0) FROM {quote(table)}").fetchone()  # noqa: S608
            start = int(last[0]) + 1 if last else 1
            con.executemany(
                f"INSERT INTO {quote(table)} (_id, {names}) VALUES (?, {marks})",  # noqa: S608
                [(start + i, *row) for i, row in enumerate(rows)],
            )
            con.execute("COMMIT")
        except Exception:
            con.execute("ROLLBACK")
            raise


def rows_delete(*, table: str, filters: dict[str, Any], known: set[str]) -> int:
    where: list[str] = []
    params: list[object] = []
    for name, value in filters.items():
        if name not in known:
            raise DomainError("invalid_filter", _("There is no column %(name)s.") % {"name": name}, field="filters")
        where.append(f"CAST({quote(name)} AS VARCHAR) = ?")
        params.append(str(value))
    with connection() as con:
        if not where:
            con.execute(f"DROP TABLE IF EXISTS {quote(table)}")
            return 0
        before = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()  # noqa: S608
        con.execute(f"DELETE FROM {quote(table)} WHERE {' AND '.join(where)}", params)  # noqa: S608
        after = con.execute(f"SELECT count(*) FROM {quote(table)}").fetchone()  # noqa: S608
    return int(before[0]) - int(after[0]) if before and after else 0
