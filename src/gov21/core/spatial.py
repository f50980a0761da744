"""Geometry stored in the database the same way by every register: as WKB in CRS84, beside its
bounding box, so a box query reads only the rows whose box meets the window before the geometries
themselves are tested.

A register's model inherits ``SpatialRecord`` and sets its geometry with ``geometry_set``; a read
narrows a queryset with ``bbox_filter`` and then tests the exact geometries it got back
(``geometries_intersecting``), or does both at once with ``intersecting`` / ``intersecting_page``,
which push the exact test to PostGIS where it is available.

The box is indexed per database (decision 0052). Each register's migration adds
``SpatialIndex("<model>")`` after creating its model:

- on SQLite (no system library needed: R*Tree is compiled into Python's SQLite), a virtual table
  ``<table>_rtree(id, min_lon, max_lon, min_lat, max_lat)`` filled from the table and kept in step
  by three triggers (insert, update, delete);
- on PostgreSQL, the PostGIS extension, a column ``geom`` generated from the WKB
  (``ST_GeomFromWKB(geometry_wkb, 4326)``, stored) and a GiST index on it.

``bbox_filter`` uses the index when the table has it and compares the box columns otherwise, so a
table without its index (a test table, a table SQLite rebuilt in a later migration, which drops its
triggers) still gets the right rows, only more slowly.
"""

# SQL here is built from table names of the models (quoted by the database backend); every value is a
# parameter.
# ruff: noqa: S608, S611

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, Protocol, Self, TypeVar

import numpy as np
import shapely
from django.db import connections, models
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.operations.base import Operation
from django.db.migrations.state import ProjectState
from django.db.models.expressions import RawSQL
from shapely.geometry import box
from shapely.geometry.base import BaseGeometry

# The PostGIS column generated from the WKB (PostgreSQL only; Django's models do not declare it).
POSTGIS_COLUMN = "geom"
_SQLITE_TRIGGERS = ("insert", "update", "delete")


class SpatialRecord(models.Model):
    """A row with a geometry (WKB, CRS84) and the box around it (degrees)."""

    geometry_wkb = models.BinaryField()
    min_lon = models.FloatField()
    min_lat = models.FloatField()
    max_lon = models.FloatField()
    max_lat = models.FloatField()

    class Meta:
        abstract = True

    def geometry_set(self, geometry: BaseGeometry) -> Self:
        """Store ``geometry`` (already checked, e.g. by ``core.geo.geometry_check``) and its box."""
        if geometry.is_empty:
            raise ValueError("An empty geometry has no place to store.")
        self.geometry_wkb = shapely.to_wkb(geometry, hex=False)
        self.min_lon, self.min_lat, self.max_lon, self.max_lat = (float(v) for v in geometry.bounds)
        return self

    @property
    def geometry(self) -> BaseGeometry:
        return geometry_from_wkb(self.geometry_wkb)


def geometry_from_wkb(data: bytes | memoryview) -> BaseGeometry:
    """The geometry stored in a ``geometry_wkb`` column (PostgreSQL hands back a memoryview)."""
    geometry: BaseGeometry = shapely.from_wkb(bytes(data))
    return geometry


# --- the index: created by migrations, found at run time --------------------------------------------


def _rtree(table: str) -> str:
    return f"{table}_rtree"


def _sqlite_create(schema_editor: BaseDatabaseSchemaEditor, table: str, pk: str) -> list[str]:
    q = schema_editor.quote_name
    t, r = q(table), q(_rtree(table))
    box_new = 'NEW."min_lon", NEW."max_lon", NEW."min_lat", NEW."max_lat"'
    return [
        f"CREATE VIRTUAL TABLE IF NOT EXISTS {r} USING rtree(id, min_lon, max_lon, min_lat, max_lat)",
        f"DELETE FROM {r}",
        f'INSERT INTO {r} SELECT {q(pk)}, "min_lon", "max_lon", "min_lat", "max_lat" FROM {t}',
        f"CREATE TRIGGER IF NOT EXISTS {q(_rtree(table) + '_insert')} AFTER INSERT ON {t} "
        f"BEGIN INSERT INTO {r} VALUES (NEW.{q(pk)}, {box_new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {q(_rtree(table) + '_update')} "
        f'AFTER UPDATE OF {q(pk)}, "min_lon", "max_lon", "min_lat", "max_lat" ON {t} '
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{q(pk)}; INSERT INTO {r} VALUES (NEW.{q(pk)}, {box_new}); END",
        f"CREATE TRIGGER IF NOT EXISTS {q(_rtree(table) + '_delete')} AFTER DELETE ON {t} "
        f"BEGIN DELETE FROM {r} WHERE id = OLD.{q(pk)}; END",
    ]


