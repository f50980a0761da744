"""The engine's blocking and comparisons over arrays (decision 0068): every string a code in one
vocabulary, every person's facets rows of a table, candidate pairs found by sorting blocking keys
packed in 64-bit integers, and the comparison levels of millions of pairs computed column by column
with numpy and rapidfuzz's pairwise Jaro–Winkler (``cpdist``, C++ on every core). The levels are
the levels of ``engine.compare`` exactly (tests compare the two on the same data); only the work
per pair moved out of Python.

Jaro–Winkler and the word overlap of addresses are computed once per distinct pair of strings, not
per pair of records: names repeat, so millions of pairs share a few hundred thousand distinct
(name, name) pairs."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from gov21.linkage.standardise import phonetic

MISSING = -1
# Blocking key kinds, in the top byte of a packed key.
_K_DOBG, _K_GS, _K_SY, _K_GY, _K_PHONE, _K_DOBS, _K_GD, _K_EXTRA = 1, 2, 3, 4, 5, 6, 7, 8
# Pairs compared at a time: bounds the memory of a run (a few hundred MB at most).
CHUNK = 2_000_000
_WORDS = 8  # words of a string kept for the overlap of addresses


class Vocab:
    """Every distinct non-empty string once, with its code; the empty string is MISSING."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.strings: list[str] = []
        self._phon: dict[str, int] = {}
        self._phonetic: list[int] = []
        self._first: list[int] = []
        self._prefix3: list[int] = []
        self._initial: list[int] = []

    def code(self, text: str) -> int:
        if not text:
            return MISSING
        found = self.codes.get(text)
        if found is None:
            found = len(self.strings)
            self.codes[text] = found
            self.strings.append(text)
        return found

    def codes_of(self, texts: Iterable[str]) -> np.ndarray:
        code = self.code
        return np.fromiter((code(t) for t in texts), dtype=np.int64)

    def _derived(self) -> None:
        """Per string: its phonetic code, the code of its first word, of its first three letters and of
        its first letter (each in this vocabulary's phonetic table or as strings)."""
        for text in self.strings[len(self._phonetic) :]:
            self._phonetic.append(self._phon.setdefault(phonetic(text), len(self._phon)))
            self._first.append(self.code(text.split(" ", 1)[0]))
            self._prefix3.append(self.code(text[:3]))
            self._initial.append(self.code(text[:1]))
        if len(self._phonetic) < len(self.strings):  # the words and prefixes added just now
            self._derived()

    def table(self, name: str) -> np.ndarray:
        self._derived()
        return np.asarray(getattr(self, f"_{name}"), dtype=np.int64)

    def array(self) -> np.ndarray:
        return np.asarray(self.strings, dtype=object)


@dataclass
class Entries:
    """Records to link, as columns of codes (``dob`` as ordinals, ``at`` the recording day or 0)."""

    keys: list[str]
    given: np.ndarray
    surname: np.ndarray
    former: np.ndarray  # records × k, MISSING where none
    dob: np.ndarray  # ordinal, 0 when unknown
    sex: np.ndarray
    address: np.ndarray
    settlement: np.ndarray
    parish: np.ndarray
    mother: np.ndarray
    father: np.ndarray
    phone: np.ndarray
    extra: np.ndarray  # records × e
    at: np.ndarray  # ordinal, 0 when unknown


@dataclass
class Persons:
    """Registry persons (columns) and their facets (rows ``start[p]`` to ``start[p] + count[p]``)."""

    keys: list[str]
    dob: np.ndarray
    sex: np.ndarray
    mother: np.ndarray
    father: np.ndarray
    phone: np.ndarray
    extra: np.ndarray
    start: np.ndarray
    count: np.ndarray
    f_since: np.ndarray  # ordinal, 0 for "from the start"
    f_given: np.ndarray
    f_surname: np.ndarray
    f_address: np.ndarray
    f_settlement: np.ndarray
    f_parish: np.ndarray


def _ordinal(day: date | None) -> int:
    return day.toordinal() if day is not None else 0


