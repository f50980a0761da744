"""Statistical disclosure control of count tables: small-cell suppression with secondary
suppression, checked by a linear-programming audit of everything an attacker can read.

A table is a cross-classification of counts in ``k`` dimensions published with every margin: each
published cell is a coordinate per dimension, a category or ``TOTAL``. A cell counting 1 to
``threshold - 1`` people is suppressed (primary suppression). Other cells are then suppressed
(secondary suppression) until, for every primary cell, the smallest and largest values consistent
with all published cells (and, for counts that only grow, with the earlier versions of the table)
lie at least ``threshold`` apart: the attacker's linear programme, solved by HiGHS for each such
cell in each direction, is the audit (decision 0061). Zero cells are published: an empty cell
describes no one.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
from numpy.typing import NDArray
from scipy import sparse  # type: ignore[import-untyped]
from scipy.optimize import linprog  # type: ignore[import-untyped]

TOTAL: Final = "total"
THRESHOLD: Final = 5
# How many earlier versions of a table the audit of a new version reads beside it.
VERSIONS_AUDITED: Final = 3

Coord = tuple[int, ...]  # an index per dimension; the dimension's length means its total


@dataclass(frozen=True, slots=True)
class Release:
    """A table as published: every cell (margins included) by coordinate, ``None`` where suppressed,
    and which suppressed cells were small (primary) rather than hiding another."""

    shape: tuple[int, ...]  # categories per dimension, totals not counted
    values: dict[Coord, int | None]
    primary: frozenset[Coord]

    @property
    def suppressed(self) -> frozenset[Coord]:
        return frozenset(c for c, v in self.values.items() if v is None)


@dataclass(frozen=True, slots=True)
class Exposure:
    """What an attacker can learn of one suppressed cell: the narrowest range its value lies in."""

    version: int  # 0: the release being audited; 1, 2, ...: that many versions before it
    cell: Coord
    low: float
    high: float


def full_cells(shape: tuple[int, ...]) -> list[Coord]:
    """Every cell of a table of ``shape`` with its margins, interior cells first."""
    cells = list(itertools.product(*(range(n + 1) for n in shape)))
    return sorted(cells, key=lambda c: sum(1 for i, n in zip(c, shape, strict=True) if i == n))


def interior_of(cell: Coord, shape: tuple[int, ...]) -> list[Coord]:
    """The interior cells a cell sums."""
    ranges = [range(n) if i == n else (i,) for i, n in zip(cell, shape, strict=True)]
    return list(itertools.product(*ranges))


def margins(counts: NDArray[np.int64]) -> dict[Coord, int]:
    """Every cell's value, margins included, from the interior counts."""
    shape = counts.shape
    full = np.zeros(tuple(n + 1 for n in shape), dtype=np.int64)
    full[tuple(slice(0, n) for n in shape)] = counts
    for axis, n in enumerate(shape):
        index: list[slice | int] = [slice(None)] * len(shape)
        index[axis] = n
        full[tuple(index)] = full.take(range(n), axis=axis).sum(axis=axis)
    return {tuple(int(i) for i in c): int(full[c]) for c in np.ndindex(full.shape)}


def _is_primary(value: int, threshold: int) -> bool:
    return 0 < value < threshold


