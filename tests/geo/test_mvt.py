"""The layer encoder gives, byte for byte, what ``mapbox_vector_tile`` gives for the same features:
points, lines, polygons with holes and their multi forms, points repeated after rounding, rings and
lines that round away, and every kind of property value; and it leaves out what that encoder cannot
encode (geometry collections) instead of failing."""

from __future__ import annotations

import random

import mapbox_vector_tile
import numpy as np
import shapely
from shapely.geometry import GeometryCollection, LineString, MultiLineString, MultiPoint, Point, Polygon

from gov21.geo.mvt import layer_encode
from tests.geo import mvt_previous

OPTIONS = {"extents": 4096, "check_winding_order": False}


def _reference(name: str, geometries: list[object], properties: list[dict[str, object]]) -> bytes:
    features = [
        {"geometry": g, "properties": {k: v for k, v in p.items() if v is not None}}
        for g, p in zip(geometries, properties, strict=True)
    ]
    data: bytes = mapbox_vector_tile.encode([{"name": name, "features": features}], default_options=OPTIONS)
    return data


def _shapes(rng: random.Random, count: int) -> list[object]:
    def blob() -> object:
        x, y, r = rng.uniform(-100, 4200), rng.uniform(-100, 4200), rng.uniform(0.3, 80)
        shape = Point(x, y).buffer(r, quad_segs=rng.randint(1, 6))
        return shape.difference(Point(x, y).buffer(r / 3)) if r > 5 and rng.random() < 0.4 else shape

    shapes: list[object] = []
    for _ in range(count):
        k = rng.random()
        if k < 0.45:
            shapes.append(blob())
        elif k < 0.55:
            shapes.append(shapely.multipolygons([blob(), blob()]))
        elif k < 0.7:
            shapes.append(LineString([(rng.uniform(0, 4096), rng.uniform(0, 4096)) for _ in range(rng.randint(2, 8))]))
        elif k < 0.75:
            shapes.append(MultiLineString([[(1.2, 2.2), (1.4, 2.3)], [(5, 5), (9.6, 10.1), (20, 3)]]))
        elif k < 0.85:
            shapes.append(Point(rng.uniform(-50, 4200), rng.uniform(-50, 4200)))
        elif k < 0.9:
            shapes.append(MultiPoint([(rng.uniform(0, 4096), rng.uniform(0, 4096)) for _ in range(3)]))
        elif k < 0.95:
            shapes.append(LineString([(7.2, 7.4), (7.3, 7.1)]))  # one point once rounded: left out
        else:
            shapes.append(Polygon([(0.1, 0.1), (0.2, 0.1), (0.2, 0.2), (0.1, 0.1)]))  # rounds to a point
    return shapes


def test_the_encoding_is_the_reference_encoders_byte_for_byte() -> None:
    rng = random.Random(21)
    shapes = shapely.orient_polygons(np.array(_shapes(rng, 1500), dtype=object), exterior_cw=True)
    properties: list[dict[str, object]] = [
        {
            "id": f"f{i}",
            "n": i % 7 - 3,
            "share": (i % 5) * 0.5 + 0.25,
            "ok": i % 2 == 0,
            "none": None,
            "big": i * 10**12,
        }
        for i in range(len(shapes))
    ]
    mine = layer_encode("things", shapes, properties, extent=4096)  # type: ignore[arg-type]
    assert mine == _reference("things", list(shapes), properties)
    decoded = mapbox_vector_tile.decode(mine)["things"]
    assert decoded["extent"] == 4096 and len(decoded["features"]) < len(shapes)  # the degenerate ones left out


def test_an_empty_layer_and_layers_joined_are_as_the_reference_encodes_them() -> None:
    assert layer_encode("empty", [], [], extent=4096) == _reference("empty", [], [])
    one = layer_encode("a", [Point(10, 20)], [{"name": "A"}], extent=4096)
    two = layer_encode("b", [LineString([(0, 0), (30, 40)])], [{"name": "B"}], extent=4096)
    decoded = mapbox_vector_tile.decode(one + two)
    assert set(decoded) == {"a", "b"}
    assert decoded["b"]["features"][0]["geometry"] == {"type": "LineString", "coordinates": [[0, 0], [30, 40]]}


def test_a_geometry_collection_is_left_out_not_a_failure() -> None:
    mixed = GeometryCollection([Point(1, 1), LineString([(0, 0), (3, 3)])])
    data = layer_encode("mixed", [mixed, Point(5, 6)], [{"k": "gc"}, {"k": "point"}], extent=4096)
    [feature] = mapbox_vector_tile.decode(data)["mixed"]["features"]
    assert feature["properties"] == {"k": "point"}


def _random_value(rng: random.Random, shared: list[object]) -> object:
    k = rng.random()
    if k < 0.15:
        return None
    if k < 0.3:
        return rng.choice(shared)  # the same value under several keys, and repeated
    if k < 0.4:
        return rng.choice([True, False, 1, 0, 1.0, 0.0, -1])  # equal as numbers, apart as values
    if k < 0.55:
        return rng.randint(-(2**40), 2**40)
    if k < 0.7:
        return rng.uniform(-1e6, 1e6)
    if k < 0.8:
        return "é" * rng.randint(60, 70)  # a string of 120 to 140 bytes: framed either way
    return f"v{rng.randint(0, 3000)}"


def test_columns_of_random_values_are_encoded_as_the_reference_encodes_the_rows() -> None:
    from gov21.geo.mvt import layer_encode_columns

    for seed in range(12):
        rng = random.Random(seed)
        count = rng.choice([1, 5, 200, 1500])
        shapes = shapely.orient_polygons(np.array(_shapes(rng, count), dtype=object), exterior_cw=True)
        shared: list[object] = ["same", 7, 2.5, True]
        names = [f"k{n}" for n in range(rng.randint(1, 6))]
        kind = {name: rng.random() for name in names}
        columns = []
        for name in names:
            if kind[name] < 0.2:
                values = [None] * count  # a key no feature has
            elif kind[name] < 0.5:
                values = [f"{name}-{i}" if rng.random() < 0.9 else None for i in range(count)]  # an id
            elif kind[name] < 0.7:
                values = [rng.uniform(0, 1e4) for _ in range(count)]
            else:
                values = [_random_value(rng, shared) for _ in range(count)]
            columns.append((name, values))
        rows = [{name: values[i] for name, values in columns if values[i] is not None} for i in range(count)]
        mine = layer_encode_columns("things", shapes, columns, extent=4096)
        # Byte for byte what the encoder of a feature at a time gave, and what the rows give.
        assert mine == mvt_previous.layer_encode("things", shapes, rows, extent=4096), seed
        assert mine == layer_encode("things", shapes, rows, extent=4096)
        # The same features as the reference encoder's (which numbers a mix of 1, 1.0 and True its
        # own way, so its bytes may differ there).
        reference = mapbox_vector_tile.decode(_reference("things", list(shapes), rows))
        assert mapbox_vector_tile.decode(mine) == reference, seed
