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
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from itertools import repeat
from operator import attrgetter

import numpy as np
from rapidfuzz.distance import JaroWinkler
from rapidfuzz.process import cpdist

from gov21.linkage.standardise import phonetic

MISSING = -1
# Blocking key kinds, in the top byte of a packed key.
_K_DOBG, _K_GS, _K_SY, _K_GY, _K_PHONE, _K_DOBS, _K_GD, _K_EXTRA = 1, 2, 3, 4, 5, 6, 7, 8
# Refined keys (decision 0078) carry their key's kind plus this, and a hash of the key and the value.
_REFINED = 64
# Pairs compared at a time: bounds the memory of a run (a few hundred MB at most).
CHUNK = 2_000_000
_WORDS = 8  # words of a string kept for the overlap of addresses
_UNKNOWN = -2  # a derived value not computed yet


@contextmanager
def stopwatch(timings: dict[str, tuple[float, float]], step: str) -> Iterator[None]:
    """Record the wall time and the CPU time of the process (every thread) a step took."""
    wall, cpu = time.perf_counter(), time.process_time()
    yield
    timings[step] = (time.perf_counter() - wall, time.process_time() - cpu)


class Vocab:
    """Every distinct non-empty string once, with its code; the empty string is MISSING."""

    def __init__(self) -> None:
        self.codes: dict[str, int] = {}
        self.strings: list[str] = []
        self._phon: dict[str, int] = {}
        self._tables: dict[str, np.ndarray] = {}

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
        """The codes of a column of strings: each distinct string is looked at once in Python, the
        column itself is mapped by the dictionary's own lookup (no Python step per row)."""
        column = texts if isinstance(texts, list) else list(texts)
        codes, strings = self.codes, self.strings
        for text in dict.fromkeys(column):
            if text and text not in codes:
                codes[text] = len(strings)
                strings.append(text)
        return np.fromiter(map(codes.get, column, repeat(MISSING)), dtype=np.int64, count=len(column))

    def _derive(self, name: str, text: str) -> int:
        if name == "phonetic":
            return self._phon.setdefault(phonetic(text), len(self._phon))
        if name == "first":
            return self.code(text.split(" ", 1)[0])
        if name == "prefix3":
            return self.code(text[:3])
        return self.code(text[:1])  # initial

    def table(self, name: str, codes: np.ndarray | None = None) -> np.ndarray:
        """Per string, by code: its phonetic code ("phonetic", in this vocabulary's own numbering),
        the code of its first word ("first"), of its first three letters ("prefix3") or of its first
        letter ("initial"). Computed for ``codes`` (every string when None) the first time they are
        asked for: addresses and parents' names never need a sound."""
        table = self._tables.get(name)
        if table is None or len(table) < len(self.strings):
            grown = np.full(len(self.strings), _UNKNOWN, dtype=np.int64)
            if table is not None:
                grown[: len(table)] = table
            table = self._tables[name] = grown
        wanted = np.arange(len(table)) if codes is None else _distinct(codes[codes >= 0])
        todo = wanted[table[wanted] == _UNKNOWN]
        if len(todo):
            strings, derive = self.strings, self._derive
            table[todo] = [derive(name, strings[i]) for i in todo.tolist()]
        if codes is None and len(self.strings) > len(table):  # words and prefixes added just now
            return self.table(name)
        return table

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
    # person × 2**23 + since of each facet, when every person's facets are in order of their start
    # (then the facet valid on a day is found by one binary search); None otherwise.
    f_order: np.ndarray | None = field(default=None, repr=False)


def _ordinals(days: Sequence[date | None]) -> np.ndarray:
    """Proleptic ordinals of a column of days (0 for none), each distinct day converted once."""
    table = {day: day.toordinal() if day is not None else 0 for day in dict.fromkeys(days)}
    return np.fromiter(map(table.__getitem__, days), dtype=np.int64, count=len(days))


def _matrix(vocab: Vocab, rows: Sequence[Sequence[str]], width: int) -> np.ndarray:
    out = np.full((len(rows), width), MISSING, dtype=np.int64)
    for i, row in enumerate(rows):
        if row:
            out[i, : min(len(row), width)] = vocab.codes_of(list(row[:width]))
    return out


def _columns(objects: list, names: str) -> dict[str, list]:  # type: ignore[type-arg]
    """The named attributes of every object as columns, each a list of references to the objects'
    own values (no new objects per row, which the garbage collector would walk)."""
    return {name: list(map(attrgetter(name), objects)) for name in names.split()}