class _Programme:
    """The attacker's linear programme over the suppressed interior cells of the audited releases."""

    def __init__(self, releases: Sequence[Release], *, monotone: bool) -> None:
        self.releases = releases
        shape = releases[0].shape
        self.interior = [c for c in full_cells(shape) if all(i < n for i, n in zip(c, shape, strict=True))]
        self.var: dict[tuple[int, Coord], int] = {}
        for v, release in enumerate(releases):
            for cell in self.interior:
                if release.values[cell] is None:
                    self.var[(v, cell)] = len(self.var)
        eq_rows: list[dict[int, float]] = []
        eq_b: list[float] = []
        for v, release in enumerate(releases):
            for cell, value in release.values.items():
                if value is None:
                    continue
                row, constant = self._form(v, cell)
                if row:
                    eq_rows.append(row)
                    eq_b.append(value - constant)
        ub_rows: list[dict[int, float]] = []
        ub_b: list[float] = []
        if monotone:
            # Counts of registered events only grow: a cell in an earlier version is at most its value later.
            for v in range(len(releases) - 1):
                older, newer = v + 1, v  # releases run newest first
                for cell in self.interior:
                    a, b = self.var.get((older, cell)), self.var.get((newer, cell))
                    if a is None and b is None:
                        continue
                    link: dict[int, float] = {}
                    bound = 0.0
                    if a is not None:
                        link[a] = 1.0
                    else:
                        bound -= float(releases[older].values[cell] or 0)
                    if b is not None:
                        link[b] = link.get(b, 0.0) - 1.0
                    else:
                        bound += float(releases[newer].values[cell] or 0)
                    ub_rows.append(link)
                    ub_b.append(bound)
        self.a_eq, self.b_eq = self._matrix(eq_rows), np.array(eq_b)
        self.a_ub, self.b_ub = self._matrix(ub_rows), np.array(ub_b)

    def _form(self, version: int, cell: Coord) -> tuple[dict[int, float], float]:
        """A cell of a release as a sum of variables plus a published constant."""
        release = self.releases[version]
        row: dict[int, float] = {}
        constant = 0.0
        for part in interior_of(cell, release.shape):
            index = self.var.get((version, part))
            if index is None:
                constant += float(release.values[part] or 0)
            else:
                row[index] = 1.0
        return row, constant

    def _matrix(self, rows: list[dict[int, float]]) -> sparse.csr_array | None:
        if not rows:
            return None
        r_index = [r for r, row in enumerate(rows) for _ in row]
        c_index = [index for row in rows for index in row]
        data = [coefficient for row in rows for coefficient in row.values()]
        return sparse.csr_array((data, (r_index, c_index)), shape=(len(rows), len(self.var)))

    def range_of(self, version: int, cell: Coord) -> tuple[float, float]:
        row, constant = self._form(version, cell)
        if not row:
            value = self.releases[version].values[cell]
            return (float(value), float(value)) if value is not None else (constant, constant)
        objective = np.zeros(len(self.var))
        for index, coefficient in row.items():
            objective[index] = coefficient
        ends = []
        for sign in (1.0, -1.0):  # the least value, then the greatest
            result = linprog(
                sign * objective,
                A_ub=self.a_ub,
                b_ub=self.b_ub if self.a_ub is not None else None,
                A_eq=self.a_eq,
                b_eq=self.b_eq if self.a_eq is not None else None,
                bounds=(0, None),
                method="highs",
            )
            if result.status == 3:  # nothing bounds it from above
                ends.append(math.inf)
            elif result.status != 0:
                raise ValueError("the published cells contradict each other")
            else:
                ends.append(sign * float(result.fun) + constant)
        return max(0.0, ends[0]), ends[1]


def audit(
    releases: Sequence[Release],
    *,
    monotone: bool,
    skip: frozenset[Coord] = frozenset(),
    only: frozenset[Coord] | None = None,
) -> list[Exposure]:
    """The range an attacker can narrow each primary suppressed cell of ``releases`` (newest first)
    to, reading all of them together; ``skip``: cells of the newest already proven safe; ``only``:
    audit these cells of the newest and nothing else (the others proven otherwise, see
    :func:`protect_next`). Data that break the growth a monotone attacker assumes (a correction)
    leave the versions unlinked."""
    try:
        return _exposures(releases, monotone=monotone, skip=skip, only=only)
    except ValueError:
        return _exposures(releases[:1], monotone=False, skip=skip, only=only)


def _exposures(
    releases: Sequence[Release], *, monotone: bool, skip: frozenset[Coord], only: frozenset[Coord] | None
) -> list[Exposure]:
    programme = _Programme(releases, monotone=monotone)
    found = []
    for v, release in enumerate(releases):
        if only is not None:
            cells = release.primary & only - skip if v == 0 else frozenset()
        else:
            cells = release.primary - skip if v == 0 else release.primary
        for cell in sorted(cells):
            low, high = programme.range_of(v, cell)
            found.append(Exposure(version=v, cell=cell, low=low, high=high))
    return found