def _matrix(vocab: Vocab, rows: Sequence[Sequence[str]], width: int) -> np.ndarray:
    out = np.full((len(rows), width), MISSING, dtype=np.int64)
    for i, row in enumerate(rows):
        for j, value in enumerate(row[:width]):
            out[i, j] = vocab.code(value)
    return out


def entries_of(entries: Sequence[object], vocab: Vocab) -> Entries:
    """Columns of ``engine.Entry`` objects."""
    es: list = list(entries)  # type: ignore[type-arg]
    former_width = max((len(e.former) for e in es), default=0)
    extra_width = max((len(e.extra) for e in es), default=0)
    return Entries(
        keys=[e.key for e in es],
        given=vocab.codes_of(e.given for e in es),
        surname=vocab.codes_of(e.surname for e in es),
        former=_matrix(vocab, [e.former for e in es], former_width),
        dob=np.fromiter((_ordinal(e.dob) for e in es), dtype=np.int64, count=len(es)),
        sex=vocab.codes_of(e.sex for e in es),
        address=vocab.codes_of(e.address for e in es),
        settlement=vocab.codes_of(e.settlement for e in es),
        parish=vocab.codes_of(e.parish for e in es),
        mother=vocab.codes_of(e.mother for e in es),
        father=vocab.codes_of(e.father for e in es),
        phone=vocab.codes_of(e.phone for e in es),
        extra=_matrix(vocab, [e.extra for e in es], extra_width),
        at=np.fromiter((_ordinal(e.at) for e in es), dtype=np.int64, count=len(es)),
    )


def persons_of(persons: Sequence[object], vocab: Vocab) -> Persons:
    """Columns of ``engine.Person`` objects, their facets flattened."""
    ps: list = list(persons)  # type: ignore[type-arg]
    count = np.fromiter((len(p.facets) for p in ps), dtype=np.int64, count=len(ps))
    start = np.zeros(len(ps), dtype=np.int64)
    if len(ps):
        start[1:] = np.cumsum(count)[:-1]
    facets = [f for p in ps for f in p.facets]
    extra_width = max((len(p.extra) for p in ps), default=0)
    return Persons(
        keys=[p.key for p in ps],
        dob=np.fromiter((_ordinal(p.dob) for p in ps), dtype=np.int64, count=len(ps)),
        sex=vocab.codes_of(p.sex for p in ps),
        mother=vocab.codes_of(p.mother for p in ps),
        father=vocab.codes_of(p.father for p in ps),
        phone=vocab.codes_of(p.phone for p in ps),
        extra=_matrix(vocab, [p.extra for p in ps], extra_width),
        start=start,
        count=count,
        f_since=np.fromiter((_ordinal(f.since) for f in facets), dtype=np.int64, count=len(facets)),
        f_given=vocab.codes_of(f.given for f in facets),
        f_surname=vocab.codes_of(f.surname for f in facets),
        f_address=vocab.codes_of(f.address for f in facets),
        f_settlement=vocab.codes_of(f.settlement for f in facets),
        f_parish=vocab.codes_of(f.parish for f in facets),
    )


# --- blocking -------------------------------------------------------------------------------------


