"""A Mapbox Vector Tile layer encoded from shapely geometries in one pass over all their coordinates.

``mapbox_vector_tile.encode`` builds a protocol buffer object per feature and walks each geometry in
Python, point by point: about 0.1 ms a feature, most of the cost of a tile of a town's parcels. Here
the coordinates of every geometry of the layer are read and snapped to the tile's grid in one
numpy call each; what is left in Python is, per ring, the deltas and their zig-zag, and per feature
its few tags. The output follows the same rules as ``mapbox_vector_tile`` (version 2 of the
specification): coordinates rounded half to even, y turned downwards (``extent - y``), a point
repeated after rounding left out, a line or ring left with no segment dropped (a polygon whose
exterior is dropped is dropped whole), geometry collections left out, property values of type
string, boolean, integer (``int_value``) or float (``double_value``), others left out. Rings are
taken as they are oriented (``shapely.orient_polygons`` before: the MVT winding)."""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import cast

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


def _value_keys(values: list[Value], kind: type) -> list[str | bytes]:
    """The keys of values of one type other than str: their ``Value`` messages (doubles made in numpy)."""
    if kind is float and values:
        messages = np.empty((len(values), 9), dtype=np.uint8)
        messages[:, 0] = 0x19
        messages[:, 1:] = np.asarray(values, dtype="<f8").view(np.uint8).reshape(-1, 8)
        data = messages.tobytes()
        return [data[at : at + 9] for at in range(0, len(data), 9)]
    return [_value(value) for value in values]


def _values_section(values: list[str | bytes]) -> bytes:
    """The layer's values, each a field 4, from their keys (a string, or a value's encoded message),
    framed in numpy: a string of fewer than 126 bytes or a message of fewer than 128 (nearly all)
    takes a head of fixed size; any other is framed on its own."""
    is_text = [isinstance(value, str) for value in values]
    payloads: list[bytes] = [value.encode() if isinstance(value, str) else value for value in values]
    sizes = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
    text = np.array(is_text, dtype=bool)
    head_sizes = np.where(text, 4, 2)
    for at in np.flatnonzero(np.where(text, sizes >= 126, sizes >= 128)).tolist():
        value = values[at]
        payloads[at] = _framed(_value(value) if isinstance(value, str) else value)
        head_sizes[at] = 0
    sizes = np.fromiter(map(len, payloads), dtype=np.int64, count=len(payloads))
    heads = np.column_stack(
        [
            np.full(len(values), 0x22),
            np.where(text, sizes + 2, sizes),
            np.full(len(values), 0x0A),
            sizes,
        ]
    )
    framing = heads[np.arange(4) < head_sizes[:, None]].astype(np.uint8)
    data = np.frombuffer(b"".join(payloads), dtype=np.uint8)
    return _interleave([(framing, head_sizes), (data, sizes)]).tobytes()


def _framed(message: bytes) -> bytes:
    """A ``Value`` message as field 4 of a layer."""
    return b"\x22" + _uvarint(len(message)) + message


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
    if np.isin(shapely.get_type_id(geoms), (4, 5, 6)).any():
        parts, owner = shapely.get_parts(geoms, return_index=True)
    else:  # no multi-part geometry (parcels, buildings): each is its own part, and none is made
        parts, owner = geoms, np.arange(len(geoms))
    part_types = shapely.get_type_id(parts)
    polygon_parts = part_types == 3
    # Arcs: every line, every ring; each point part is an arc of one point.
    # A polygon without holes (most) is its one ring: its size is read without making the ring.
    polygons = np.flatnonzero(polygon_parts)
    holed = shapely.get_num_interior_rings(parts[polygons]) > 0
    rings, ring_of = shapely.get_rings(parts[polygons[holed]], return_index=True)
    ring_part = np.concatenate([polygons[~holed], polygons[holed][ring_of]])
    ring_sizes = np.concatenate(
        [shapely.get_num_coordinates(parts[polygons[~holed]]), shapely.get_num_coordinates(rings)]
    )
    by_part = np.argsort(ring_part, kind="stable")
    ring_part, ring_sizes = ring_part[by_part], ring_sizes[by_part]
    arc_part = np.concatenate([np.flatnonzero(~polygon_parts), ring_part])
    arc_sizes = np.concatenate([shapely.get_num_coordinates(parts[~polygon_parts]), ring_sizes])
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


def _interleave(parts: Sequence[tuple[NDArray[np.uint8], NDArray[np.int64]]]) -> NDArray[np.uint8]:
    """Feature by feature, each part's bytes of that feature one after another: ``parts`` are byte
    arrays each holding every feature's bytes in feature order, with how many bytes each feature has."""
    lengths = np.column_stack([sizes for _data, sizes in parts])
    starts = (np.cumsum(lengths.ravel()) - lengths.ravel()).reshape(lengths.shape)
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    for k, (data, sizes) in enumerate(parts):
        source_starts = np.cumsum(sizes) - sizes
        out[np.arange(len(data)) + np.repeat(starts[:, k] - source_starts, sizes)] = data
    return out


