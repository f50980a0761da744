"""The array engine gives what the per-pair engine gives: the same candidate pairs and the same
comparison vectors, on records built to hit every level of every field."""

from __future__ import annotations

import random
from datetime import date, timedelta

import numpy as np

from gov21.linkage import engine, vector
from gov21.linkage.engine import Entry, Facet, Index, Person

GIVEN = ["ruth", "ruth ann", "mary", "maria", "john", "jon", "johnathan", "keisha", "kisha", "william", "willem", ""]
SURNAME = [
    "charles",
    "charels",
    "charlesworth",
    "baptiste",
    "baptist",
    "joseph",
    "josephs",
    "de la cruz",
    "cruz",
    "st hill",
    "",
]
ADDRESS = ["1 bay street", "1 bay stret", "4 hill road", "hill road 4", "12 main street upper", "", "12 main street"]
PLACES = ["port royal", "anse corail", ""]
PARISHES = ["XA-01", "XA-03", ""]


def _day(rng: random.Random) -> date | None:
    if rng.random() < 0.1:
        return None
    return date(1950, 1, 1) + timedelta(days=rng.randrange(0, 400))


def _population(seed: int) -> tuple[list[Person], list[Entry]]:
    rng = random.Random(seed)
    persons = []
    for i in range(150):
        facets = []
        since: date | None = None
        for _ in range(rng.choice([1, 1, 2, 3])):
            facets.append(
                Facet(
                    since,
                    rng.choice(GIVEN),
                    rng.choice(SURNAME),
                    rng.choice(ADDRESS),
                    rng.choice(PLACES),
                    rng.choice(PARISHES),
                )
            )
            since = date(1990, 1, 1) + timedelta(days=rng.randrange(0, 9000))
        persons.append(
            Person(
                key=f"P{i:03d}",
                dob=_day(rng),
                sex=rng.choice(["F", "M", ""]),
                facets=facets,
                mother=rng.choice(["ann charles", "anne charles", "", "mary joseph"]),
                father=rng.choice(["", "john joseph"]),
                phone=rng.choice(["", "5551234", "5559999"]),
                extra=(rng.choice(["", "A1", "A2", "B7", "AB12345"]),),
            )
        )
    entries = []
    for i in range(150):
        dob = _day(rng)
        if dob is not None and rng.random() < 0.3:
            dob = date(dob.year, min(dob.day, 12), dob.month if dob.month <= 28 else 1)
        entries.append(
            Entry(
                key=f"R{i:03d}",
                given=rng.choice(GIVEN),
                surname=rng.choice(SURNAME),
                dob=dob,
                sex=rng.choice(["F", "M", ""]),
                address=rng.choice(ADDRESS),
                settlement=rng.choice(PLACES),
                parish=rng.choice(PARISHES),
                mother=rng.choice(["ann charles", "", "mary josef"]),
                father=rng.choice(["", "jon joseph", "john joseph", "peter paul"]),
                phone=rng.choice(["", "5551234", "5550000"]),
                former=tuple(rng.sample(SURNAME[:-1], rng.choice([0, 0, 1, 2]))),
                at=rng.choice([None, date(1995, 5, 5), date(2020, 1, 1)]),
                extra=(rng.choice(["", "A1", "B8", "AB12346"]),),
            )
        )
    return persons, entries


def _check(seed: int, *, history: bool) -> None:
    persons, entries = _population(seed)
    index = Index.build(persons, history=history)
    index.max_block, index.refine_above = 20, 2
    vocab = vector.Vocab()
    ps, es = vector.persons_of(persons, vocab), vector.entries_of(entries, vocab)
    blocked = vector.block_and_compare(es, ps, vocab, history=history, max_block=20, refine_above=2)
    got = {(es.keys[r], ps.keys[p]): list(g) for r, p, g in zip(blocked.rec, blocked.per, blocked.gammas, strict=True)}
    want = {}
    refined = 0
    for entry in entries:
        for uin in index.candidates(entry):
            want[(entry.key, uin)] = engine.compare(entry, index.persons[uin], history=history)
        refined += sum(1 for key, finer in engine.entry_keys(entry) if finer and len(index.blocks.get(key, ())) > 2)
    assert set(got) == set(want)
    assert len(got) > 300
    assert refined > 50  # large blocks were looked up refined, in both engines alike
    assert got == want
    # Every pair of records and persons, not only the blocked ones.
    rec = np.repeat(np.arange(len(entries)), len(persons))
    per = np.tile(np.arange(len(persons)), len(entries))
    gammas = vector.compare_pairs(es, ps, rec, per, vector.Similarity(vocab), history=history)
    for r, p, g in zip(rec, per, gammas, strict=True):
        assert list(g) == engine.compare(entries[r], persons[p], history=history), (entries[r], persons[p])
    for f, n in enumerate(engine.levels_of(gammas.shape[1])):
        assert set(np.unique(gammas[:, f])) == {-1, *range(n)}, engine.FIELDS[f] if f < 9 else f


def test_the_array_engine_compares_as_the_per_pair_engine_with_history() -> None:
    _check(1, history=True)
    _check(2, history=True)


def test_the_array_engine_compares_as_the_per_pair_engine_without_history() -> None:
    _check(3, history=False)


def test_assigning_over_arrays_gives_the_outcomes_of_assign() -> None:
    rng = random.Random(7)
    persons = [f"P{i}" for i in range(30)]
    pairs = set()
    for r in range(200):
        for _ in range(rng.choice([0, 1, 1, 2, 3])):
            pairs.add((r, rng.randrange(30), rng.choice([0.1, 0.4, 0.5, 0.6, 0.9, 0.95, 0.97, 0.99, 0.999999, 1.0])))
    rows = sorted(pairs)
    rec = np.array([r for r, _p, _q in rows])
    per = np.array([p for _r, p, _q in rows])
    prob = np.array([q for _r, _p, q in rows])
    person, probability, status, reason = engine.assign_arrays(rec, per, prob, persons, 200, upper=0.95, lower=0.5)
    want = engine.assign(
        [(str(r), persons[p], q) for r, p, q in rows], [str(r) for r in range(200)], upper=0.95, lower=0.5
    )
    for r in range(200):
        got = engine.Outcome(
            str(r),
            persons[person[r]] if person[r] >= 0 else None,
            float(probability[r]),
            engine.STATUSES[status[r]],
            engine.REASONS[reason[r]],
        )
        assert got == want[str(r)]
    assert {o.reason for o in want.values()} >= {"", "ambiguous", "between", "conflict"}