def _ymd(ordinals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month and day of proleptic Gregorian ordinals (0 stays 0, 0, 0)."""
    days = (ordinals - 719163).astype("datetime64[D]")  # 719163 is 1970-01-01
    years = days.astype("datetime64[Y]")
    months = days.astype("datetime64[M]")
    y = years.astype(np.int64) + 1970
    m = (months - years.astype("datetime64[M]")).astype(np.int64) + 1
    d = (days - months.astype("datetime64[D]")).astype(np.int64) + 1
    unknown = ordinals <= 0
    return np.where(unknown, 0, y), np.where(unknown, 0, m), np.where(unknown, 0, d)


def _pack(kind: int, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return (np.int64(kind) << 56) | (a.astype(np.int64) << 28) | b.astype(np.int64)


def _pack3(kind: int, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return (np.int64(kind) << 56) | (a.astype(np.int64) << 34) | (b.astype(np.int64) << 12) | c.astype(np.int64)


def _sounds(vocab: Vocab, names: np.ndarray) -> np.ndarray:
    """The phonetic code of each name, MISSING for no name or a name with no sound."""
    phon = vocab.table("phonetic")
    ok = names >= 0
    out = np.where(ok, phon[np.where(ok, names, 0)] if len(phon) else 0, MISSING)
    empty = vocab._phon.get("", -2)
    return np.where(out == empty, MISSING, out)


def _name_keys(
    vocab: Vocab, owner: np.ndarray, given: np.ndarray, surname: np.ndarray, dob: np.ndarray, *, person: bool
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The keys of ``engine._name_keys`` for rows of (given, surname, dob), each with its owner."""
    prefix3 = vocab.table("prefix3")
    g_ph, s_ph = _sounds(vocab, given), _sounds(vocab, surname)
    known = dob > 0
    y, m, _d = _ymd(dob)
    both = (g_ph >= 0) & (s_ph >= 0)
    gs = both if person else both & ~known
    gd = both & known
    sy = known & (s_ph >= 0)
    gy = known & (given >= 0)
    g3 = prefix3[np.where(given >= 0, given, 0)] if len(prefix3) else given
    return [
        (owner[gs], _pack(_K_GS, g_ph[gs], s_ph[gs])),
        (owner[gd], _pack3(_K_GD, g_ph[gd], s_ph[gd], y[gd] // 10)),
        (owner[sy], _pack(_K_SY, s_ph[sy], y[sy] * 13 + m[sy])),
        (owner[gy], _pack(_K_GY, g3[gy], y[gy] * 13 + m[gy])),
    ]


def _dob_keys(
    vocab: Vocab, owner: np.ndarray, dob: np.ndarray, given: np.ndarray, surnames: Sequence[np.ndarray]
) -> list[tuple[np.ndarray, np.ndarray]]:
    """The keys of ``engine._dob_keys``: the day with the sound of the given name, and of each surname."""
    known = dob > 0
    g_ph = _sounds(vocab, given)
    out = []
    ok = known & (g_ph >= 0)
    out.append((owner[ok], _pack(_K_DOBG, g_ph[ok], dob[ok])))
    for surname in surnames:
        s_ph = _sounds(vocab, surname)
        ok = known & (s_ph >= 0)
        out.append((owner[ok], _pack(_K_DOBS, s_ph[ok], dob[ok])))
    return out


def _other_keys(owner: np.ndarray, phone: np.ndarray, extra: np.ndarray) -> list[tuple[np.ndarray, np.ndarray]]:
    out = [(owner[phone >= 0], _pack(_K_PHONE, np.zeros(int((phone >= 0).sum()), dtype=np.int64), phone[phone >= 0]))]
    for i in range(extra.shape[1]):
        column = extra[:, i]
        out.append((owner[column >= 0], _pack(_K_EXTRA + i, np.zeros(int((column >= 0).sum())), column[column >= 0])))
    return out


def person_keys(persons: Persons, vocab: Vocab, *, history: bool) -> tuple[np.ndarray, np.ndarray]:
    """(person, key) rows, each once: the keys of ``engine.person_keys``."""
    n = len(persons.keys)
    ids = np.arange(n, dtype=np.int64)
    if history:
        rows = np.repeat(ids, persons.count)
        facet = np.arange(len(rows), dtype=np.int64)
    else:
        rows, facet = ids, persons.start + persons.count - 1
    given, surname, dob = persons.f_given[facet], persons.f_surname[facet], persons.dob[rows]
    parts = _dob_keys(vocab, rows, dob, given, [surname])
    parts += _name_keys(vocab, rows, given, surname, dob, person=True)
    parts += _other_keys(ids, persons.phone, persons.extra)
    return _unique_rows(parts)


def entry_keys(entries: Entries, vocab: Vocab) -> tuple[np.ndarray, np.ndarray]:
    """(record, key) rows, each once: the keys of ``engine.entry_keys``."""
    n = len(entries.keys)
    ids = np.arange(n, dtype=np.int64)
    surnames = [entries.surname, *(entries.former[:, k] for k in range(entries.former.shape[1]))]
    parts = _dob_keys(vocab, ids, entries.dob, entries.given, surnames)
    y, m, d = _ymd(entries.dob)
    swap = (entries.dob > 0) & (d <= 12) & (d != m)
    if swap.any():
        # date(year, day, month): the month the day was, the day the month was.
        months = ((y[swap] - 1970) * 12 + d[swap] - 1).astype("datetime64[M]")
        days = months.astype("datetime64[D]") + (m[swap] - 1).astype("timedelta64[D]")
        swapped = days.astype(np.int64) + 719163
        parts += _dob_keys(vocab, ids[swap], swapped, entries.given[swap], [s[swap] for s in surnames])
    for surname in surnames:
        parts += _name_keys(vocab, ids, entries.given, surname, entries.dob, person=False)
    parts += _other_keys(ids, entries.phone, entries.extra)
    return _unique_rows(parts)


def _unique_rows(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    owner = np.concatenate([p[0] for p in parts]).astype(np.int64)
    key = np.concatenate([p[1] for p in parts]).astype(np.int64)
    order = np.lexsort((owner, key))
    owner, key = owner[order], key[order]
    keep = np.ones(len(key), dtype=bool)
    keep[1:] = (key[1:] != key[:-1]) | (owner[1:] != owner[:-1])
    return owner[keep], key[keep]


def candidate_pairs(
    entry_rows: tuple[np.ndarray, np.ndarray],
    person_rows: tuple[np.ndarray, np.ndarray],
    *,
    n_persons: int,
    max_block: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Every (record, person) sharing a key whose block holds at most ``max_block`` persons, each
    pair once, ordered by record."""
    p_owner, p_key = person_rows  # sorted by key
    e_owner, e_key = entry_rows
    left = np.searchsorted(p_key, e_key, side="left")
    right = np.searchsorted(p_key, e_key, side="right")
    size = right - left
    size[size > max_block] = 0
    total = int(size.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rec = np.repeat(e_owner, size)
    # Positions left[i] .. right[i] - 1 for each key row, laid end to end.
    offsets = np.repeat(left - np.cumsum(size) + size, size)
    pos = np.arange(total, dtype=np.int64) + offsets
    packed = np.unique(rec * np.int64(n_persons) + p_owner[pos])
    return packed // n_persons, packed % n_persons


# --- comparisons ----------------------------------------------------------------------------------


class Similarity:
    """Jaro–Winkler (and word overlap) of pairs of vocabulary codes, computed once per distinct pair."""

    def __init__(self, vocab: Vocab) -> None:
        self.vocab = vocab
        self.strings = vocab.array()
        self._words: np.ndarray | None = None

    def jw(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        if not len(a):
            return np.zeros(0)
        packed = a.astype(np.int64) * np.int64(len(self.strings) + 1) + b
        distinct, inverse = np.unique(packed, return_inverse=True)
        qa = self.strings[distinct // (len(self.strings) + 1)]
        qb = self.strings[distinct % (len(self.strings) + 1)]
        values = cpdist(list(qa), list(qb), scorer=JaroWinkler.similarity, workers=-1)
        return np.asarray(values, dtype=np.float64)[inverse.reshape(-1)]

    def words(self) -> np.ndarray:
        """Each string's distinct words as codes (MISSING padded), ``_WORDS`` at most."""
        if self._words is None or len(self._words) < len(self.strings):
            table = np.full((len(self.strings), _WORDS + 1), MISSING, dtype=np.int64)
            for i, text in enumerate(self.strings):
                seen = list(dict.fromkeys(text.split()))
                table[i, 0] = len(seen)
                for j, word in enumerate(seen[:_WORDS]):
                    table[i, j + 1] = hash(word) & 0x7FFFFFFFFFFF
            self._words = table
        return self._words

    def overlap_ok(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """len(words(a) & words(b)) * 2 >= max(len) + 1, as ``engine._similar_level`` reads it."""
        words = self.words()
        wa, wb = words[a], words[b]
        shared = np.zeros(len(a), dtype=np.int64)
        for i in range(1, _WORDS + 1):
            col = wa[:, i : i + 1]
            shared += ((col != MISSING) & (col == wb[:, 1:])).any(axis=1)
        return np.asarray(shared * 2 >= np.maximum(wa[:, 0], wb[:, 0]) + 1, dtype=bool)


def name_level(sim: Similarity, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``engine._name_level`` of code columns."""
    out = np.full(len(a), MISSING, dtype=np.int8)
    both = (a >= 0) & (b >= 0)
    out[both] = 0
    same = both & (a == b)
    out[same] = 3
    rest = np.flatnonzero(both & ~same)
    if len(rest):
        ra, rb = a[rest], b[rest]
        jw = sim.jw(ra, rb)
        phon, first = sim.vocab.table("phonetic"), sim.vocab.table("first")
        two = (jw >= 0.94) | (phon[ra] == phon[rb])
        one = (first[ra] == first[rb]) | (jw >= 0.88)
        out[rest] = np.where(two, 2, np.where(one, 1, 0))
    return out


def similar_level(sim: Similarity, a: np.ndarray, b: np.ndarray, *, high: float = 0.92) -> np.ndarray:
    """``engine._similar_level`` of code columns."""
    out = np.full(len(a), MISSING, dtype=np.int8)
    both = (a >= 0) & (b >= 0)
    out[both] = 0
    same = both & (a == b)
    out[same] = 2
    rest = np.flatnonzero(both & ~same)
    if len(rest):
        ra, rb = a[rest], b[rest]
        one = sim.jw(ra, rb) >= high
        check = np.flatnonzero(~one)
        if len(check):
            one[check] = sim.overlap_ok(ra[check], rb[check])
        out[rest] = np.where(one, 1, 0)
    return out


def dob_level(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """``engine._dob_level`` of ordinal columns (0 unknown)."""
    out = np.full(len(a), MISSING, dtype=np.int8)
    both = (a > 0) & (b > 0)
    out[both] = 0
    ya, ma, da = _ymd(a)
    yb, mb, db = _ymd(b)
    same = (ya == yb).astype(np.int8) + (ma == mb) + (da == db)
    near = both & ((same == 2) | (np.abs(a - b) <= 31))
    out[near] = 1
    out[both & (ya == yb) & (ma == db) & (da == mb)] = 2
    out[both & (a == b)] = 3
    return out


def exact_level(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both = (a >= 0) & (b >= 0)
    return np.where(both, (a == b).astype(np.int8), np.int8(MISSING)).astype(np.int8)


def _facet_rows(entries: Entries, persons: Persons, rec: np.ndarray, per: np.ndarray, *, history: bool):  # type: ignore[no-untyped-def]
    """The facet rows each pair is compared with, grouped by pair: one (the last, or the one valid on
    the record's day) or, for a record without a day under history, every facet of the person."""
    start, count = persons.start[per], persons.count[per]
    if not history:
        return np.arange(len(rec)), start + count - 1
    at = entries.at[rec]
    group = np.repeat(np.arange(len(rec)), count)
    offsets = np.repeat(start - np.cumsum(count) + count, count)
    facet = np.arange(int(count.sum()), dtype=np.int64) + offsets
    dated = at > 0
    # The facet valid on the day: the last (in order) with no start or a start on or before it,
    # else the first.
    valid = (persons.f_since[facet] <= at[group]) & dated[group]
    position = facet - start[group]
    chosen = np.full(len(rec), -1, dtype=np.int64)
    np.maximum.at(chosen, group[valid], position[valid])
    chosen = np.where(chosen < 0, 0, chosen) + start
    undated = ~dated[group]
    pair_of = np.concatenate([np.flatnonzero(dated), group[undated]])
    facet_of = np.concatenate([chosen[dated], facet[undated]])
    order = np.argsort(pair_of, kind="stable")
    return pair_of[order], facet_of[order]


def compare_pairs(
    entries: Entries, persons: Persons, rec: np.ndarray, per: np.ndarray, sim: Similarity, *, history: bool
) -> np.ndarray:
    """The comparison vectors of the pairs (``rec[i]``, ``per[i]``): ``engine.compare`` of each."""
    width_extra = min(entries.extra.shape[1], persons.extra.shape[1])
    out = np.empty((len(rec), 9 + width_extra), dtype=np.int8)
    for lo in range(0, len(rec), CHUNK):
        r, p = rec[lo : lo + CHUNK], per[lo : lo + CHUNK]
        out[lo : lo + len(r)] = _compare_chunk(entries, persons, r, p, sim, history=history, width_extra=width_extra)
    return out


def _compare_chunk(  # type: ignore[no-untyped-def]
    entries: Entries, persons: Persons, rec, per, sim: Similarity, *, history: bool, width_extra: int
) -> np.ndarray:
    pair, facet = _facet_rows(entries, persons, rec, per, history=history)
    er = rec[pair]
    given = name_level(sim, entries.given[er], persons.f_given[facet])
    f_surname = persons.f_surname[facet]
    surname = name_level(sim, entries.surname[er], f_surname)
    for k in range(entries.former.shape[1]):
        former = entries.former[er, k]
        has = np.flatnonzero(former >= 0)
        if len(has):
            surname[has] = np.maximum(surname[has], name_level(sim, former[has], f_surname[has]))
    address = similar_level(sim, entries.address[er], persons.f_address[facet])
    es, ep = entries.settlement[er], entries.parish[er]
    place = np.where(
        (es < 0) & (ep < 0),
        MISSING,
        np.where(
            (es >= 0) & (es == persons.f_settlement[facet]),
            2,
            np.where((ep >= 0) & (ep == persons.f_parish[facet]), 1, 0),
        ),
    ).astype(np.int8)
    levels = np.stack([given, surname, address, place], axis=1)
    if len(pair) != len(rec):
        # Several facets for some pairs: keep the first with the highest sum of levels.
        total = levels.astype(np.int64).sum(axis=1)
        first = np.ones(len(pair), dtype=bool)
        first[1:] = pair[1:] != pair[:-1]
        starts = np.flatnonzero(first)
        position = np.arange(len(pair)) - np.repeat(starts, np.diff(np.append(starts, len(pair))))
        score = total * 1_000_000 - position
        best = np.maximum.reduceat(score, starts)
        keep = score == np.repeat(best, np.diff(np.append(starts, len(pair))))
        levels = levels[keep]
    out = np.empty((len(rec), 9 + width_extra), dtype=np.int8)
    out[:, 0], out[:, 1], out[:, 4], out[:, 5] = levels[:, 0], levels[:, 1], levels[:, 2], levels[:, 3]
    out[:, 2] = dob_level(entries.dob[rec], persons.dob[per])
    out[:, 3] = exact_level(entries.sex[rec], persons.sex[per])
    out[:, 6] = similar_level(sim, entries.mother[rec], persons.mother[per])
    out[:, 7] = similar_level(sim, entries.father[rec], persons.father[per])
    out[:, 8] = exact_level(entries.phone[rec], persons.phone[per])
    for i in range(width_extra):
        out[:, 9 + i] = similar_level(sim, entries.extra[rec, i], persons.extra[per, i], high=0.9)
    return out


@dataclass
class Blocked:
    """Candidate pairs and their comparison vectors."""

    rec: np.ndarray
    per: np.ndarray
    gammas: np.ndarray


def block_and_compare(
    entries: Entries,
    persons: Persons,
    vocab: Vocab,
    *,
    history: bool,
    max_block: int,
    timings: dict[str, float] | None = None,
    person_rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> Blocked:
    """Candidate pairs and their comparison vectors; ``person_rows`` are the persons' keys when a run
    already has them (they do not change from one chunk of records to the next)."""
    timings = timings if timings is not None else {}
    started = time.perf_counter()
    p_owner, p_key = person_rows if person_rows is not None else person_keys(persons, vocab, history=history)
    rec, per = candidate_pairs(
        entry_keys(entries, vocab), (p_owner, p_key), n_persons=max(len(persons.keys), 1), max_block=max_block
    )
    timings["blocking"] = time.perf_counter() - started
    started = time.perf_counter()
    sim = Similarity(vocab)
    gammas = compare_pairs(entries, persons, rec, per, sim, history=history)
    timings["comparisons"] = time.perf_counter() - started
    return Blocked(rec, per, gammas)