def _per_row(sizes: NDArray[np.int64], rows: int) -> NDArray[np.int64]:
    """Bytes per row of varints laid out as ``rows`` rows of equal count."""
    if rows == 0:
        return np.zeros(0, dtype=np.int64)
    return np.asarray(sizes.reshape(rows, -1).sum(axis=1), dtype=np.int64)


_ENCODABLE = (str, bool, int, float)


def _tags(
    columns: Sequence[tuple[str, Sequence[Value | None]]], rows: NDArray[np.int64]
) -> tuple[list[str], bytes, NDArray[np.uint64], NDArray[np.bool_]]:
    """The layer's keys, its values (encoded as its fields 4), and per feature (``rows`` of the
    columns) the pairs of key and value indexes, numbered as a feature at a time numbers them: keys
    and values (the same value under two keys once) in the order they first appear, feature by
    feature, key by key."""
    n = len(rows)
    picked = rows.tolist()
    every = all(len(column) == n for _key, column in columns) and bool(np.array_equal(rows, np.arange(n)))
    codes = np.full((n, len(columns)), -1, dtype=np.int64)
    # A value's key: a string itself, any other value its encoded message (bytes: no tuple made per
    # value, nothing for the garbage collector to follow), so 1, 1.0 and True stay apart as they must.
    distinct: list[list[str | bytes]] = []
    firsts: list[NDArray[np.int64]] = []
    for j, (_key, column) in enumerate(columns):
        taken = list(column) if every else [column[i] for i in picked]
        kinds = set(map(type, taken))
        kinds.discard(type(None))
        if len(kinds) == 1 and kinds <= {str, int, float, bool}:
            # One type (the usual column): its values are their own keys within it.
            order = dict.fromkeys(taken)
            order.pop(None, None)
            if len(order) == n:  # every value differs (an id): each is its own
                codes[:, j] = np.arange(n)
            else:
                place = {value: number for number, value in enumerate(order)}
                place[None] = -1
                codes[:, j] = list(map(place.__getitem__, taken))
            found = cast(list[Value], list(order))
            distinct.append(cast(list[str | bytes], found) if kinds == {str} else _value_keys(found, kinds.pop()))
        else:
            local: dict[str | bytes, int] = {}
            codes[:, j] = [
                -1
                if value is None or not isinstance(value, _ENCODABLE)
                else local.setdefault(value if type(value) is str else _value(value), len(local))
                for value in taken
            ]
            distinct.append(list(local))
        # Codes are numbered as values first appear: a code's first row is where the running
        # highest code rises.
        present = np.flatnonzero(codes[:, j] >= 0)
        highest = np.maximum.accumulate(codes[present, j]) if present.size else np.zeros(0, np.int64)
        rises = np.ones(len(highest), dtype=bool)
        rises[1:] = highest[1:] > highest[:-1]
        firsts.append(present[rises])
    # Values: every column's distinct values by the (row, column) where they first appear.
    column_of = np.concatenate(
        [np.full(len(f), j, dtype=np.int64) for j, f in enumerate(firsts)] + [np.zeros(0, np.int64)]
    )
    first_row = np.concatenate([*firsts, np.zeros(0, np.int64)])
    order_all = np.lexsort((column_of, first_row))
    every_key = np.empty(len(order_all), dtype=object)
    every_key[:] = [key for keys in distinct for key in keys]
    in_order = every_key[order_all].tolist()
    numbered: dict[str | bytes, int] = {}
    # A value under two keys (a parcel's id is its number) is one entry, numbered where it first appears.
    position = np.empty(len(order_all), dtype=np.int64)
    position[order_all] = [numbered.setdefault(value, len(numbered)) for value in in_order]
    bounds = np.cumsum([0, *(len(f) for f in firsts)])
    remap = [position[bounds[j] : bounds[j + 1]] for j in range(len(columns))]
    # Keys: by the row where each first has a value.
    used = [j for j in range(len(columns)) if len(firsts[j])]
    used.sort(key=lambda j: (int(firsts[j][0]), j))
    key_index = np.full(len(columns), -1, dtype=np.int64)
    key_index[used] = np.arange(len(used))
    pairs = np.zeros((n, 2 * len(columns)), dtype=np.uint64)
    mask = np.zeros((n, 2 * len(columns)), dtype=bool)
    for j in used:
        has = codes[:, j] >= 0
        pairs[:, 2 * j] = key_index[j]
        pairs[has, 2 * j + 1] = remap[j][codes[has, j]]
        mask[:, 2 * j] = mask[:, 2 * j + 1] = has
    return [columns[j][0] for j in used], _values_section(list(numbered)), pairs, mask


