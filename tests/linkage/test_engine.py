"""The engine on its own: comparisons, blocking, EM and the one-person-per-record rule."""

from __future__ import annotations

from datetime import date

import numpy as np

from gov21.linkage import engine
from gov21.linkage.engine import Entry, Facet, Index, Person


def _person(key: str, given: str, surname: str, dob: date, *, facets: list[Facet] | None = None) -> Person:
    return Person(
        key=key, dob=dob, sex="F", facets=facets or [Facet(None, given, surname, "1 bay street", "port royal", "XA-01")]
    )


def test_a_swapped_day_and_month_is_its_own_level_and_finds_the_person_through_blocking() -> None:
    target = _person("1", "ruth", "charles", date(1990, 3, 4))
    index = Index.build([target, _person("2", "ann", "joseph", date(1970, 1, 1))], history=False)
    entry = Entry(key="r", given="ruth", surname="charles", dob=date(1990, 4, 3))
    assert index.candidates(entry) == ["1"]
    assert engine.compare(entry, target, history=False)[2] == 2


def test_history_compares_with_the_name_and_address_on_the_records_date() -> None:
    married = _person(
        "1",
        "ruth",
        "baptiste",
        date(1990, 1, 1),
        facets=[
            Facet(date(1990, 1, 1), "ruth", "charles", "4 hill road", "anse corail", "XA-03"),
            Facet(date(2015, 6, 1), "ruth", "baptiste", "1 bay street", "port royal", "XA-01"),
        ],
    )
    clinic_2009 = Entry(
        key="c", given="ruth", surname="charles", dob=date(1990, 1, 1), address="4 hill road", at=date(2009, 5, 5)
    )
    with_history = engine.compare(clinic_2009, married, history=True)
    without = engine.compare(clinic_2009, married, history=False)
    assert with_history[1] == 3 and with_history[4] == 2  # surname and address agree as of 2009
    assert without[1] == 0 and without[4] == 0
    # The maiden name is a blocking key only when history is kept.
    assert Index.build([married], history=True).candidates(
        Entry(key="x", given="ruth", surname="charles", dob=None)
    ) == ["1"]
    assert (
        Index.build([married], history=False).candidates(Entry(key="x", given="ruth", surname="charles", dob=None))
        == []
    )


def test_a_block_too_large_is_looked_up_refined_by_a_further_field() -> None:
    # Forty women named alike, born in the same decade, half in each settlement: the block of their
    # names is larger than the bound, so a record without a date is sought in its own settlement.
    persons = [
        Person(
            key=str(i),
            dob=date(1980 + i % 10, 1 + i % 12, 1 + i % 28),
            sex="F",
            facets=[Facet(None, "mary", "joseph", "", "port royal" if i % 2 else "anse corail", "")],
        )
        for i in range(40)
    ]
    index = Index.build(persons, history=True)
    index.refine_above = 8
    found = index.candidates(Entry(key="r", given="mary", surname="joseph", dob=None, settlement="port royal"))
    assert sorted(found, key=int) == [str(i) for i in range(1, 40, 2)]
    # A record without the refining value is still sought in the whole block (under max_block).
    assert len(index.candidates(Entry(key="r", given="mary", surname="joseph", dob=None))) == 40
    index.refine_above = 40
    assert (
        len(index.candidates(Entry(key="r", given="mary", surname="joseph", dob=None, settlement="port royal"))) == 40
    )