def _cubes(cell: Coord, shape: tuple[int, ...]) -> list[list[Coord]]:
    """The hypercubes with ``cell`` as a corner: one other category in each dimension the cell does
    not total over, the corners every combination of the two. Moving the same amount into the
    corners of one parity and out of the others changes no margin, so suppressing a whole cube
    leaves the cell a range at least that wide."""
    axes = [axis for axis, n in enumerate(shape) if cell[axis] < n]
    if not axes:
        return []
    cubes = []
    for others in itertools.product(*([i for i in range(shape[axis]) if i != cell[axis]] for axis in axes)):
        corners = []
        for choice in itertools.product((0, 1), repeat=len(axes)):
            corner = list(cell)
            for axis, pick, other in zip(axes, choice, others, strict=True):
                if pick:
                    corner[axis] = other
            corners.append(tuple(corner))
        cubes.append(corners)
    return cubes


def _room(corners: list[Coord], true: dict[Coord, int]) -> int:
    """How far the cube lets the cell's value move, down and up, with every margin unchanged: the
    corners come in the order of the binary choices, so a corner's parity is that of its index."""
    even = min(true[c] for i, c in enumerate(corners) if not i.bit_count() % 2)  # the cell is corner 0
    odd = [true[c] for i, c in enumerate(corners) if i.bit_count() % 2]
    return even + (min(odd) if odd else 0)


def _cube_choose(
    cell: Coord,
    values: dict[Coord, int | None],
    true: dict[Coord, int],
    shape: tuple[int, ...],
    threshold: int,
    slack: dict[Coord, int] | None = None,
) -> tuple[list[Coord], bool]:
    """The cube around ``cell`` that hides the fewest people still published while leaving the cell
    a range of at least ``threshold``; if none does, the one leaving the widest range. ``slack``:
    how far each cell can fall, when not all the way to 0 (its true value)."""
    best: tuple[tuple[int, int], list[Coord]] | None = None
    for corners in _cubes(cell, shape):
        room = _room(corners, slack if slack is not None else true)
        cost = sum(true[c] for c in corners if values[c] is not None)
        key = (0 if room >= threshold else 1, cost if room >= threshold else -room)
        if best is None or key < best[0]:
            best = (key, corners)
    if best is None:
        return [cell], False
    return best[1], best[0][0] == 0


def protect(
    counts: NDArray[np.int64],
    *,
    earlier: Sequence[Release] = (),
    monotone: bool = False,
    threshold: int = THRESHOLD,
) -> Release:
    """The release of a table of interior ``counts``: small cells suppressed, then for each a
    hypercube of others (the cheapest that protects it), and the result audited against everything
    an attacker can read, this release and the ``earlier`` ones (newest first) together. A cell the
    audit still finds exposed gets a second cube; a table that cannot be protected so is released
    with every non-empty cell suppressed."""
    shape = tuple(int(n) for n in counts.shape)
    true = margins(counts)
    primary = frozenset(c for c, v in true.items() if _is_primary(v, threshold))
    values: dict[Coord, int | None] = {c: (None if c in primary else v) for c, v in true.items()}
    # The largest cells first: their cubes are the hardest to place, and later ones reuse them.
    proven: set[Coord] = set()
    for cell in sorted(primary, key=lambda c: -true[c]):
        corners, safe = _cube_choose(cell, values, true, shape, threshold)
        for corner in corners:
            values[corner] = None
        if safe:
            proven.add(cell)
    earlier = [r for r in earlier[:VERSIONS_AUDITED] if r.shape == shape]
    # A cube proves its cell safe within one release; read beside earlier ones, only the audit can.
    skip = frozenset(proven) if not (earlier and monotone) else frozenset()
    for _round in range(3):
        release = Release(shape=shape, values=dict(values), primary=primary)
        exposed = [
            e for e in audit([release, *earlier], monotone=monotone, skip=skip) if e.high - e.low < threshold - 1e-6
        ]
        if not exposed:
            return release
        for exposure in exposed:
            for corner in _cube_choose(exposure.cell, values, true, shape, threshold)[0]:
                values[corner] = None
    hidden: dict[Coord, int | None] = {c: (None if v else v) for c, v in true.items()}
    return Release(shape=shape, values=hidden, primary=primary)