def _sqlite_drop(schema_editor: BaseDatabaseSchemaEditor, table: str) -> list[str]:
    q = schema_editor.quote_name
    return [f"DROP TRIGGER IF EXISTS {q(_rtree(table) + '_' + kind)}" for kind in _SQLITE_TRIGGERS] + [
        f"DROP TABLE IF EXISTS {q(_rtree(table))}"
    ]


def _postgis_create(schema_editor: BaseDatabaseSchemaEditor, table: str) -> list[str]:
    q = schema_editor.quote_name
    return [
        "CREATE EXTENSION IF NOT EXISTS postgis",
        f"ALTER TABLE {q(table)} ADD COLUMN IF NOT EXISTS {q(POSTGIS_COLUMN)} geometry(Geometry, 4326) "
        f'GENERATED ALWAYS AS (ST_GeomFromWKB("geometry_wkb", 4326)) STORED',
        f"CREATE INDEX IF NOT EXISTS {q(table + '_geom_gist')} ON {q(table)} USING gist ({q(POSTGIS_COLUMN)})",
    ]


def _postgis_drop(schema_editor: BaseDatabaseSchemaEditor, table: str) -> list[str]:
    q = schema_editor.quote_name
    return [
        f"DROP INDEX IF EXISTS {q(table + '_geom_gist')}",
        f"ALTER TABLE {q(table)} DROP COLUMN IF EXISTS {q(POSTGIS_COLUMN)}",
    ]


def spatial_index_create(schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model]) -> None:
    """Index the box of ``model``'s table on the schema editor's database (idempotent: running it
    again, e.g. after SQLite rebuilt the table in a later migration, restores the triggers and
    refills the R*Tree)."""
    table, pk = model._meta.db_table, model._meta.pk
    vendor = schema_editor.connection.vendor
    if vendor == "sqlite":
        if pk is None or pk.get_internal_type() not in {"AutoField", "BigAutoField", "IntegerField", "BigIntegerField"}:
            raise ValueError(f"The R*Tree keys {table} by its primary key, which must be an integer.")
        statements = _sqlite_create(schema_editor, table, pk.column)
    elif vendor == "postgresql":
        statements = _postgis_create(schema_editor, table)
    else:
        statements = []  # another database: bbox_filter compares the box columns
    for statement in statements:
        schema_editor.execute(statement, params=None)
    spatial_index_forget()


def spatial_index_drop(schema_editor: BaseDatabaseSchemaEditor, model: type[models.Model]) -> None:
    """Remove what ``spatial_index_create`` made (``bbox_filter`` then compares the box columns)."""
    table = model._meta.db_table
    vendor = schema_editor.connection.vendor
    statements = {"sqlite": _sqlite_drop, "postgresql": _postgis_drop}.get(vendor)
    for statement in statements(schema_editor, table) if statements else []:
        schema_editor.execute(statement, params=None)
    spatial_index_forget()