def test_em_tells_matches_from_non_matches_and_officers_labels_hold() -> None:
    rng = np.random.default_rng(1)
    matches = np.column_stack([rng.choice([2, 3], 200, p=[0.1, 0.9]) for _ in range(3)])
    others = np.column_stack([rng.choice([0, 1, 2, 3], 2000, p=[0.7, 0.2, 0.08, 0.02]) for _ in range(3)])
    gammas = np.vstack([matches, others]).astype(np.int8)
    gammas = np.hstack([gammas, np.full((len(gammas), len(engine.FIELDS) - 3), engine.MISSING, dtype=np.int8)])
    u = [[0.7, 0.2, 0.08, 0.02]] * 3 + [[1 / n] * n for n in engine.levels_of(len(engine.FIELDS))[3:]]
    model = engine.em_estimate(gammas, u)
    _w, p = engine.scores(gammas, model)
    assert (p[:200] > 0.5).mean() > 0.95 and (p[200:] < 0.5).mean() > 0.95
    assert 0.05 < model.prior < 0.15


def test_one_person_per_record_and_conflicts_go_to_review() -> None:
    outcomes = engine.assign(
        [
            ("a", "P1", 0.99),
            ("b", "P1", 0.98),
            ("c", "P2", 0.97),
            ("c", "P3", 0.96),
            ("d", "P4", 0.7),
            ("e", "P5", 0.1),
        ],
        ["a", "b", "c", "d", "e", "f"],
        upper=0.95,
        lower=0.5,
    )
    assert (outcomes["a"].status, outcomes["a"].reason) == ("review", "conflict")
    assert (outcomes["b"].status, outcomes["b"].reason) == ("review", "conflict")
    assert (outcomes["c"].status, outcomes["c"].reason) == ("review", "ambiguous")
    assert (outcomes["d"].status, outcomes["d"].reason) == ("review", "between")
    assert outcomes["e"].status == outcomes["f"].status == "unlinked"


def _block(rng: np.random.Generator, n: int, columns: list[list[float]]) -> np.ndarray:
    return np.column_stack([rng.choice(len(p), n, p=p) for p in columns])


def test_training_sessions_keep_a_relative_at_the_same_address_from_being_taken_for_the_person() -> None:
    """Candidate pairs hold many relatives (same surname and address, other given name and birth
    date): EM over all of them takes the family for the match; the sessions do not."""
    rng = np.random.default_rng(68)
    #       given                    surname               dob                        sex         address          place
    matches = _block(
        rng, 600, [[0, 0.1, 0.1, 0.8], [0, 0.05, 0.1, 0.85], [0, 0.05, 0.05, 0.9], [0, 1], [0, 0.1, 0.9], [0, 0, 1]]
    )
    relatives = _block(rng, 2000, [[1, 0, 0, 0], [0, 0, 0, 1], [1, 0, 0, 0], [0.5, 0.5], [0, 0, 1], [0, 0, 1]])
    namesakes = _block(rng, 2000, [[0, 0, 0, 1], [0, 0, 0, 1], [1, 0, 0, 0], [0.5, 0.5], [1, 0, 0], [0.7, 0.3, 0]])
    same_day = _block(rng, 600, [[1, 0, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1], [0.5, 0.5], [1, 0, 0], [0.8, 0.2, 0]])
    gammas = np.vstack([matches, relatives, namesakes, same_day]).astype(np.int8)
    gammas = np.hstack([gammas, np.full((len(gammas), 3), engine.MISSING, dtype=np.int8)])
    u = [
        [0.9, 0.05, 0.03, 0.02],
        [0.9, 0.05, 0.03, 0.02],
        [0.97, 0.02, 0.005, 0.005],
        [0.5, 0.5],
        [0.95, 0.04, 0.01],
        [0.8, 0.15, 0.05],
        [1 / 3] * 3,
        [1 / 3] * 3,
        [0.5, 0.5],
    ]
    plain = engine.scores(gammas, engine.em_estimate(gammas, u))[1]
    trained = engine.scores(gammas, engine.em_sessions(gammas, u))[1]
    relatives_at = slice(600, 2600)
    assert (plain[relatives_at] > 0.5).mean() > 0.5  # what the sessions are for
    assert (trained[relatives_at] < 0.5).all()
    assert (trained[:600] > 0.95).mean() > 0.9
    assert (trained[2600:] < 0.5).all()
