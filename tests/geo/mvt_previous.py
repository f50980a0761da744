"""The layer encoder as it was before it read columns (commit 3a43bf6), kept as the oracle the
column encoder is compared with byte for byte: a feature at a time in Python for the tags and framing."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence

import numpy as np
import shapely
from numpy.typing import NDArray
from shapely.geometry.base import BaseGeometry

Value = str | int | float | bool

# Geometry types of the specification; commands.
_POINT, _LINE, _POLYGON = 1, 2, 3
_MOVE_TO, _LINE_TO, _CLOSE = 1, 2, 7
_CLOSE_ONCE = (1 << 3) | _CLOSE
# A feature's type field, by geometry type.
_TYPE = {kind: bytes(((3 << 3) | 0, kind)) for kind in (_POINT, _LINE, _POLYGON)}
# shapely's type ids: point, line string, polygon, multi point, multi line string, multi polygon.
_KIND = {0: _POINT, 1: _LINE, 3: _POLYGON, 4: _POINT, 5: _LINE, 6: _POLYGON}


def _varint(value: int, out: bytearray) -> None:
    value &= 0xFFFFFFFFFFFFFFFF  # a negative int64 is sent as its two's complement, in ten bytes
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _varint_bytes(value: int) -> bytes:
    out = bytearray()
    _varint(value, out)
    return bytes(out)


# The varints of the small numbers a tile is full of (lengths, indexes), made once.
_SMALL = [_varint_bytes(n) for n in range(1 << 14)]


def _uvarint(value: int) -> bytes:
    return _SMALL[value] if value < 16384 else _varint_bytes(value)


def _packed(values: Sequence[int]) -> bytes:
    if max(values) < 0x80:
        return bytes(values)
    return b"".join(_uvarint(value) for value in values)


def _field(number: int, payload: bytes | bytearray, out: bytearray) -> None:
    """A length-delimited field (string, message, packed numbers)."""
    out.append((number << 3) | 2)
    _varint(len(payload), out)
    out += payload


def _value(value: Value) -> bytes:
    """A ``Value`` message, by the value's type."""
    if isinstance(value, bool):
        return b"\x38\x01" if value else b"\x38\x00"
    if isinstance(value, str):
        text = value.encode()
        return b"\x0a" + _uvarint(len(text)) + text
    if isinstance(value, int):
        return b"\x20" + _varint_bytes(value)
    return b"\x19" + struct.pack("<d", value)


def _zigzag_array(values: NDArray[np.int64]) -> NDArray[np.uint64]:
    return ((values << 1) ^ (values >> 63)).astype(np.uint64)


def _varints(values: NDArray[np.uint64]) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """Every value as a varint, one after another, and how many bytes each took."""
    sizes = np.ones(values.shape, dtype=np.int64)
    for shift in range(7, 64, 7):
        sizes += values >= (np.uint64(1) << np.uint64(shift))
    starts = np.cumsum(sizes) - sizes
    out = np.zeros(int(sizes.sum()), dtype=np.uint8)
    for k in range(int(sizes.max(initial=0))):
        mask = sizes > k
        chunk = (values[mask] >> np.uint64(7 * k)) & np.uint64(0x7F)
        more = (sizes[mask] > k + 1).astype(np.uint64) << np.uint64(7)
        out[starts[mask] + k] = (chunk | more).astype(np.uint8)
    return out, sizes