class SpatialIndex(Operation):
    """A migration operation indexing a ``SpatialRecord`` model's box, the right way for the database
    the migration runs on: ``migrations.CreateModel(name="Parcel", ...)``, then
    ``SpatialIndex("parcel")``. Reversible."""

    reduces_to_sql = True
    reversible = True

    def __init__(self, model_name: str) -> None:
        self.model_name = model_name

    def deconstruct(self) -> tuple[str, list[Any], dict[str, Any]]:
        return (self.__class__.__name__, [self.model_name], {})

    def state_forwards(self, app_label: str, state: ProjectState) -> None:
        pass  # the index is no part of the model's state

    def database_forwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = to_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            spatial_index_create(schema_editor, model)

    def database_backwards(
        self, app_label: str, schema_editor: BaseDatabaseSchemaEditor, from_state: ProjectState, to_state: ProjectState
    ) -> None:
        model = from_state.apps.get_model(app_label, self.model_name)
        if self.allow_migrate_model(schema_editor.connection.alias, model):
            spatial_index_drop(schema_editor, model)

    def describe(self) -> str:
        return f"Spatial index on {self.model_name}"

    @property
    def migration_name_fragment(self) -> str:
        return f"{self.model_name.lower()}_spatial_index"


_INDEXED: dict[tuple[str, str], bool] = {}


def spatial_index_forget() -> None:
    """Forget which tables were found indexed (after the schema changed)."""
    _INDEXED.clear()


def _index_present(connection: BaseDatabaseWrapper, table: str) -> bool:
    key = (connection.alias, table)
    found = _INDEXED.get(key)
    if found is None:
        with connection.cursor() as cursor:
            if connection.vendor == "sqlite":
                names = [_rtree(table)] + [f"{_rtree(table)}_{kind}" for kind in _SQLITE_TRIGGERS]
                cursor.execute(
                    "SELECT count(*) FROM sqlite_master WHERE (type = 'table' AND name = %s)"
                    " OR (type = 'trigger' AND tbl_name = %s AND name IN (%s, %s, %s))",
                    [names[0], table, *names[1:]],
                )
                found = cursor.fetchone()[0] == 4
            elif connection.vendor == "postgresql":
                cursor.execute(
                    "SELECT count(*) FROM information_schema.columns"
                    " WHERE table_schema = current_schema() AND table_name = %s AND column_name = %s",
                    [table, POSTGIS_COLUMN],
                )
                found = cursor.fetchone()[0] == 1
            else:
                found = False
        _INDEXED[key] = found
    return found


def spatial_index_present(model: type[models.Model], using: str = "default") -> bool:
    """Whether ``model``'s table carries the index ``SpatialIndex`` creates, on database ``using``."""
    return _index_present(connections[using], model._meta.db_table)


# --- reading -----------------------------------------------------------------------------------------

_Q = TypeVar("_Q", bound="models.QuerySet[Any]")
Window = BaseGeometry | tuple[float, float, float, float]


def _bounds(window: Window) -> tuple[float, float, float, float]:
    if isinstance(window, tuple):
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in window)
    else:
        min_lon, min_lat, max_lon, max_lat = (float(v) for v in window.bounds)
    return min_lon, min_lat, max_lon, max_lat


def bbox_filter(queryset: _Q, window: Window) -> _Q:
    """The rows of ``queryset`` whose box meets ``window`` (a geometry, or a box as
    (min_lon, min_lat, max_lon, max_lat)), in CRS84. A box that meets the window does not make the
    geometry meet it: test the geometries after (``geometries_intersecting``), or use
    ``intersecting``. Uses the table's spatial index when it has one."""
    min_lon, min_lat, max_lon, max_lat = _bounds(window)
    if isinstance(window, BaseGeometry) and window.is_empty:
        return queryset.none()
    # The columns decide exactly (the indexes hold boxes rounded outwards to 32-bit floats).
    exact = queryset.filter(max_lon__gte=min_lon, min_lon__lte=max_lon, max_lat__gte=min_lat, min_lat__lte=max_lat)
    connection = connections[queryset.db]
    table = queryset.model._meta.db_table
    if not _index_present(connection, table):
        return exact
    q = connection.ops.quote_name
    if connection.vendor == "sqlite":
        candidates = RawSQL(
            f"SELECT id FROM {q(_rtree(table))}"
            " WHERE max_lon >= %s AND min_lon <= %s AND max_lat >= %s AND min_lat <= %s",
            (min_lon, max_lon, min_lat, max_lat),
        )
        return exact.filter(pk__in=candidates)
    envelope = RawSQL(
        f"{q(table)}.{q(POSTGIS_COLUMN)} && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
        (min_lon, min_lat, max_lon, max_lat),
        output_field=models.BooleanField(),
    )
    return exact.filter(envelope)