def protect_next(
    counts: NDArray[np.int64],
    *,
    last: Release,
    last_counts: NDArray[np.int64],
    earlier: Sequence[Release] = (),
    monotone: bool = False,
    threshold: int = THRESHOLD,
) -> Release | None:
    """The next release of a table whose ``last`` release (protected from ``last_counts``, audited
    then against its own earlier versions) is the newest of ``earlier``, made by auditing only what
    the change can expose; None when this shortcut does not apply and :func:`protect` must be used.

    Why it is safe (decision 0074). Every cell suppressed in ``last`` stays suppressed, and the
    counts only grew since it (``d = counts - last_counts >= 0``; for a table that may shrink, at
    least in every cell ``last`` hid). Then, whatever interior an attacker finds consistent with
    the earlier releases, adding ``d`` to it is consistent with the new one too: the cells the new
    release publishes were published before and moved by exactly ``d``, and the growth between
    versions holds. So the new release narrows no earlier cell, and a cell small in both ``last``
    and now keeps the range ``last``'s audit proved, shifted by its own ``d``. Only the cells small
    now but not in ``last`` are unproven: they get a hypercube, and the linear programme runs for
    them alone against the earlier versions, as :func:`protect` runs it for all. If that fails
    three times, every non-empty cell is hidden (with those ``last`` hid): nothing then bounds a
    cell of the new version from above, so no audit is needed."""
    shape = tuple(int(n) for n in counts.shape)
    earlier = [r for r in earlier[:VERSIONS_AUDITED] if r.shape == shape]
    if last.shape != shape or tuple(last_counts.shape) != shape or not earlier or earlier[0] is not last:
        return None
    growth = counts - last_counts
    hidden_before = [c for c in last.suppressed if all(i < n for i, n in zip(c, shape, strict=True))]
    if monotone and bool((growth < 0).any()):
        return None
    if any(growth[c] < 0 for c in hidden_before):
        return None
    true = margins(counts)
    primary = frozenset(c for c, v in true.items() if _is_primary(v, threshold))
    values: dict[Coord, int | None] = {
        c: (None if c in primary or last.values.get(c, 0) is None else v) for c, v in true.items()
    }
    fresh = primary - last.primary
    if not fresh:
        return Release(shape=shape, values=values, primary=primary)
    # Counts that only grow: a cell the last release published cannot fall below what it showed,
    # so a hypercube through it has only its growth to give.
    slack: dict[Coord, int] | None = None
    if monotone:
        slack = {c: v - (last.values.get(c) or 0) for c, v in true.items()}
    proven: set[Coord] = set()
    for cell in sorted(fresh, key=lambda c: -true[c]):
        corners, safe = _cube_choose(cell, values, true, shape, threshold, slack)
        for corner in corners:
            values[corner] = None
        if safe:
            proven.add(cell)
    skip = frozenset(proven) if not monotone else frozenset()
    for _round in range(3):
        release = Release(shape=shape, values=dict(values), primary=primary)
        exposed = [
            e
            for e in audit([release, *earlier], monotone=monotone, skip=skip, only=fresh)
            if e.high - e.low < threshold - 1e-6
        ]
        if not exposed:
            return release
        for exposure in exposed:
            for corner in _cube_choose(exposure.cell, values, true, shape, threshold, slack)[0]:
                values[corner] = None
    hidden: dict[Coord, int | None] = {c: (None if v or values[c] is None else v) for c, v in true.items()}
    return Release(shape=shape, values=hidden, primary=primary)
