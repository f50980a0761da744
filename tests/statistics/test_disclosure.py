"""Disclosure control attacked: an adversary who reads every published cell and margin of a table,
and its earlier versions, and knows the counts are whole numbers that only grow, recovers no
suppressed small count."""

from __future__ import annotations

import itertools

import numpy as np

from gov21.statistics.disclosure import THRESHOLD, Release, audit, full_cells, margins, protect


def _completions(release: Release, top: int) -> list[np.ndarray]:
    """Every table of whole numbers up to ``top`` that matches all the published cells of
    ``release``: what an attacker with unlimited patience finds, by brute force."""
    shape = release.shape
    interior = [c for c in full_cells(shape) if all(i < n for i, n in zip(c, shape, strict=True))]
    hidden = [c for c in interior if release.values[c] is None]
    found = []
    for guess in itertools.product(range(top + 1), repeat=len(hidden)):
        counts = np.zeros(shape, dtype=np.int64)
        for c in interior:
            counts[c] = release.values[c] or 0
        for c, g in zip(hidden, guess, strict=True):
            counts[c] = g
        full = margins(counts)
        if all(v is None or full[c] == v for c, v in release.values.items()):
            found.append(counts)
    return found


def _attack(release: Release, top: int = 12) -> dict[tuple[int, ...], set[int]]:
    """The values each primary cell could take, given everything published."""
    tables = _completions(release, top)
    return {c: {int(margins(t)[c]) for t in tables} for c in release.primary}


def test_a_small_cell_is_hidden_with_a_hypercube_and_its_margins_give_nothing_away() -> None:
    counts = np.array([[3, 6, 8], [7, 9, 12], [5, 10, 11]], dtype=np.int64)
    release = protect(counts)
    assert release.values[(0, 0)] is None
    assert len(release.suppressed) == 4  # one cube: the cell and three others
    assert all(v is None or v == 0 or v >= THRESHOLD for v in release.values.values())
    for cell, values in _attack(release).items():
        assert max(values) - min(values) >= THRESHOLD - 1, cell
    # Differencing the margins: row total minus the published cells of its row is two cells, not one.
    row_total, published = release.values[(0, 3)], [release.values[(0, j)] for j in range(3)]
    assert row_total is not None and published.count(None) == 2


def test_without_secondary_suppression_the_margin_attack_recovers_the_cell() -> None:
    """The attack itself works: only the primary cell hidden, its row total gives it away."""
    counts = np.array([[3, 20, 30], [25, 40, 12]], dtype=np.int64)
    full = margins(counts)
    naive = Release(
        shape=(2, 3), values={c: (None if c == (0, 0) else v) for c, v in full.items()}, primary=frozenset({(0, 0)})
    )
    assert _attack(naive)[(0, 0)] == {3}
    assert audit([naive], monotone=False)[0].high - audit([naive], monotone=False)[0].low == 0


def test_a_new_version_does_not_give_away_a_cell_hidden_in_the_last() -> None:
    """Version 1 hides a 3; late registrations make version 2. An attacker who reads both and knows
    no count falls between versions must still not pin the 3 down."""
    first_counts = np.array([[3, 6, 8], [7, 9, 12]], dtype=np.int64)
    first = protect(first_counts)
    second_counts = first_counts + np.array([[2, 0, 1], [0, 1, 0]], dtype=np.int64)
    second = protect(second_counts, earlier=[first], monotone=True)
    assert all(v is None or v == 0 or v >= THRESHOLD for v in second.values.values())
    for exposure in audit([second, first], monotone=True):
        assert exposure.high - exposure.low >= THRESHOLD - 1e-6, exposure


def test_a_table_of_only_small_counts_publishes_none_of_them() -> None:
    counts = np.array([[1, 2], [0, 3]], dtype=np.int64)
    release = protect(counts)
    assert all(v is None or v == 0 or v >= THRESHOLD for v in release.values.values())
    for cell, possible in _attack(release, top=6).items():
        assert len(possible) >= 2, cell
