"""Geometries checked before they are stored, OGC query values parsed, areas measured in metres."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from typing import Any

import pytest
from shapely.geometry import LineString, Point, box

from gov21.core.geo import (
    CRS84,
    BBox,
    GeometryError,
    QueryValueError,
    area_m2,
    crs_from_uri,
    geometry_check,
    geometry_json,
    length_m,
    parse_bbox,
    parse_datetime,
    projected_crs,
    to_projected,
    transform,
)

SQUARE = [[[-63.1, 14.2], [-63.09, 14.2], [-63.09, 14.21], [-63.1, 14.21], [-63.1, 14.2]]]


# --- geometries ------------------------------------------------------------------------------------


def test_each_accepted_geometry_type_comes_back_as_the_shape_it_describes() -> None:
    assert geometry_check({"type": "Point", "coordinates": [-63.1, 14.2]}).equals(Point(-63.1, 14.2))
    line = geometry_check({"type": "LineString", "coordinates": [[-63.1, 14.2], [-63.0, 14.3]]})
    assert line.equals(LineString([(-63.1, 14.2), (-63.0, 14.3)]))
    assert geometry_check({"type": "Polygon", "coordinates": SQUARE}).equals(box(-63.1, 14.2, -63.09, 14.21))
    multi = geometry_check({"type": "MultiPolygon", "coordinates": [SQUARE]})
    assert multi.geom_type == "MultiPolygon" and len(multi.geoms) == 1
    assert geometry_json(multi)["coordinates"][0][0][0] == [-63.1, 14.2]


@pytest.mark.parametrize(
    ("data", "words"),
    [
        ("POINT(1 2)", "GeoJSON geometry object"),
        ({"type": "GeometryCollection", "geometries": []}, "must be one of Point, LineString, Polygon, MultiPolygon"),
        ({"type": "Point", "coordinates": [1]}, "must be a position"),
        ({"type": "Point", "coordinates": ["1", "2"]}, "must be a position"),
        ({"type": "Point", "coordinates": [True, 2]}, "must be a position"),
        ({"type": "Point", "coordinates": [float("nan"), 2]}, "must be a position"),
        ({"type": "Point", "coordinates": [14.2, -200]}, "latitude -200.0, outside -90 to 90"),
        ({"type": "Point", "coordinates": [190, 14.2]}, "longitude 190.0, outside -180 to 180"),
        ({"type": "LineString", "coordinates": [[-63.1, 14.2]]}, "has 1 positions; it needs at least 2"),
        ({"type": "Polygon", "coordinates": []}, "list of linear rings"),
        ({"type": "Polygon", "coordinates": [SQUARE[0][:3]]}, "outer ring has 3 positions; it needs at least 4"),
        ({"type": "Polygon", "coordinates": [SQUARE[0][:4]]}, "outer ring is not closed"),
        (
            {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]},
            "not valid: Self-intersection",
        ),
        ({"type": "MultiPolygon", "coordinates": []}, "one or more polygons"),
        ({"type": "MultiPolygon", "coordinates": [SQUARE, [SQUARE[0][:4]]]}, "Polygon 2, outer ring is not closed"),
    ],
)
def test_a_bad_geometry_is_refused_saying_what_is_wrong(data: Any, words: str) -> None:
    with pytest.raises(GeometryError) as refused:
        geometry_check(data, field="boundary")
    assert words in refused.value.detail
    assert (refused.value.status, refused.value.code, refused.value.field) == (422, "invalid_geometry", "boundary")


def test_a_hole_that_is_not_closed_is_named_as_the_hole() -> None:
    hole = [[-63.098, 14.202], [-63.095, 14.202], [-63.095, 14.205], [-63.098, 14.205]]
    with pytest.raises(GeometryError, match="hole 1 is not closed"):
        geometry_check({"type": "Polygon", "coordinates": [SQUARE[0], hole]})


# --- areas, lengths and CRS ------------------------------------------------------------------------


def test_areas_and_lengths_are_measured_in_metres_in_utm_zone_20n() -> None:
    assert projected_crs().epsg == 32620
    # A hundredth of a degree square at 14.2° N: about 1078 m east-west by 1106 m north-south.
    square = box(-63.1, 14.2, -63.09, 14.21)
    assert area_m2(square) == pytest.approx(1_078 * 1_106, rel=0.005)
    assert length_m(LineString([(-63.0, 14.0), (-63.0, 15.0)])) == pytest.approx(110_660, rel=0.002)
    easting, northing = to_projected(Point(-63.0, 14.0)).coords[0]
    assert easting == pytest.approx(500_000, abs=1)  # 63° W is the zone's central meridian
    assert northing == pytest.approx(1_548_200, rel=0.001)


def test_the_projected_crs_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_GEO_PROJECTED_EPSG", "2004")  # Montserrat 1958 / British West Indies Grid
    assert projected_crs().uri == "http://www.opengis.net/def/crs/EPSG/0/2004"
    # The grid's central meridian is 62° W with a false easting of 400 km.
    assert to_projected(Point(-62.2, 16.7)).coords[0][0] == pytest.approx(378_360, abs=100)
    assert area_m2(box(-62.2, 16.7, -62.19, 16.71)) == pytest.approx(1_066 * 1_107, rel=0.01)


@pytest.mark.parametrize(
    ("value", "words"),
    [
        ("99999", "does not name a coordinate reference system"),
        ("metres", "must be a whole number"),
        ("4326", "is not a projected CRS"),
        ("2227", "measures in US survey foot, not metres"),
    ],
)
def test_a_projected_crs_that_cannot_measure_in_metres_stops_the_checks(
    monkeypatch: pytest.MonkeyPatch, value: str, words: str
) -> None:
    from gov21.core.checks import projected_crs_check

    assert projected_crs_check(None) == []
    monkeypatch.setenv("GOV21_GEO_PROJECTED_EPSG", value)
    [error] = projected_crs_check(None)
    assert error.id == "gov21.E001" and words in error.msg


def test_a_geometry_carried_to_the_projected_crs_and_back_is_where_it_was() -> None:
    square = box(-63.1, 14.2, -63.09, 14.21)
    back = transform(transform(square, CRS84, projected_crs()), projected_crs(), CRS84)
    assert back.equals_exact(square, 1e-9)


@pytest.mark.parametrize(
    "uri",
    ["http://www.opengis.net/def/crs/EPSG/0/32620", "EPSG:32620", "[EPSG:32620]"],
)
def test_the_projected_crs_is_named_by_its_uri_or_its_code(uri: str) -> None:
    assert crs_from_uri(uri).epsg == 32620
    assert crs_from_uri("http://www.opengis.net/def/crs/OGC/1.3/CRS84") == CRS84


@pytest.mark.parametrize("uri", ["EPSG:4326", "http://www.opengis.net/def/crs/EPSG/0/3857", "WGS84", ""])
def test_an_unsupported_crs_is_refused_listing_the_supported_ones(uri: str) -> None:
    with pytest.raises(QueryValueError) as refused:
        crs_from_uri(uri, parameter="bbox-crs")
    assert refused.value.field == "bbox-crs" and refused.value.status == 400
    assert "http://www.opengis.net/def/crs/OGC/1.3/CRS84" in refused.value.detail


# --- bbox ------------------------------------------------------------------------------------------


def test_a_bbox_of_four_or_six_numbers_is_read_in_longitude_latitude_order() -> None:
    assert parse_bbox("-63.2,14.1,-63,14.3") == BBox(-63.2, 14.1, -63.0, 14.3)
    assert parse_bbox("-63.2,14.1,0,-63,14.3,100") == BBox(-63.2, 14.1, -63.0, 14.3)
    projected = parse_bbox("480000,1560000,500000,1580000", crs=projected_crs())
    window = projected.geometry()
    assert window.bounds[0] == pytest.approx(-63.185, abs=0.01) and window.bounds[1] == pytest.approx(14.11, abs=0.01)


def test_a_projected_bbox_beyond_the_projections_area_is_cut_to_it() -> None:
    everything = parse_bbox("-1e308,-1e308,1e308,1e308", crs=projected_crs()).geometry()
    # UTM zone 20N is defined from 66° W to 60° W, from the equator to 84° N: all of it is asked for.
    assert all(math.isfinite(edge) for edge in everything.bounds)
    assert everything.bounds[1] == pytest.approx(0, abs=0.01)
    assert everything.contains(box(-65.9, 0.1, -60.1, 83.9))
    assert parse_bbox("-9e9,-9e9,-8e9,-8e9", crs=projected_crs()).geometry().is_empty


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("1,2,3", "four or six numbers"),
        ("1,2,3,4,5", "four or six numbers"),
        ("a,b,c,d", "four or six numbers"),
        ("1,2,,4", "four or six numbers"),
        ("nan,1,2,3", "four or six numbers"),
        ("-63,14,-62,inf", "four or six numbers"),
        ("-190,14,-62,15", "longitude -190.0 is outside -180 to 180"),
        ("-63,-91,-62,15", "latitude -91.0 is outside -90 to 90"),
        ("170,10,-170,20", "across the antimeridian is not supported"),
        ("-63,15,-62,14", "south edge (15.0) is north of the north edge (14.0)"),
        ("-63,14,5,-62,15,1", "lower height (5.0) is above the upper one (1.0)"),
    ],
)
def test_a_bad_bbox_is_refused_saying_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(QueryValueError) as refused:
        parse_bbox(text)
    assert words in refused.value.detail
    assert (refused.value.status, refused.value.field) == (400, "bbox")


# --- datetime --------------------------------------------------------------------------------------


def _utc(*parts: int) -> datetime:
    return datetime(*parts, tzinfo=UTC)  # type: ignore[misc]


def test_datetime_instants_and_intervals_open_or_closed_are_read() -> None:
    instant = parse_datetime("2026-05-01T12:00:00Z")
    assert instant.start == instant.end == _utc(2026, 5, 1, 12)
    day = parse_datetime("2026-05-01")
    assert day.start == _utc(2026, 5, 1) and day.end == _utc(2026, 5, 1, 23, 59, 59, 999999)
    closed = parse_datetime("2026-01-01T00:00:00+01:00/2026-12-31")
    assert closed.start == _utc(2025, 12, 31, 23) and closed.end == _utc(2026, 12, 31, 23, 59, 59, 999999)
    assert parse_datetime("../2026-12-31T00:00:00Z").start is None
    assert parse_datetime("2026-01-01T00:00:00Z/..").end is None
    assert parse_datetime("2026-01-01T00:00:00Z/").end is None


def test_an_interval_meets_what_was_valid_during_it() -> None:
    year = parse_datetime("2026-01-01/2026-12-31")
    assert year.overlaps(_utc(2020, 1, 1), None)
    assert year.overlaps(None, _utc(2026, 6, 1))
    assert not year.overlaps(_utc(2027, 1, 1), None)
    assert not year.overlaps(None, _utc(2025, 12, 31))
    assert parse_datetime("../2026-01-01").overlaps(_utc(2025, 1, 1), _utc(2025, 2, 1))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "a date-time or an interval"),
        ("..", "a date-time or an interval"),
        ("../..", "closed at one end at least"),
        ("2026-05-01T12:00:00", "RFC 3339 date-time with its offset"),
        ("yesterday", "RFC 3339"),
        ("2026-02-30", "is not a date"),
        ("2026-13-01T00:00:00Z", "not a real date and time"),
        ("2026-12-31/2026-01-01", "ends before it starts"),
        ("2026-01-01/2026-02-01/2026-03-01", "one interval start/end"),
    ],
)
def test_a_bad_datetime_is_refused_saying_what_is_wrong(text: str, words: str) -> None:
    with pytest.raises(QueryValueError) as refused:
        parse_datetime(text)
    assert words in refused.value.detail
    assert (refused.value.status, refused.value.field) == (400, "datetime")