def layer_encode_columns(
    name: str,
    geometries: Sequence[BaseGeometry | None] | NDArray[np.object_],
    columns: Sequence[tuple[str, Sequence[Value | None]]],
    *,
    extent: int,
) -> bytes:
    """A tile (protocol buffer ``Tile``) holding one layer named ``name``: a feature per geometry
    (in tile units, y upwards) with the properties of its row of ``columns`` (key, a value per
    geometry; None for none). Tiles of one layer each join into a tile of several layers by
    concatenation. The same bytes as ``layer_encode`` with rows of the properties in column order,
    with no Python per feature: the tags are numbered and packed, and the features framed, in
    numpy."""
    geoms = np.asarray(geometries, dtype=object)
    if geoms.size:
        types = shapely.get_type_id(geoms)
        usable = np.flatnonzero(np.isin(types, list(_KIND)) & ~shapely.is_empty(geoms))
    else:
        types, usable = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    layer = bytearray()
    _field(1, name.encode(), layer)
    keys: list[str] = []
    value_bytes = b""
    if usable.size:
        kinds = np.array([_KIND[int(t)] for t in types[usable].tolist()], dtype=np.int64)
        encoded, offsets = _streams(geoms[usable], kinds, extent)
        drawn = np.flatnonzero(np.diff(offsets) > 0)
        rows = usable[drawn]
        keys, value_bytes, pairs, mask = _tags(columns, rows)
        tag_bytes, tag_sizes = _varints(pairs[mask])
        owner = np.repeat(np.arange(len(rows)), mask.sum(axis=1))
        tag_length = np.bincount(owner, weights=tag_sizes, minlength=len(rows)).astype(np.int64)
        geometry_length = np.diff(offsets)[drawn]
        tagged = tag_length > 0
        # Feature: [tags (field 2) length,] type (field 3), geometry (field 4) length; then the
        # feature's own length, which counts those.
        middle = np.column_stack([np.full(len(rows), 0x18), kinds[drawn], np.full(len(rows), 0x22), geometry_length])
        middle_bytes, middle_sizes = _varints(middle.ravel().astype(np.uint64))
        tag_head_bytes, tag_head_sizes = _varints(tag_length[tagged].astype(np.uint64))
        tag_head = np.zeros(len(rows), dtype=np.int64)
        tag_head[tagged] = 1 + tag_head_sizes
        feature_length = tag_head + tag_length + _per_row(middle_sizes, len(rows)) + geometry_length
        head = np.column_stack([np.full(len(rows), 0x12), feature_length]).ravel().astype(np.uint64)
        head_bytes, head_sizes = _varints(head)
        tag_prefix = np.zeros(int(tag_head.sum()), dtype=np.uint8)
        tag_prefix_at = np.cumsum(tag_head) - tag_head
        tag_prefix[tag_prefix_at[tagged]] = 0x12
        spots = np.ones(len(tag_prefix), dtype=bool)
        spots[tag_prefix_at[tagged]] = False
        tag_prefix[spots] = tag_head_bytes
        features = _interleave(
            [
                (head_bytes, _per_row(head_sizes, len(rows))),
                (tag_prefix, tag_head),
                (tag_bytes, tag_length),
                (middle_bytes, _per_row(middle_sizes, len(rows))),
                (encoded, geometry_length),
            ]
        )
        # Each feature is field 2 of the layer: its head (0x12 and length) is in ``head``.
        layer += features.tobytes()
    for key in keys:
        _field(3, key.encode(), layer)
    layer += value_bytes
    layer.append((5 << 3) | 0)
    _varint(extent, layer)
    layer += b"\x78\x02"  # version 2 (field 15), last as protocol buffers write fields in order
    tile = bytearray()
    _field(3, layer, tile)
    return bytes(tile)


def layer_encode(
    name: str,
    geometries: Sequence[BaseGeometry] | NDArray[np.object_],
    properties: Sequence[Mapping[str, Value | None]],
    *,
    extent: int,
) -> bytes:
    """A tile holding one layer named ``name``: a feature per geometry with the properties beside it
    (``layer_encode_columns`` with the rows turned into columns). A feature's tags follow the
    columns' order, which follows the rows': a key first met in a row goes after the keys before it
    in that row, so rows whose keys are in one order (each a part of it) keep it."""
    names: list[str] = []
    known: set[str] = set()
    for row in properties:
        if known.issuperset(row):
            continue
        at = 0
        for key in row:
            if key in known:
                at = names.index(key) + 1
            else:
                names.insert(at, key)
                known.add(key)
                at += 1
    columns = [(key, [row.get(key) for row in properties]) for key in names]
    return layer_encode_columns(name, geometries, columns, extent=extent)