def _streams(
    geoms: NDArray[np.object_], kinds: NDArray[np.int64], extent: int
) -> tuple[NDArray[np.uint8], NDArray[np.int64]]:
    """The command streams of the geometries, varint-encoded one after another, and the byte offset
    of each geometry's stream (an empty stream: nothing of the geometry is left on the grid)."""
    coords = shapely.get_coordinates(geoms)
    xs = np.rint(coords[:, 0]).astype(np.int64)
    ys = extent - np.rint(coords[:, 1]).astype(np.int64)
    parts, owner = shapely.get_parts(geoms, return_index=True)
    part_types = shapely.get_type_id(parts)
    polygon_parts = part_types == 3
    # Arcs: every line, every ring; each point part is an arc of one point.
    rings, ring_part = shapely.get_rings(parts[polygon_parts], return_index=True)
    ring_part = np.flatnonzero(polygon_parts)[ring_part]
    arc_part = np.concatenate([np.flatnonzero(~polygon_parts), ring_part])
    arc_sizes = np.concatenate([shapely.get_num_coordinates(parts[~polygon_parts]), shapely.get_num_coordinates(rings)])
    # Arcs in the order of the coordinates: by part, then (rings) in their order within the part.
    exterior = np.concatenate(
        [np.zeros((~polygon_parts).sum(), dtype=bool), np.r_[True, ring_part[1:] != ring_part[:-1]][: len(ring_part)]]
    )
    order = np.argsort(arc_part, kind="stable")
    arc_part, arc_sizes, exterior = arc_part[order], arc_sizes[order], exterior[order]
    arc_geom = owner[arc_part]
    arc_kind = kinds[arc_geom]
    is_ring = arc_kind == _POLYGON
    arc_of_point = np.repeat(np.arange(len(arc_sizes)), arc_sizes)
    arc_start = np.cumsum(arc_sizes) - arc_sizes
    first_of_arc = np.zeros(len(xs), dtype=bool)
    first_of_arc[arc_start[arc_sizes > 0]] = True
    keep = np.ones(len(xs), dtype=bool)
    # A ring's closing point is implied (ClosePath); a point repeated after rounding is left out
    # (points of a multipoint are all kept).
    ring_ends = (arc_start + arc_sizes - 1)[is_ring & (arc_sizes > 0)]
    keep[ring_ends] = False
    same = np.zeros(len(xs), dtype=bool)
    same[1:] = (xs[1:] == xs[:-1]) & (ys[1:] == ys[:-1])
    keep &= ~(same & ~first_of_arc & (arc_kind[arc_of_point] != _POINT))
    kept_count = np.bincount(arc_of_point[keep], minlength=len(arc_sizes))
    drawn = np.where(arc_kind == _POINT, kept_count >= 1, kept_count >= 2)
    # A polygon part whose exterior is not drawn is left out with its holes.
    part_drawn = np.ones(len(parts), dtype=bool)
    part_drawn[arc_part[exterior & ~drawn]] = False
    drawn &= part_drawn[arc_part]
    keep &= drawn[arc_of_point]
    px, py, point_arc = xs[keep], ys[keep], arc_of_point[keep]
    point_geom = arc_geom[point_arc]
    # Deltas from the cursor, which starts at 0, 0 for each geometry and moves on across its arcs.
    dx, dy = np.diff(px, prepend=0), np.diff(py, prepend=0)
    new_geom = np.ones(len(px), dtype=bool)
    new_geom[1:] = point_geom[1:] != point_geom[:-1]
    dx[new_geom], dy[new_geom] = px[new_geom], py[new_geom]
    # The stream: per drawn arc, MoveTo 1 (or n for points), its first pair, LineTo n-1, the other
    # pairs, ClosePath for a ring. A geometry of points is one MoveTo of all its points.
    arcs = np.flatnonzero(drawn)
    n = kept_count[arcs]
    kind = arc_kind[arcs]
    geom_of_arc = arc_geom[arcs]
    points_first = np.ones(len(arcs), dtype=bool)
    points_first[1:] = (geom_of_arc[1:] != geom_of_arc[:-1]) | (kind[1:] != _POINT)
    points_count = np.bincount(geom_of_arc[kind == _POINT], minlength=len(geoms))
    head = np.where(kind == _POINT, points_first.astype(np.int64), 2)  # commands before / between pairs
    tail = (kind == _POLYGON).astype(np.int64)
    length = head + 2 * n + tail
    arc_at = np.cumsum(length) - length
    stream = np.zeros(int(length.sum()), dtype=np.uint64)
    is_points = kind == _POINT
    stream[arc_at[is_points & points_first]] = (
        (points_count[geom_of_arc[is_points & points_first]] << 3) | _MOVE_TO
    ).astype(np.uint64)
    lines = ~is_points
    stream[arc_at[lines]] = (1 << 3) | _MOVE_TO
    stream[arc_at[lines] + 3] = ((n[lines] - 1) << 3) | _LINE_TO
    stream[(arc_at + length - 1)[kind == _POLYGON]] = _CLOSE_ONCE
    # Where each kept point's pair goes: after the arc's head, and after LineTo from the second on.
    index_in_arc = np.arange(len(px)) - np.repeat(np.cumsum(n) - n, n)
    arc_index = np.repeat(np.arange(len(arcs)), n)
    slot = arc_at[arc_index] + np.where(is_points[arc_index], head[arc_index], 1) + 2 * index_in_arc
    slot += (~is_points[arc_index]) & (index_in_arc >= 1)
    stream[slot] = _zigzag_array(dx)
    stream[slot + 1] = _zigzag_array(dy)
    encoded, sizes = _varints(stream)
    stream_geom = np.repeat(geom_of_arc, length)
    per_geom = np.bincount(stream_geom, weights=sizes, minlength=len(geoms)).astype(np.int64)
    return encoded, np.concatenate([[0], np.cumsum(per_geom)])


