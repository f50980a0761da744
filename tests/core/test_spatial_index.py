"""The spatial index behind ``bbox_filter``, on a real table of a throwaway model: an R*Tree kept in
step by triggers on SQLite, a generated PostGIS column with a GiST index on PostgreSQL, and the plain
box columns for a table without its index. Each must give exactly the rows whose box meets the window."""

from __future__ import annotations

import random
from collections.abc import Iterator

import pytest
import shapely
from django.apps.registry import Apps
from django.db import connection, models
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from shapely.geometry import Point, box

from gov21.core.spatial import (
    SpatialIndex,
    SpatialRecord,
    bbox_filter,
    geometries_intersecting,
    intersecting,
    intersecting_page,
    spatial_index_create,
    spatial_index_drop,
    spatial_index_forget,
    spatial_index_present,
)

pytestmark = pytest.mark.django_db(transaction=True)
_APPS = Apps()


class Plot(SpatialRecord):
    """A parcel-like test model: a name and a geometry."""

    name = models.CharField(max_length=40)

    class Meta:
        app_label = "spatial_test"
        db_table = "spatial_test_plot"
        apps = _APPS


@pytest.fixture
def table() -> Iterator[None]:
    with connection.schema_editor() as editor:
        editor.create_model(Plot)
    yield
    with connection.schema_editor() as editor:
        spatial_index_drop(editor, Plot)
        editor.delete_model(Plot)


@pytest.fixture
def indexed(table: None) -> Iterator[None]:
    with connection.schema_editor() as editor:
        spatial_index_create(editor, Plot)
    assert spatial_index_present(Plot)
    yield


def _plot(name: str, geometry: shapely.Geometry) -> Plot:
    return Plot(name=name).geometry_set(geometry)


def _names(queryset: models.QuerySet[Plot]) -> set[str]:
    return set(queryset.values_list("name", flat=True))


