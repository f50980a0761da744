"""``core.spatial.rows_intersecting``: rows read as values after a box filter, kept only when their
exact geometry meets the window, whatever form the database hands the WKB back in."""

from __future__ import annotations

import shapely
from shapely.geometry import LineString, Point, box

from gov21.core.spatial import rows_intersecting


def test_only_the_rows_whose_geometry_meets_the_window_are_kept_in_order() -> None:
    window = shapely.Polygon([(0, 0), (10, 0), (0, 10)])  # a triangle: its box holds (9, 9), it does not
    rows = [
        ("inside", shapely.to_wkb(Point(1, 1))),
        ("box only", memoryview(shapely.to_wkb(LineString([(9, 6), (6, 9)])))),  # PostgreSQL's memoryview
        ("crossing", shapely.to_wkb(LineString([(-5, 1), (20, 1)]))),
        ("outside", shapely.to_wkb(box(20, 20, 21, 21))),
    ]

    found = rows_intersecting(rows, window, wkb_at=1)

    assert [row[0] for row, _ in found] == ["inside", "crossing"]
    assert found[0][1].equals(Point(1, 1))


def test_no_rows_is_no_work() -> None:
    assert rows_intersecting([], box(0, 0, 1, 1), wkb_at=0) == []