def _postgis_intersecting(queryset: _Q, window: BaseGeometry) -> _Q | None:
    """``queryset`` narrowed to the rows whose geometry meets ``window``, tested by PostGIS; None when
    the database cannot (SQLite, or a table without the PostGIS column)."""
    connection = connections[queryset.db]
    table = queryset.model._meta.db_table
    if connection.vendor != "postgresql" or not _index_present(connection, table):
        return None
    q = connection.ops.quote_name
    test = RawSQL(
        f"ST_Intersects({q(table)}.{q(POSTGIS_COLUMN)}, ST_GeomFromWKB(%s, 4326))",
        (shapely.to_wkb(window, hex=False),),
        output_field=models.BooleanField(),
    )
    return bbox_filter(queryset, window).filter(test)


def _as_geometry(window: Window) -> BaseGeometry:
    return box(*window) if isinstance(window, tuple) else window


_M = TypeVar("_M", bound=SpatialRecord)


def intersecting(queryset: models.QuerySet[_M], window: Window) -> Iterator[_M]:
    """The records of ``queryset`` (in its order) whose geometry meets ``window``: PostGIS tests them
    where the table has its PostGIS column; elsewhere the index narrows them by box and shapely tests
    each geometry."""
    geometry = _as_geometry(window)
    if geometry.is_empty:
        return iter(())
    pushed = _postgis_intersecting(queryset, geometry)
    if pushed is not None:
        return iter(pushed)
    return geometries_intersecting(bbox_filter(queryset, geometry).iterator(), geometry)


def intersecting_page(
    queryset: models.QuerySet[_M], window: Window, *, offset: int, limit: int
) -> tuple[list[_M], int]:
    """A page of the records ``intersecting`` gives (``offset``, ``limit``, in the queryset's order)
    and how many there are in all. Without PostGIS, only the ids and geometries of the candidates are
    read to test them; the page's rows are then read by id."""
    geometry = _as_geometry(window)
    if geometry.is_empty:
        return [], 0
    pushed = _postgis_intersecting(queryset, geometry)
    if pushed is not None:
        return list(pushed[offset : offset + limit]), pushed.count()
    shapely.prepare(geometry)
    candidates = bbox_filter(queryset, geometry).values_list("pk", "geometry_wkb")
    hits = [pk for pk, wkb in candidates.iterator() if geometry.intersects(geometry_from_wkb(wkb))]
    page = hits[offset : offset + limit]
    rows = {row.pk: row for row in queryset.filter(pk__in=page)}
    return [rows[pk] for pk in page if pk in rows], len(hits)


class _HasGeometry(Protocol):
    @property
    def geometry(self) -> BaseGeometry: ...


_R = TypeVar("_R", bound=_HasGeometry)


def geometries_intersecting(records: Iterable[_R], window: BaseGeometry) -> Iterator[_R]:
    """The records whose geometry meets ``window``, tested with a prepared window."""
    shapely.prepare(window)
    for record in records:
        if window.intersects(record.geometry):
            yield record


_T = TypeVar("_T", bound=tuple[Any, ...])


def rows_intersecting(rows: Sequence[_T], window: BaseGeometry, *, wkb_at: int) -> list[tuple[_T, BaseGeometry]]:
    """The rows (tuples read with ``values_list`` after ``bbox_filter``, each holding its WKB at
    position ``wkb_at``) whose geometry meets ``window``, each with its geometry. The WKB is parsed and
    tested in one vectorised call each, rather than a model instance and a test per row: a large
    register whose box query returns thousands of rows answers in tens of milliseconds, not seconds."""
    if not rows:
        return []
    geometries = shapely.from_wkb([bytes(row[wkb_at]) for row in rows])
    shapely.prepare(window)
    hits = np.flatnonzero(shapely.intersects(window, geometries))
    return [(rows[i], geometries[i]) for i in hits.tolist()]