def _index_rows() -> int | None:
    """How many rows the database's own index holds (None where the index is not a table)."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute('SELECT count(*) FROM "spatial_test_plot_rtree"')
        else:
            cursor.execute('SELECT count(*) FROM "spatial_test_plot" WHERE "geom" IS NOT NULL')
        return int(cursor.fetchone()[0])


def test_the_index_is_filled_from_rows_already_there(table: None) -> None:
    Plot.objects.bulk_create([_plot("a", box(0, 0, 1, 1)), _plot("b", box(5, 5, 6, 6))])
    assert not spatial_index_present(Plot)
    with connection.schema_editor() as editor:
        spatial_index_create(editor, Plot)
    assert spatial_index_present(Plot) and _index_rows() == 2
    assert _names(bbox_filter(Plot.objects.all(), (0.5, 0.5, 2, 2))) == {"a"}


def test_the_query_uses_the_index(indexed: None) -> None:
    sql = str(bbox_filter(Plot.objects.all(), (0, 0, 1, 1)).query)
    assert ("spatial_test_plot_rtree" if connection.vendor == "sqlite" else "&& ST_MakeEnvelope") in sql


def test_rows_outside_the_window_are_not_returned(indexed: None) -> None:
    Plot.objects.bulk_create(
        [
            _plot("inside", box(0, 0, 1, 1)),
            _plot("touching", box(1, 1, 2, 2)),
            _plot("west", box(-3, 0, -2, 1)),
            _plot("north", box(0, 3, 1, 4)),
            _plot("point", Point(0.5, 0.5)),
        ]
    )
    assert _names(bbox_filter(Plot.objects.all(), (0, 0, 1, 1))) == {"inside", "touching", "point"}
    assert _names(bbox_filter(Plot.objects.all(), box(-10, -10, -5, -5))) == set()
    assert _names(bbox_filter(Plot.objects.filter(name="point"), (0, 0, 1, 1))) == {"point"}


def test_triggers_follow_updates_and_deletes(indexed: None) -> None:
    plot = _plot("moving", box(0, 0, 1, 1))
    plot.save()
    assert _names(bbox_filter(Plot.objects.all(), (0, 0, 1, 1))) == {"moving"}
    plot.geometry_set(box(10, 10, 11, 11)).save()
    assert _names(bbox_filter(Plot.objects.all(), (0, 0, 1, 1))) == set()
    assert _names(bbox_filter(Plot.objects.all(), (10.5, 10.5, 20, 20))) == {"moving"}
    moved = _plot("moved", box(-1, 0, -0.5, 1))  # an UPDATE statement, not a save
    Plot.objects.filter(pk=plot.pk).update(
        geometry_wkb=moved.geometry_wkb, min_lon=-1, max_lon=-0.5, min_lat=0, max_lat=1
    )
    assert _names(bbox_filter(Plot.objects.all(), (-0.9, 0.2, -0.8, 0.3))) == {"moving"}
    assert _index_rows() == 1
    plot.delete()
    assert _names(bbox_filter(Plot.objects.all(), (-180, -90, 180, 90))) == set()
    assert _index_rows() == 0


def test_a_table_without_its_index_gets_the_same_rows(table: None) -> None:
    Plot.objects.bulk_create([_plot("a", box(0, 0, 1, 1)), _plot("b", box(5, 5, 6, 6))])
    assert not spatial_index_present(Plot)
    assert "rtree" not in str(bbox_filter(Plot.objects.all(), (0, 0, 1, 1)).query)
    assert _names(bbox_filter(Plot.objects.all(), (0, 0, 1, 1))) == {"a"}


def test_a_rebuilt_table_that_lost_its_triggers_falls_back_to_the_columns(indexed: None) -> None:
    if connection.vendor != "sqlite":
        pytest.skip("only SQLite rebuilds tables and drops their triggers")
    plot = _plot("p", box(0, 0, 1, 1))
    plot.save()
    old_field = Plot._meta.get_field("name")
    new_field = models.CharField(max_length=80)
    new_field.set_attributes_from_name("name")
    with connection.schema_editor() as editor:
        editor.alter_field(Plot, old_field, new_field)  # SQLite copies the table into a new one
    spatial_index_forget()  # as after every migration
    assert not spatial_index_present(Plot)
    plot.geometry_set(box(3, 3, 4, 4)).save()  # no trigger: the R*Tree still says 0..1
    assert _names(bbox_filter(Plot.objects.all(), (3, 3, 4, 4))) == {"p"}
    assert _names(bbox_filter(Plot.objects.all(), (0, 0, 1, 1))) == set()
    with connection.schema_editor() as editor:
        spatial_index_create(editor, Plot)  # SpatialIndex again, after the rebuild
    assert spatial_index_present(Plot) and _index_rows() == 1
    assert _names(bbox_filter(Plot.objects.all(), (3, 3, 4, 4))) == {"p"}


def test_exact_intersection_is_pushed_down_or_done_with_shapely(indexed: None) -> None:
    # An L-shaped parcel whose box meets the window while the parcel itself does not.
    corner = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 3), (0, 3)])
    Plot.objects.bulk_create([_plot("corner", corner), _plot("square", box(2, 2, 2.5, 2.5))])
    window = box(1.5, 1.5, 2.8, 2.8)
    assert _names(bbox_filter(Plot.objects.all(), window)) == {"corner", "square"}
    assert [p.name for p in intersecting(Plot.objects.order_by("name"), window)] == ["square"]
    page, total = intersecting_page(Plot.objects.order_by("name"), window, offset=0, limit=10)
    assert [p.name for p in page] == ["square"] and total == 1
    page, total = intersecting_page(Plot.objects.order_by("name"), (-1, -1, 4, 4), offset=1, limit=1)
    assert [p.name for p in page] == ["square"] and total == 2


def test_the_migration_operation_indexes_and_unindexes(table: None) -> None:
    from django.db.migrations.state import ModelState, ProjectState

    state = ProjectState()
    state.add_model(ModelState.from_model(Plot))
    operation = SpatialIndex("plot")
    assert operation.deconstruct() == ("SpatialIndex", ["plot"], {})
    with connection.schema_editor() as editor:
        operation.database_forwards("spatial_test", editor, state, state)
    assert spatial_index_present(Plot)
    with connection.schema_editor() as editor:
        operation.database_backwards("spatial_test", editor, state, state)
    assert not spatial_index_present(Plot)


_RANDOM = random.Random(52)
_SHAPES = [
    (f"p{i}", box(x, y, x + _RANDOM.uniform(0.001, 0.05), y + _RANDOM.uniform(0.001, 0.05)))
    for i, (x, y) in enumerate((_RANDOM.uniform(-1, 1), _RANDOM.uniform(-1, 1)) for _ in range(300))
]
_coord = st.floats(min_value=-1.2, max_value=1.2, allow_nan=False)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(x1=_coord, y1=_coord, x2=_coord, y2=_coord)
def test_bbox_filter_holds_every_exact_hit_and_only_rows_whose_box_meets(
    indexed: None, x1: float, y1: float, x2: float, y2: float
) -> None:
    if not Plot.objects.exists():
        Plot.objects.bulk_create([_plot(name, shape) for name, shape in _SHAPES])
    window = box(min(x1, x2), min(y1, y2), max(x1, x2), max(y1, y2))
    found = _names(bbox_filter(Plot.objects.all(), window))
    exact = {name for name, shape in _SHAPES if shape.intersects(window)}
    by_box = {
        name
        for name, shape in _SHAPES
        if shape.bounds[2] >= window.bounds[0]
        and shape.bounds[0] <= window.bounds[2]
        and shape.bounds[3] >= window.bounds[1]
        and shape.bounds[1] <= window.bounds[3]
    }
    assert exact <= found and found == by_box
    assert {p.name for p in intersecting(Plot.objects.all(), window)} == exact
    assert {p.name for p in geometries_intersecting(bbox_filter(Plot.objects.all(), window), window)} == exact
