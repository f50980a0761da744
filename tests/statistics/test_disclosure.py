"""Disclosure control attacked: an adversary who reads every published cell and margin of a table,
and its earlier versions, and knows the counts are whole numbers that only grow, recovers no
suppressed small count."""

from __future__ import annotations

import itertools

import numpy as np

from gov21.statistics.disclosure import THRESHOLD, Release, audit, full_cells, margins, protect, protect_next


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


def _all_completions(release: Release, top: int) -> list[np.ndarray]:
    """:func:`_completions`, every guess checked at once: each published cell is a constant plus a
    sum of hidden cells."""
    shape = release.shape
    interior = [c for c in full_cells(shape) if all(i < n for i, n in zip(c, shape, strict=True))]
    hidden = [c for c in interior if release.values[c] is None]
    known = np.zeros(shape, dtype=np.int64)
    for c in interior:
        known[c] = release.values[c] or 0
    base = margins(known)
    published = [(c, v) for c, v in release.values.items() if v is not None]
    sums = np.zeros((len(published), len(hidden)), dtype=np.int64)
    for j, h in enumerate(hidden):
        unit = np.zeros(shape, dtype=np.int64)
        unit[h] = 1
        spread = margins(unit)
        for i, (c, _v) in enumerate(published):
            sums[i, j] = spread[c]
    target = np.array([v - base[c] for c, v in published], dtype=np.int64)
    guesses = np.array(list(itertools.product(range(top + 1), repeat=len(hidden))), dtype=np.int64)
    fits = guesses[(guesses @ sums.T == target).all(axis=1)]
    found = []
    for guess in fits:
        table = known.copy()
        for h, g in zip(hidden, guess, strict=True):
            table[h] = g
        found.append(table)
    return found


def _joint_attack(
    newer: Release, older: Release, truth: tuple[np.ndarray, np.ndarray], top: int = 20
) -> dict[tuple[int, tuple[int, ...]], set[int]]:
    """The values each primary cell of two consecutive versions could take for an attacker who
    reads both and knows that counts only grow between them (the differencing attack across
    versions), by brute force."""
    old_tables, new_tables = _all_completions(older, top), _all_completions(newer, top)
    pairs = [(o, n) for o in old_tables for n in new_tables if bool((n >= o).all())]
    # ``top`` must reach every value a hidden cell's published totals allow (the tables here have
    # none above 20), or the search would cut ranges short; and it must find the truth.
    assert any(np.array_equal(o, truth[1]) and np.array_equal(n, truth[0]) for o, n in pairs)
    found: dict[tuple[int, tuple[int, ...]], set[int]] = {}
    for o, n in pairs:
        old_full, new_full = margins(o), margins(n)
        for c in newer.primary:
            found.setdefault((0, c), set()).add(int(new_full[c]))
        for c in older.primary:
            found.setdefault((1, c), set()).add(int(old_full[c]))
    return found


def _following(counts: np.ndarray, releases: list[Release], kept: list[np.ndarray]) -> tuple[Release, bool]:
    """The next version as the office makes it on an event: the incremental path when it applies,
    else the full protection; and which it was."""
    window = releases[::-1][:3]
    made = protect_next(counts, last=releases[-1], last_counts=kept[-1], earlier=window, monotone=True)
    if made is not None:
        return made, True
    return protect(counts, earlier=window, monotone=True), False


def test_a_single_birth_in_a_small_parish_released_alone_is_not_recovered_from_consecutive_versions() -> None:
    """Version 1 hides the first parish's 3 births of the month; one more birth there makes version
    2, released alone by the incremental path: the parish's total, the month's and the grand total
    each grow by one. Differencing the two versions tells where the birth went, never how many
    there are: neither the 4 nor the 3 before it is narrowed below the threshold."""
    first_counts = np.array([[3, 6, 8], [7, 9, 12]], dtype=np.int64)
    first = protect(first_counts)
    second_counts = first_counts.copy()
    second_counts[0, 0] += 1
    second = protect_next(second_counts, last=first, last_counts=first_counts, earlier=[first], monotone=True)
    assert second is not None
    assert second.values[(0, 0)] is None and (0, 0) in second.primary
    assert second.values[(0, 3)] == first.values[(0, 3)] + 1  # type: ignore[operator]
    assert all(v is None or v == 0 or v >= THRESHOLD for v in second.values.values())
    # What the first version hid, the second hides too: no newly published cell to difference.
    assert first.suppressed <= second.suppressed
    for (version, cell), possible in _joint_attack(second, first, (second_counts, first_counts)).items():
        assert max(possible) - min(possible) >= THRESHOLD - 1, (version, cell, sorted(possible))
    for exposure in audit([second, first], monotone=True):
        assert exposure.high - exposure.low >= THRESHOLD - 1e-6, exposure