def entries_of(entries: Sequence[object], vocab: Vocab) -> Entries:
    """Columns of ``engine.Entry`` objects."""
    es: list = list(entries)  # type: ignore[type-arg]
    c = _columns(es, "key given surname former dob sex address settlement parish mother father phone extra at")
    return Entries(
        keys=list(c["key"]),
        given=vocab.codes_of(c["given"]),
        surname=vocab.codes_of(c["surname"]),
        former=_matrix(vocab, c["former"], max(map(len, c["former"]), default=0)),
        dob=_ordinals(c["dob"]),
        sex=vocab.codes_of(c["sex"]),
        address=vocab.codes_of(c["address"]),
        settlement=vocab.codes_of(c["settlement"]),
        parish=vocab.codes_of(c["parish"]),
        mother=vocab.codes_of(c["mother"]),
        father=vocab.codes_of(c["father"]),
        phone=vocab.codes_of(c["phone"]),
        extra=_matrix(vocab, c["extra"], max(map(len, c["extra"]), default=0)),
        at=_ordinals(c["at"]),
    )


def persons_of(persons: Sequence[object], vocab: Vocab) -> Persons:
    """Columns of ``engine.Person`` objects, their facets flattened."""
    ps: list = list(persons)  # type: ignore[type-arg]
    c = _columns(ps, "key dob sex mother father phone extra facets")
    count = np.fromiter(map(len, c["facets"]), dtype=np.int64, count=len(ps))
    start = np.zeros(len(ps), dtype=np.int64)
    if len(ps):
        start[1:] = np.cumsum(count)[:-1]
    f = _columns([facet for facets in c["facets"] for facet in facets], "since given surname address settlement parish")
    f_since = _ordinals(f["since"])
    order = np.repeat(np.arange(len(ps), dtype=np.int64), count) * np.int64(1 << 23) + f_since
    return Persons(
        keys=list(c["key"]),
        dob=_ordinals(c["dob"]),
        sex=vocab.codes_of(c["sex"]),
        mother=vocab.codes_of(c["mother"]),
        father=vocab.codes_of(c["father"]),
        phone=vocab.codes_of(c["phone"]),
        extra=_matrix(vocab, c["extra"], max(map(len, c["extra"]), default=0)),
        start=start,
        count=count,
        f_since=f_since,
        f_given=vocab.codes_of(f["given"]),
        f_surname=vocab.codes_of(f["surname"]),
        f_address=vocab.codes_of(f["address"]),
        f_settlement=vocab.codes_of(f["settlement"]),
        f_parish=vocab.codes_of(f["parish"]),
        f_order=order if bool(np.all(order[1:] >= order[:-1])) else None,
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
    return (np.int64(kind) << 56) | (np.asarray(a, dtype=np.int64) << 28) | np.asarray(b, dtype=np.int64)


def _pack3(kind: int, a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return (
        (np.int64(kind) << 56)
        | (np.asarray(a, dtype=np.int64) << 34)
        | (np.asarray(b, dtype=np.int64) << 12)
        | np.asarray(c, dtype=np.int64)
    )


def _sounds(vocab: Vocab, names: np.ndarray) -> np.ndarray:
    """The phonetic code of each name, MISSING for no name or a name with no sound."""
    phon = vocab.table("phonetic", names)
    ok = names >= 0
    out = np.where(ok, phon[np.where(ok, names, 0)] if len(phon) else 0, MISSING)
    empty = vocab._phon.get("", -2)
    return np.where(out == empty, MISSING, out)


_M1, _M2 = np.uint64(0xBF58476D1CE4E5B9), np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of 64-bit integers that scatters their bits."""
    x = x.astype(np.uint64)
    x = (x ^ (x >> np.uint64(30))) * _M1
    x = (x ^ (x >> np.uint64(27))) * _M2
    return np.asarray(x ^ (x >> np.uint64(31)), dtype=np.uint64)


def _refine(key: np.ndarray, value: np.ndarray) -> np.ndarray:
    """The packed key of ``engine.refined(key, value)``: the key's kind plus _REFINED in the top byte,
    a 56-bit hash of the key and the value below it."""
    mixed = _mix(key.astype(np.uint64) ^ _mix(value.astype(np.uint64) + np.uint64(1)))
    kind = (key >> 56) + _REFINED
    return np.asarray((kind << 56) | (mixed >> np.uint64(8)).astype(np.int64), dtype=np.int64)


# (owner, key, value refining the key or MISSING)
_Rows = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


def _name_keys(
    vocab: Vocab,
    owner: np.ndarray,
    given: np.ndarray,
    surname: np.ndarray,
    dob: np.ndarray,
    settlement: np.ndarray,
    *,
    person: bool,
) -> _Rows:
    """The keys of ``engine._name_keys`` for rows of (given, surname, dob, settlement), each with its
    owner and the value that refines it."""
    prefix3 = vocab.table("prefix3", given)
    initial = vocab.table("initial", np.concatenate([given, surname]))
    g_ph, s_ph = _sounds(vocab, given), _sounds(vocab, surname)
    known = dob > 0
    y, m, _d = _ymd(dob)
    both = (g_ph >= 0) & (s_ph >= 0)
    gs = both if person else both & ~known
    gd = both & known
    sy = known & (s_ph >= 0)
    gy = known & (given >= 0)
    g3 = prefix3[np.where(given >= 0, given, 0)] if len(prefix3) else given
    g1 = np.where(given >= 0, initial[np.where(given >= 0, given, 0)] if len(initial) else 0, MISSING)
    s1 = np.where(surname >= 0, initial[np.where(surname >= 0, surname, 0)] if len(initial) else 0, MISSING)
    return [
        (owner[gs], _pack(_K_GS, g_ph[gs], s_ph[gs]), settlement[gs]),
        (owner[gd], _pack3(_K_GD, g_ph[gd], s_ph[gd], y[gd] // 10), y[gd]),
        (owner[sy], _pack(_K_SY, s_ph[sy], y[sy] * 13 + m[sy]), g1[sy]),
        (owner[gy], _pack(_K_GY, g3[gy], y[gy] * 13 + m[gy]), s1[gy]),
    ]


def _plain(parts: list[tuple[np.ndarray, np.ndarray]]) -> _Rows:
    return [(owner, key, np.full(len(key), MISSING, dtype=np.int64)) for owner, key in parts]


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
    """(person, key) rows, each once and sorted by key: the keys of ``engine.person_keys``, refined
    keys included."""
    n = len(persons.keys)
    ids = np.arange(n, dtype=np.int64)
    if history:
        rows = np.repeat(ids, persons.count)
        facet = np.arange(len(rows), dtype=np.int64)
        # A facet with the previous facet's names (a new address) gives that facet's keys again, but
        # for the key refined by the settlement: such rows are left out before the sort, not after.
        names_again = np.zeros(len(rows), dtype=bool)
        names_again[1:] = (
            (rows[1:] == rows[:-1])
            & (persons.f_given[1:] == persons.f_given[:-1])
            & (persons.f_surname[1:] == persons.f_surname[:-1])
        )
        again = names_again.copy()
        again[1:] &= persons.f_settlement[1:] == persons.f_settlement[:-1]
        rows, facet, names_again = rows[~again], facet[~again], names_again[~again]
    else:
        rows, facet = ids, persons.start + persons.count - 1
        names_again = np.zeros(n, dtype=bool)
    given, surname, dob = persons.f_given[facet], persons.f_surname[facet], persons.dob[rows]
    at = np.arange(len(rows), dtype=np.int64)  # each key row's facet row, until the end
    parts = [(rows[i][~names_again[i]], key[~names_again[i]]) for i, key in _dob_keys(vocab, at, dob, given, [surname])]
    names = _name_keys(vocab, at, given, surname, dob, persons.f_settlement[facet], person=True)
    for kind, (i, key, value) in enumerate(names):
        fresh = ~names_again[i]
        parts.append((rows[i][fresh], key[fresh]))
        # The first kind (gs) is refined by the settlement: every facet gives its own refined key.
        ok = (value >= 0) & (fresh | (kind == 0))
        parts.append((rows[i][ok], _refine(key[ok], value[ok])))
    parts += _other_keys(ids, persons.phone, persons.extra)
    return _unique_rows(parts)


def entry_keys(entries: Entries, vocab: Vocab) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(record, key, refined key or 0) rows: the keys of ``engine.entry_keys`` (a row may repeat; the
    pairs are made distinct after)."""
    n = len(entries.keys)
    ids = np.arange(n, dtype=np.int64)
    surnames = [entries.surname, *(entries.former[:, k] for k in range(entries.former.shape[1]))]
    plain = _dob_keys(vocab, ids, entries.dob, entries.given, surnames)
    y, m, d = _ymd(entries.dob)
    swap = (entries.dob > 0) & (d <= 12) & (d != m)
    if swap.any():
        # date(year, day, month): the month the day was, the day the month was.
        months = ((y[swap] - 1970) * 12 + d[swap] - 1).astype("datetime64[M]")
        days = months.astype("datetime64[D]") + (m[swap] - 1).astype("timedelta64[D]")
        swapped = days.astype(np.int64) + 719163
        plain += _dob_keys(vocab, ids[swap], swapped, entries.given[swap], [s[swap] for s in surnames])
    plain += _other_keys(ids, entries.phone, entries.extra)
    rows = _plain(plain)
    rows += _name_keys(vocab, ids, entries.given, entries.surname, entries.dob, entries.settlement, person=False)
    for former in surnames[1:]:  # a former surname the record gives, where it gives one
        has = former >= 0
        rows += _name_keys(
            vocab, ids[has], entries.given[has], former[has], entries.dob[has], entries.settlement[has], person=False
        )
    owner = np.concatenate([r[0] for r in rows], dtype=np.int64)
    key = np.concatenate([r[1] for r in rows], dtype=np.int64)
    value = np.concatenate([r[2] for r in rows], dtype=np.int64)
    ok = value >= 0
    finer = np.zeros(len(key), dtype=np.int64)
    finer[ok] = _refine(key[ok], value[ok])
    return owner, key, finer


def _unique_rows(parts: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, np.ndarray]:
    """Distinct (owner, key) rows sorted by key: one sort of the keys, then one of (block, owner)
    packed in 64 bits (two plain integer sorts run far faster than a lexicographic one)."""
    owner = np.concatenate([p[0] for p in parts], dtype=np.int64)
    key = np.concatenate([p[1] for p in parts], dtype=np.int64)
    if not len(key):
        return owner, key
    order = np.argsort(key)
    key, owner = key[order], owner[order]
    new = np.empty(len(key), dtype=bool)
    new[0], new[1:] = True, key[1:] != key[:-1]
    keys = key[new]
    width = np.int64(int(owner.max()) + 1)
    packed = _distinct((np.cumsum(new) - 1) * width + owner)
    return packed % width, keys[packed // width]


def _distinct(values: np.ndarray) -> np.ndarray:
    """The distinct values, sorted (a sort and a mask: numpy's ``unique`` hashes, far slower here)."""
    values = np.sort(values)
    if len(values) < 2:
        return values
    keep = np.empty(len(values), dtype=bool)
    keep[0], keep[1:] = True, values[1:] != values[:-1]
    return values[keep]


def distinct_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The distinct values, sorted, and the position of each value among them."""
    order = np.argsort(values)
    ordered = values[order]
    new = np.empty(len(values), dtype=bool)
    if len(values):
        new[0], new[1:] = True, ordered[1:] != ordered[:-1]
    inverse = np.empty(len(values), dtype=np.int64)
    inverse[order] = np.cumsum(new) - 1
    return ordered[new], inverse


def candidate_pairs(
    entry_rows: tuple[np.ndarray, np.ndarray, np.ndarray],
    person_rows: tuple[np.ndarray, np.ndarray],
    *,
    n_persons: int,
    max_block: int,
    refine_above: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Every (record, person) sharing a key, each pair once, ordered by record. A key whose block
    holds more than ``refine_above`` persons is looked up refined (when the record has the refining
    value); a block of more than ``max_block`` persons is left out."""
    p_owner, p_key = person_rows  # sorted by key
    e_owner, e_key, e_finer = entry_rows
    if not len(p_key) or not len(e_key):
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    new = np.empty(len(p_key), dtype=bool)
    new[0], new[1:] = True, p_key[1:] != p_key[:-1]
    starts = np.flatnonzero(new)
    blocks, sizes = p_key[starts], np.diff(np.append(starts, len(p_key)))

    def lookup(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        at = np.minimum(np.searchsorted(blocks, keys), len(blocks) - 1)
        hit = blocks[at] == keys
        return starts[at], np.where(hit, sizes[at], 0)

    left, size = lookup(e_key)
    finer = np.flatnonzero((size > refine_above) & (e_finer != 0))
    if len(finer):
        left[finer], size[finer] = lookup(e_finer[finer])
    size[size > max_block] = 0
    total = int(size.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    rec = np.repeat(e_owner, size)
    # Positions left[i] .. left[i] + size[i] - 1 for each key row, laid end to end.
    offsets = np.repeat(left - np.cumsum(size) + size, size)
    pos = np.arange(total, dtype=np.int64) + offsets
    packed = _distinct(rec * np.int64(n_persons) + p_owner[pos])
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
        width = np.int64(len(self.strings) + 1)
        distinct, inverse = distinct_inverse(np.asarray(a, dtype=np.int64) * width + b)
        qa = self.strings[distinct // width]
        qb = self.strings[distinct % width]
        values = cpdist(list(qa), list(qb), scorer=JaroWinkler.similarity, workers=-1)
        out: np.ndarray = np.asarray(values, dtype=np.float64)[inverse]
        return out

    def words(self, codes: np.ndarray | None = None) -> np.ndarray:
        """Each string's distinct words as codes (MISSING padded), ``_WORDS`` at most; computed for
        ``codes`` (every string when None) the first time they are asked for."""
        if self._words is None or len(self._words) < len(self.strings):
            table = np.full((len(self.strings), _WORDS + 1), MISSING, dtype=np.int64)
            if self._words is not None:
                table[: len(self._words)] = self._words
            self._words = table
        table = self._words
        wanted = np.arange(len(self.strings)) if codes is None else _distinct(codes[codes >= 0])
        for i in wanted[table[wanted, 0] == MISSING]:
            seen = list(dict.fromkeys(self.strings[i].split()))
            table[i, 0] = len(seen)
            for j, word in enumerate(seen[:_WORDS]):
                table[i, j + 1] = hash(word) & 0x7FFFFFFFFFFF
        return table

    def overlap_ok(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """len(words(a) & words(b)) * 2 >= max(len) + 1, as ``engine._similar_level`` reads it; once
        per distinct pair of strings."""
        width = np.int64(len(self.strings) + 1)
        distinct, inverse = distinct_inverse(np.asarray(a, dtype=np.int64) * width + b)
        da, db = distinct // width, distinct % width
        words = self.words(np.concatenate([da, db]))
        na, nb = words[da, 0], words[db, 0]
        # Only as many word columns as the longest string here has (most addresses have three or four).
        columns = min(max(int(na.max(initial=0)), int(nb.max(initial=0))), _WORDS)
        wa, wb = words[da, 1 : columns + 1], words[db, 1 : columns + 1]
        shared = np.zeros(len(da), dtype=np.int64)
        for i in range(columns):
            col = wa[:, i : i + 1]
            shared += ((col != MISSING) & (col == wb)).any(axis=1)
        out: np.ndarray = np.asarray(shared * 2 >= np.maximum(na, nb) + 1, dtype=bool)[inverse]
        return out


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
        both_sides = np.concatenate([ra, rb])
        phon, first = sim.vocab.table("phonetic", both_sides), sim.vocab.table("first", both_sides)
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
    if persons.f_order is not None:
        # Every person's facets in order of their start: the facet valid on the record's day is the
        # last starting on or before it, found by one binary search over all facets.
        dated = np.flatnonzero(at > 0)
        ends = np.searchsorted(persons.f_order, per[dated] * np.int64(1 << 23) + at[dated], side="right")
        chosen = np.maximum(ends - 1, start[dated])
        undated = np.flatnonzero(at <= 0)
        if not len(undated):
            return dated, chosen
        n = count[undated]
        group = np.repeat(undated, n)
        every = np.arange(int(n.sum()), dtype=np.int64) + np.repeat(start[undated] - np.cumsum(n) + n, n)
        pair_of, facet_of = np.concatenate([dated, group]), np.concatenate([chosen, every])
        order = np.argsort(pair_of, kind="stable")
        return pair_of[order], facet_of[order]
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
    refine_above: int,
    timings: dict[str, tuple[float, float]] | None = None,
    person_rows: tuple[np.ndarray, np.ndarray] | None = None,
) -> Blocked:
    """Candidate pairs and their comparison vectors; ``person_rows`` are the persons' keys when a run
    already has them (they do not change from one chunk of records to the next)."""
    timings = timings if timings is not None else {}
    with stopwatch(timings, "blocking"):
        p_owner, p_key = person_rows if person_rows is not None else person_keys(persons, vocab, history=history)
        rec, per = candidate_pairs(
            entry_keys(entries, vocab),
            (p_owner, p_key),
            n_persons=max(len(persons.keys), 1),
            max_block=max_block,
            refine_above=refine_above,
        )
    with stopwatch(timings, "comparisons"):
        gammas = compare_pairs(entries, persons, rec, per, Similarity(vocab), history=history)
    return Blocked(rec, per, gammas)