def layer_encode(
    name: str,
    geometries: Sequence[BaseGeometry] | NDArray[np.object_],
    properties: Sequence[Mapping[str, Value | None]],
    *,
    extent: int,
) -> bytes:
    """A tile (protocol buffer ``Tile``) holding one layer named ``name``: a feature per geometry
    (in tile units, y upwards) with the properties beside it. Tiles of one layer each join into a
    tile of several layers by concatenation."""
    geoms = np.asarray(geometries, dtype=object)
    if geoms.size:
        types = shapely.get_type_id(geoms)
        usable = np.flatnonzero(np.isin(types, list(_KIND)) & ~shapely.is_empty(geoms))
    else:
        types, usable = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    layer = bytearray()
    _field(1, name.encode(), layer)
    keys: dict[str, int] = {}
    values: dict[tuple[type, Value], int] = {}
    value_bytes: list[bytes] = []
    chunks: list[bytes] = []
    if usable.size:
        chosen = geoms[usable]
        kinds = np.array([_KIND[int(t)] for t in types[usable].tolist()], dtype=np.int64)
        encoded, offsets = _streams(chosen, kinds, extent)
        data = encoded.tobytes()
        bounds = offsets.tolist()
        kinds_list = kinds.tolist()
        for n, index in enumerate(usable.tolist()):
            begin, end = bounds[n], bounds[n + 1]
            if begin == end:
                continue
            tags: list[int] = []
            for key, value in properties[index].items():
                if value is None or not isinstance(value, str | bool | int | float):
                    continue
                key_index = keys.get(key)
                if key_index is None:
                    key_index = keys[key] = len(keys)
                value_key = (type(value), value)
                value_index = values.get(value_key)
                if value_index is None:
                    value_index = values[value_key] = len(value_bytes)
                    value_bytes.append(_value(value))
                tags.append(key_index)
                tags.append(value_index)
            geometry = data[begin:end]
            if tags:
                packed = _packed(tags)
                feature = b"".join(
                    (
                        b"\x12",
                        _uvarint(len(packed)),
                        packed,
                        _TYPE[kinds_list[n]],
                        b"\x22",
                        _uvarint(end - begin),
                        geometry,
                    )
                )
            else:
                feature = b"".join((_TYPE[kinds_list[n]], b"\x22", _uvarint(end - begin), geometry))
            chunks.append(b"\x12")
            chunks.append(_uvarint(len(feature)))
            chunks.append(feature)
    layer += b"".join(chunks)
    for key in keys:
        _field(3, key.encode(), layer)
    for value_message in value_bytes:
        _field(4, value_message, layer)
    layer.append((5 << 3) | 0)
    _varint(extent, layer)
    layer += b"\x78\x02"  # version 2 (field 15), last as protocol buffers write fields in order
    tile = bytearray()
    _field(3, layer, tile)
    return bytes(tile)