def test_a_release_that_publishes_what_the_last_one_hid_is_caught_by_the_attack_across_versions() -> None:
    """The attack has teeth: a next version protected afresh, hiding the small cell with another
    hypercube (safe on its own), publishes cells the last version hid; read beside it, with counts
    that only grow, it pins the small cell down. The incremental path keeps the last hypercube."""
    first_counts = np.array([[3, 6, 8], [7, 9, 12]], dtype=np.int64)
    first = protect(first_counts)
    assert first.suppressed == {(0, 0), (0, 1), (1, 0), (1, 1)}
    second_counts = first_counts.copy()
    second_counts[0, 2] += 1
    other_cube = {(0, 0), (0, 2), (1, 0), (1, 2)}
    naive = Release(
        shape=(2, 3),
        values={c: (None if c in other_cube else v) for c, v in margins(second_counts).items()},
        primary=frozenset({(0, 0)}),
    )
    alone = {int(margins(t)[(0, 0)]) for t in _all_completions(naive, 20)}
    assert max(alone) - min(alone) >= THRESHOLD - 1
    caught = _joint_attack(naive, first, (second_counts, first_counts))
    assert caught[(1, (0, 0))] == {3} and caught[(0, (0, 0))] == {3}
    assert min(e.high - e.low for e in audit([naive, first], monotone=True)) < 1e-6
    second = protect_next(second_counts, last=first, last_counts=first_counts, earlier=[first], monotone=True)
    assert second is not None and second.suppressed == first.suppressed
    for (version, cell), possible in _joint_attack(second, first, (second_counts, first_counts)).items():
        assert max(possible) - min(possible) >= THRESHOLD - 1, (version, cell, sorted(possible))


def test_a_new_small_cell_found_by_the_incremental_path_is_hidden_against_every_earlier_version() -> None:
    """A first birth in a cell that was empty, and hidden in version 1 only to protect another: a
    new small cell, which the incremental path audits against the earlier version; the brute-force
    attacker reading both versions recovers nothing."""
    first_counts = np.array([[3, 6, 8], [7, 0, 12]], dtype=np.int64)
    first = protect(first_counts)
    assert first.values[(1, 1)] is None and (1, 1) not in first.primary
    second_counts = first_counts.copy()
    second_counts[1, 1] += 1
    second, incremental = _following(second_counts, [first], [first_counts])
    assert incremental
    assert (1, 1) in second.primary and second.values[(1, 1)] is None
    for (version, cell), possible in _joint_attack(second, first, (second_counts, first_counts)).items():
        assert max(possible) - min(possible) >= THRESHOLD - 1, (version, cell, sorted(possible))


def test_the_incremental_path_survives_the_full_audit_over_a_stream_of_single_events() -> None:
    """Births arrive one at a time in a table of small counts; each version, made by the incremental
    path wherever it applies, is then audited in full: every small cell of it and of its three
    earlier versions, read together."""
    rng = np.random.default_rng(7)
    counts = rng.integers(0, 9, size=(4, 3, 2)).astype(np.int64)
    releases = [protect(counts)]
    kept = [counts.copy()]
    shortcuts = 0
    for _step in range(12):
        grown = kept[-1].copy()
        grown[tuple(int(i) for i in rng.integers(0, (4, 3, 2)))] += 1
        made, incremental = _following(grown, releases, kept)
        shortcuts += incremental
        assert all(v is None or v == 0 or v >= THRESHOLD for v in made.values.values())
        full = margins(grown)
        assert all(v is None or v == full[c] for c, v in made.values.items())
        for exposure in audit([made, *releases[::-1][:3]], monotone=True):
            assert exposure.high - exposure.low >= THRESHOLD - 1e-6, exposure
        releases.append(made)
        kept.append(grown)
    assert shortcuts >= 6  # the stream exercises the incremental path, not only the full one


def test_the_incremental_path_declines_counts_that_shrank() -> None:
    """A correction that lowers a count of events breaks the growth its proof rests on: the full
    protection is used instead."""
    counts = np.array([[3, 6, 8], [7, 9, 12]], dtype=np.int64)
    first = protect(counts)
    lower = counts.copy()
    lower[1, 2] -= 1
    assert protect_next(lower, last=first, last_counts=counts, earlier=[first], monotone=True) is None
    # A table that may shrink (the population) accepts it where nothing was hidden, not where it was.
    assert protect_next(lower, last=first, last_counts=counts, earlier=[first], monotone=False) is not None
    hidden = counts.copy()
    hidden[0, 0] -= 1
    assert protect_next(hidden, last=first, last_counts=counts, earlier=[first], monotone=False) is None


def test_a_first_birth_beside_counts_published_in_full_hides_the_table_at_once() -> None:
    """Everything was published, so every neighbour of the new 1 can only have grown: no hypercube
    can hide it. The incremental path then hides every non-empty cell, at once and without a
    linear programme, and the attacker's programme leaves every small cell unbounded."""
    first_counts = np.array([[5, 0, 6], [17, 19, 22], [16, 18, 21]], dtype=np.int64)
    first = protect(first_counts)
    assert not first.suppressed
    second_counts = first_counts.copy()
    second_counts[0, 1] += 1
    second = protect_next(second_counts, last=first, last_counts=first_counts, earlier=[first], monotone=True)
    assert second is not None
    assert all(v is None or v == 0 for v in second.values.values())
    for exposure in audit([second, first], monotone=True):
        assert exposure.high - exposure.low >= THRESHOLD, exposure
