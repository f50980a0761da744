"""The linkage engine: blocking, field comparisons, Fellegi–Sunter match weights with m and u
estimated by expectation-maximisation (u from random pairs, m and the prior from the blocked pairs,
clerical decisions held fixed), and the best registry person for each record (decision 0058).

Pure Python and numpy over plain records; the app feeds it from its tables and the benchmarks from
files, so the numbers in docs/performance.md are the numbers of the code that links agencies' data.

History: a registry person is a list of facets, each what their record said from a date on (names,
address, marital status). With ``history=True`` a record is compared with the facet valid on the
record's own date (``Entry.at``), or, when the record has no date, with the best-agreeing facet; with
``history=False`` only with today's facet, as a linkage without the registry's history would."""

from __future__ import annotations

import math
import random
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date

import numpy as np
from rapidfuzz.distance import JaroWinkler

from gov21.linkage import vector
from gov21.linkage.standardise import phonetic

FIELDS: tuple[str, ...] = ("given", "surname", "dob", "sex", "address", "place", "mother", "father", "phone")
LEVELS: dict[str, int] = {
    "given": 4,
    "surname": 4,
    "dob": 4,
    "sex": 2,
    "address": 3,
    "place": 3,
    "mother": 3,
    "father": 3,
    "phone": 2,
}
MISSING = -1


@dataclass(frozen=True, slots=True)
class Facet:
    """What a person's record said from ``since`` on (None: from the start)."""

    since: date | None
    given: str
    surname: str
    address: str = ""
    settlement: str = ""
    parish: str = ""
    marital: str = ""


@dataclass(slots=True)
class Person:
    """A registry person with every facet of their history, oldest first."""

    key: str
    dob: date | None
    sex: str
    facets: list[Facet]
    mother: str = ""
    father: str = ""
    phone: str = ""
    extra: tuple[str, ...] = ()

    def facet_on(self, day: date) -> Facet:
        chosen = self.facets[0]
        for facet in self.facets:
            if facet.since is None or facet.since <= day:
                chosen = facet
        return chosen


@dataclass(slots=True)
class Entry:
    """A record to link (already standardised)."""

    key: str
    given: str
    surname: str
    dob: date | None
    sex: str = ""
    address: str = ""
    settlement: str = ""
    parish: str = ""
    mother: str = ""
    father: str = ""
    phone: str = ""
    former: tuple[str, ...] = ()
    at: date | None = None  # the day the agency recorded it
    extra: tuple[str, ...] = ()


# --- comparisons ----------------------------------------------------------------------------------


def _name_level(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 3
    jw = JaroWinkler.similarity(a, b)
    if jw >= 0.94 or phonetic(a) == phonetic(b):
        return 2
    # A first name written alone where the registry has two (or the other way round).
    if a.split(" ", 1)[0] == b.split(" ", 1)[0] or jw >= 0.88:
        return 1
    return 0


def _dob_level(a: date | None, b: date | None) -> int:
    if a is None or b is None:
        return MISSING
    if a == b:
        return 3
    if a.year == b.year and a.month == b.day and a.day == b.month:
        return 2
    same = (a.year == b.year) + (a.month == b.month) + (a.day == b.day)
    if same == 2 or abs((a - b).days) <= 31:
        return 1
    return 0


def _similar_level(a: str, b: str, *, high: float = 0.92) -> int:
    if not a or not b:
        return MISSING
    if a == b:
        return 2
    if JaroWinkler.similarity(a, b) >= high:
        return 1
    sa, sb = set(a.split()), set(b.split())
    return 1 if len(sa & sb) * 2 >= max(len(sa), len(sb)) + 1 else 0


def _place_level(entry: Entry, facet: Facet) -> int:
    if not entry.settlement and not entry.parish:
        return MISSING
    if entry.settlement and entry.settlement == facet.settlement:
        return 2
    if entry.parish and entry.parish == facet.parish:
        return 1
    return 0


def _exact(a: str, b: str) -> int:
    if not a or not b:
        return MISSING
    return 1 if a == b else 0


def _facet_levels(entry: Entry, facet: Facet) -> tuple[int, int, int, int]:
    surname = _name_level(entry.surname, facet.surname)
    for former in entry.former:  # the agency wrote down a former name beside the current one
        surname = max(surname, _name_level(former, facet.surname))
    return (
        _name_level(entry.given, facet.given),
        surname,
        _similar_level(entry.address, facet.address),
        _place_level(entry, facet),
    )


def compare(entry: Entry, person: Person, *, history: bool) -> list[int]:
    """The comparison vector of a record and a person: one level per field of FIELDS (then one per
    extra field), MISSING where either side lacks the value."""
    if not history:
        facets: Sequence[Facet] = person.facets[-1:]
    elif entry.at is not None:
        facets = [person.facet_on(entry.at)]
    else:
        facets = person.facets
    best = (MISSING, MISSING, MISSING, MISSING)
    for facet in facets:
        levels = _facet_levels(entry, facet)
        if sum(levels) > sum(best):
            best = levels
    given, surname, address, place = best
    vector = [
        given,
        surname,
        _dob_level(entry.dob, person.dob),
        _exact(entry.sex, person.sex),
        address,
        place,
        _similar_level(entry.mother, person.mother),
        _similar_level(entry.father, person.father),
        _exact(entry.phone, person.phone),
    ]
    for a, b in zip(entry.extra, person.extra, strict=False):
        vector.append(_similar_level(a, b, high=0.9))
    return vector


# --- blocking -------------------------------------------------------------------------------------


# A block of a key larger than this is refined by a further field (decision 0078): a million-person
# registry holds hundreds of people with the same sound of given name and surname born in one decade,
# and comparing a record with all of them costs more than it finds.
REFINE_ABOVE = 8


def _name_keys(
    given: str, surname: str, dob: date | None, settlement: str, *, person: bool
) -> Iterator[tuple[str, str]]:
    """Blocking keys of names (decision 0068: each is narrowed by the date of birth, its decade or its
    month, so that a block stays small in a registry of millions), each with the value that refines
    it when its block is too large (decision 0078; "" when the record lacks it). A record with no date
    is sought by its names alone, so every person carries that key as well."""
    g, s = phonetic(given), phonetic(surname)
    if g and s:
        if person or dob is None:
            yield f"gs:{g}:{s}", settlement
        if dob is not None:
            yield f"gd:{g}:{s}:{dob.year // 10}", str(dob.year)
    if dob is not None:
        if s:
            yield f"sy:{s}:{dob.year}:{dob.month}", given[:1]
        if given:
            yield f"gy:{given[:3]}:{dob.year}:{dob.month}", surname[:1]


def refined(key: str, value: str) -> str:
    """The key of the smaller block a large block's key is refined into."""
    return f"{key}|{value}"


def _dob_keys(day: date, given: str, surnames: Iterable[str]) -> Iterator[str]:
    """The date of birth with the sound of the given name, and with the sound of each surname."""
    g = phonetic(given)
    if g:
        yield f"dg:{day.isoformat()}:{g}"
    for surname in surnames:
        s = phonetic(surname)
        if s:
            yield f"ds:{day.isoformat()}:{s}"


def person_keys(person: Person, *, history: bool) -> set[str]:
    """Every key a person is found by: each key, and each key refined by the person's value."""
    keys: set[str] = set()
    for facet in person.facets if history else person.facets[-1:]:
        if person.dob is not None:
            keys.update(_dob_keys(person.dob, facet.given, [facet.surname]))
        for key, value in _name_keys(facet.given, facet.surname, person.dob, facet.settlement, person=True):
            keys.add(key)
            if value:
                keys.add(refined(key, value))
    keys.update(_other_keys(person.phone, person.extra))
    return keys


def _other_keys(phone: str, extra: tuple[str, ...]) -> Iterator[str]:
    """An agency's identifier kept beside the names (a phone, a number of its own) is a key too."""
    if phone:
        yield f"p:{phone}"
    for i, value in enumerate(extra):
        if value:
            yield f"x{i}:{value}"


def entry_keys(entry: Entry) -> set[tuple[str, str]]:
    """The record's keys, each with its refined key ("" when the key is not refined or the record
    lacks the refining value)."""
    keys: set[tuple[str, str]] = set()
    dob = entry.dob
    surnames = (entry.surname, *entry.former)

    def plain(found: Iterable[str]) -> None:
        keys.update((key, "") for key in found)

    if dob is not None:
        plain(_dob_keys(dob, entry.given, surnames))
        if dob.day <= 12 and dob.day != dob.month:
            plain(_dob_keys(date(dob.year, dob.day, dob.month), entry.given, surnames))
    for surname in surnames:
        for key, value in _name_keys(entry.given, surname, dob, entry.settlement, person=False):
            keys.add((key, refined(key, value) if value else ""))
    plain(_other_keys(entry.phone, entry.extra))
    return keys


@dataclass
class Index:
    """The registry's persons by blocking key."""

    persons: dict[str, Person]
    history: bool
    blocks: dict[str, list[str]] = field(default_factory=dict)
    # A key shared by more persons than this is too common to tell anyone apart; it is left out.
    max_block: int = 400
    # A key shared by more persons than this is looked up refined by a further field (decision 0078).
    refine_above: int = REFINE_ABOVE

    @classmethod
    def build(cls, persons: Iterable[Person], *, history: bool) -> Index:
        by_key: dict[str, list[str]] = defaultdict(list)
        table = {}
        for person in persons:
            table[person.key] = person
            for key in person_keys(person, history=history):
                by_key[key].append(person.key)
        return cls(persons=table, history=history, blocks=dict(by_key))

    def candidates(self, entry: Entry) -> list[str]:
        found: dict[str, None] = {}
        for key, finer in entry_keys(entry):
            block = self.blocks.get(key, ())
            if len(block) > self.refine_above and finer:
                block = self.blocks.get(finer, ())
            if len(block) <= self.max_block:
                found.update(dict.fromkeys(block))
        return list(found)


# --- Fellegi–Sunter ------------------------------------------------------------------------------


@dataclass
class Model:
    """m and u of each level of each field, and the prior probability that a candidate pair matches."""

    m: list[list[float]]
    u: list[list[float]]
    prior: float

    def weights(self) -> list[list[float]]:
        return [
            [math.log2(mi / ui) for mi, ui in zip(mf, uf, strict=True)] for mf, uf in zip(self.m, self.u, strict=True)
        ]

    def to_json(self) -> dict[str, object]:
        return {"m": self.m, "u": self.u, "prior": self.prior}

    @classmethod
    def from_json(cls, data: dict[str, object]) -> Model:
        return cls(m=data["m"], u=data["u"], prior=float(data["prior"]))  # type: ignore[arg-type]


def levels_of(width: int) -> list[int]:
    return [LEVELS[f] for f in FIELDS] + [3] * (width - len(FIELDS))


def u_estimate(
    entries: Sequence[Entry], persons: Sequence[Person], *, history: bool, samples: int = 20000, seed: int = 58
) -> list[list[float]]:
    """u of each level: how often two records picked at random (almost all non-matches) agree so."""
    rng = random.Random(seed)  # noqa: S311  (sampling, not secrets)
    width = len(FIELDS) + (len(entries[0].extra) if entries else 0)
    counts = [np.ones(n) for n in levels_of(width)]  # one pseudo-count each: no level has u = 0
    if entries and persons:
        for _ in range(samples):
            vector = compare(rng.choice(entries), rng.choice(persons), history=history)
            for f, level in enumerate(vector):
                if level != MISSING:
                    counts[f][level] += 1
    return [list(c / c.sum()) for c in counts]


def _initial_m(width: int) -> list[list[float]]:
    m = []
    for n in levels_of(width):
        row = np.full(n, 0.05 / max(n - 1, 1))
        row[-1] = 0.95
        m.append(list(row / row.sum()))
    return m


def distinct_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct rows of a small-valued int matrix (comparison levels, labels), in order, each row's
    distinct row, and how often each occurs. Each row is one number in a mixed radix of its columns'
    ranges; when those numbers are few (as comparison vectors are: a few hundred thousand possible),
    they are counted in one pass with no sort at all (decision 0078)."""
    n, width = rows.shape
    if not n:
        return rows[:0].copy(), np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    lo = rows.min(axis=0).astype(np.int64)
    radix = rows.max(axis=0).astype(np.int64) - lo + 1
    total = math.prod(int(r) for r in radix)
    if total >= 1 << 62:
        distinct, inverse, counts = np.unique(rows, axis=0, return_inverse=True, return_counts=True)
        return distinct, inverse.reshape(-1), counts
    code = np.zeros(n, dtype=np.int64)
    for f in range(width):
        code *= radix[f]
        code += rows[:, f].astype(np.int64) - lo[f]
    if total <= 1 << 24:
        counts = np.bincount(code, minlength=total)
        present = np.flatnonzero(counts)
        lookup = np.zeros(total, dtype=np.int64)
        lookup[present] = np.arange(len(present))
        inverse, counts = lookup[code], counts[present]
    else:
        present, inverse = vector.distinct_inverse(code)
        counts = np.bincount(inverse, minlength=len(present))
    distinct = np.empty((len(present), width), dtype=rows.dtype)
    rest = present.copy()
    for f in reversed(range(width)):
        distinct[:, f] = rest % radix[f] + lo[f]
        rest //= radix[f]
    return distinct, inverse, counts


def _patterns(
    gammas: np.ndarray, labels: np.ndarray | None, counts: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The distinct (comparison vector, label) patterns, their labels (-1: none) and how many pairs
    each stands for. Pairs with one vector and one label are one term of the likelihood, counted as
    often as they occur: millions of pairs come down to a few thousand distinct patterns."""
    fixed: np.ndarray = labels if labels is not None else np.full(len(gammas), -1)
    rows, inverse, times = distinct_rows(np.column_stack([gammas, np.asarray(fixed, dtype=np.int8)]))
    weight: np.ndarray
    if counts is None:
        weight = times.astype(np.float64)
    else:
        weight = np.bincount(inverse, weights=np.asarray(counts, dtype=np.float64), minlength=len(rows))
    return rows[:, :-1], rows[:, -1].astype(np.int64), weight


def em_estimate(
    gammas: np.ndarray,
    u: list[list[float]],
    *,
    labels: np.ndarray | None = None,
    iterations: int = 40,
    prior: float = 0.1,
    counts: np.ndarray | None = None,
) -> Model:
    """m and the prior by expectation-maximisation over the candidate pairs' comparison vectors
    (``gammas``: pairs × fields, MISSING where unknown). u stays as sampled. ``labels`` holds 1 or 0
    where an officer decided the pair (their posterior is held there) and -1 elsewhere. ``counts``,
    when given, says how many pairs each row stands for."""
    width = gammas.shape[1] if gammas.size else len(FIELDS)
    levels = levels_of(width)
    m = [np.array(row) for row in _initial_m(width)]
    uu = [np.array(row) for row in u]
    if not len(gammas):
        return Model(m=[list(r) for r in m], u=[list(r) for r in uu], prior=prior)
    gammas, fixed, weight = _patterns(gammas, labels, counts)
    total = weight.sum()
    onehot = [[(gammas[:, f] == level) for level in range(levels[f])] for f in range(width)]
    for _ in range(iterations):
        log_m = np.full(len(gammas), math.log(prior))
        log_u = np.full(len(gammas), math.log(1 - prior))
        for f in range(width):
            lm, lu = np.log(m[f]), np.log(uu[f])
            for level in range(levels[f]):
                hit = onehot[f][level]
                log_m[hit] += lm[level]
                log_u[hit] += lu[level]
        post = 1.0 / (1.0 + np.exp(np.clip(log_u - log_m, -700, 700)))
        post = np.where(fixed >= 0, fixed, post) * weight
        new_prior = float(np.clip(post.sum() / total, 1e-6, 1 - 1e-6))
        for f in range(width):
            mass = np.array([post[onehot[f][level]].sum() for level in range(levels[f])]) + 1e-3
            m[f] = mass / mass.sum()
        if abs(new_prior - prior) < 1e-7:
            prior = new_prior
            break
        prior = new_prior
    return Model(m=[list(map(float, r)) for r in m], u=[list(map(float, r)) for r in uu], prior=prior)


# Training sessions (as statistics offices train Fellegi–Sunter models): the pairs that agree exactly
# on one field teach the m of every other field, never of that field itself. Without them, EM over all
# candidate pairs finds the family (same surname, same address) as its "match" class, and a
# disagreeing birth date or given name costs under one bit (measured: decision 0068).
SESSIONS: tuple[tuple[int, int, tuple[int, ...] | None], ...] = (
    # (field, level it must agree at, fields whose m the session teaches: None for all the others)
    (2, 3, None),  # same date of birth: every field but the date
    (0, 3, (2,)),  # same given name(s): the date of birth
)
_MIN_SESSION = 200
# No level of a field is taken as impossible for a match: a session in which every match agreed on a
# field (a generated extract's settlement, say) would otherwise make one disagreement cost 20 bits.
M_FLOOR = 0.005


def em_sessions(
    gammas: np.ndarray,
    u: list[list[float]],
    *,
    labels: np.ndarray | None = None,
    iterations: int = 40,
    prior: float = 0.1,
    counts: np.ndarray | None = None,
) -> Model:
    """m of the names from the pairs born the same day, m of the birth date from the pairs with the
    same given names, the other fields' m from all pairs; then the prior over all pairs with m and u
    held. A session with fewer than a few hundred pairs is skipped (its fields keep EM's estimate
    over all pairs). ``counts``, when given, says how many pairs each row stands for. Every step
    works on the distinct (vector, label) patterns, found once."""
    if not len(gammas):
        return em_estimate(gammas, u, labels=labels, iterations=iterations, prior=prior)
    gammas, fixed, weight = _patterns(gammas, labels, counts)
    overall = em_estimate(gammas, u, labels=fixed, iterations=iterations, prior=prior, counts=weight)
    m = [list(row) for row in overall.m]
    for field_, level, teaches in SESSIONS:
        chosen = gammas[:, field_] == level
        if weight[chosen].sum() < _MIN_SESSION:
            continue
        part = gammas[chosen].copy()
        part[:, field_] = MISSING  # the condition says nothing about the pair
        session = em_estimate(part, u, labels=fixed[chosen], iterations=iterations, prior=0.5, counts=weight[chosen])
        for f in teaches if teaches is not None else [f for f in range(gammas.shape[1]) if f != field_]:
            row = np.maximum(np.array(session.m[f]), M_FLOOR)
            m[f] = list(map(float, row / row.sum()))
    model = Model(m=m, u=overall.u, prior=overall.prior)
    # The prior over all pairs, m and u held.
    bits, _p = scores(gammas, Model(m=m, u=overall.u, prior=0.5))
    p = overall.prior
    for _ in range(iterations):
        post = 1.0 / (1.0 + np.power(2.0, -np.clip(bits + math.log2(p / (1 - p)), -1000, 1000)))
        post = np.where(fixed >= 0, fixed, post)
        new = float(np.clip((post * weight).sum() / weight.sum(), 1e-6, 1 - 1e-6))
        if abs(new - p) < 1e-7:
            p = new
            break
        p = new
    model.prior = p
    return model


# Fields a household shares: surname, address, settlement, parents, phone. When the given names
# disagree outright, agreement on these is what a relative (a sibling, a parent, a child) would show,
# not evidence of the same person, so it adds nothing (decision 0068); disagreement still counts.
FAMILY_FIELDS = frozenset({1, 4, 5, 6, 7, 8})
_GIVEN = 0


def field_weights(vector: Sequence[int], table: Sequence[Sequence[float]]) -> list[float]:
    """Each field's weight for a comparison vector, with the household rule above."""
    relative = vector[_GIVEN] == 0
    out = []
    for f, level in enumerate(vector):
        w = table[f][level] if level != MISSING else 0.0
        if relative and f in FAMILY_FIELDS and w > 0:
            w = 0.0
        out.append(w)
    return out


def scores(gammas: np.ndarray, model: Model) -> tuple[np.ndarray, np.ndarray]:
    """The match weight (log2 of the Bayes factor, with the prior) and probability of each pair."""
    prior = math.log2(model.prior / (1 - model.prior))
    if not len(gammas):
        return np.zeros(0), np.zeros(0)
    table = model.weights()
    patterns, inverse, _counts = distinct_rows(gammas)
    weight = np.array([prior + sum(field_weights([int(x) for x in row], table)) for row in patterns])
    weight = weight[inverse]
    probability = 1.0 / (1.0 + np.power(2.0, -np.clip(weight, -1000, 1000)))
    return weight, probability


def contributions(vector: Sequence[int], model: Model) -> list[tuple[str, int, float]]:
    """Each field's level and the weight it adds (the waterfall of a pair), after the prior."""
    names = [*FIELDS, *(f"extra{i}" for i in range(len(vector) - len(FIELDS)))]
    weights = field_weights(list(vector), model.weights())
    return [(names[f], level, weights[f]) for f, level in enumerate(vector)]


# --- deciding -------------------------------------------------------------------------------------


# A second candidate within this many bits of match weight of the best is as likely: review.
AMBIGUOUS_BITS = 3.0


def _logit(p: float) -> float:
    p = min(max(p, 1e-15), 1 - 1e-15)
    return math.log2(p / (1 - p))


@dataclass(frozen=True, slots=True)
class Outcome:
    key: str
    uin: str | None
    probability: float
    status: str  # linked, review, unlinked
    reason: str = ""


def assign(
    pairs: Sequence[tuple[str, str, float]], keys: Iterable[str], *, upper: float, lower: float
) -> dict[str, Outcome]:
    """One registry person per record: the most probable candidate, linked above ``upper``, sent to
    review between the thresholds (or when a second candidate is as likely), unlinked below. Two
    records of the source that the source keeps apart but that claim one person go to review."""
    best: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for record, uin, p in pairs:
        best[record].append((p, uin))
    outcomes: dict[str, Outcome] = {}
    for key in keys:
        ranked = sorted(best.get(key, []), reverse=True)
        if not ranked or ranked[0][0] < lower:
            top = ranked[0] if ranked else (0.0, None)
            outcomes[key] = Outcome(key, None, float(top[0]), "unlinked")
            continue
        p, uin = ranked[0]
        if len(ranked) > 1 and ranked[1][0] >= lower and _logit(p) - _logit(ranked[1][0]) < AMBIGUOUS_BITS:
            outcomes[key] = Outcome(key, uin, p, "review", "ambiguous")
        elif p >= upper:
            outcomes[key] = Outcome(key, uin, p, "linked")
        else:
            outcomes[key] = Outcome(key, uin, p, "review", "between")
    claimed: dict[str, list[str]] = defaultdict(list)
    for outcome in outcomes.values():
        if outcome.status == "linked" and outcome.uin:
            claimed[outcome.uin].append(outcome.key)
    for records in claimed.values():
        if len(records) > 1:
            for key in records:
                o = outcomes[key]
                outcomes[key] = Outcome(key, o.uin, o.probability, "review", "conflict")
    return outcomes


def link(
    entries: Sequence[Entry],
    index: Index,
    *,
    upper: float = 0.95,
    lower: float = 0.5,
    u_samples: int = 20000,
) -> tuple[dict[str, Outcome], Model, int]:
    """Link ``entries`` to ``index`` in memory (the benchmarks' path; the app checkpoints the same
    steps). Returns the outcomes, the model and the number of candidate pairs compared."""
    vocab = vector.Vocab()
    persons = vector.persons_of(list(index.persons.values()), vocab)
    records = vector.entries_of(entries, vocab)
    done = link_arrays(
        records,
        persons,
        vocab,
        history=index.history,
        upper=upper,
        lower=lower,
        u_samples=u_samples,
        max_block=index.max_block,
        refine_above=index.refine_above,
    )
    outcomes = {}
    for i, key in enumerate(records.keys):
        p = int(done.person[i])
        outcomes[key] = Outcome(
            key,
            persons.keys[p] if p >= 0 else None,
            float(done.probability[i]),
            STATUSES[done.status[i]],
            REASONS[done.reason[i]],
        )
    return outcomes, done.model, done.pairs


# --- the same steps over arrays (decision 0068) ---------------------------------------------------

STATUSES = ("linked", "review", "unlinked")
REASONS = ("", "ambiguous", "between", "conflict")


@dataclass
class Linked:
    """Outcomes as columns, one row per record: the person's row (-1 none), the probability, the
    status and reason (indexes into STATUSES and REASONS)."""

    person: np.ndarray
    probability: np.ndarray
    status: np.ndarray
    reason: np.ndarray
    model: Model
    pairs: int
    timings: dict[str, tuple[float, float]]  # step: (wall, CPU) seconds


def _logits(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-15, 1 - 1e-15)
    return np.asarray(np.log2(p / (1 - p)), dtype=np.float64)


def assign_arrays(
    rec: np.ndarray,
    per: np.ndarray,
    prob: np.ndarray,
    person_keys: Sequence[str],
    n_records: int,
    *,
    upper: float,
    lower: float,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``assign`` over columns: the same outcome for every record (ties between persons broken by the
    larger key, as ``assign`` sorts). Only the pairs at or above ``lower`` are sorted: the others
    decide nothing but the probability shown for an unlinked record, a maximum."""
    person = np.full(n_records, -1, dtype=np.int64)
    probability = np.zeros(n_records)
    second = np.full(n_records, -1.0)
    status = np.full(n_records, 2, dtype=np.int8)
    reason = np.zeros(n_records, dtype=np.int8)
    if len(rec):
        np.maximum.at(probability, rec, prob)
    kept = np.flatnonzero(prob >= lower)
    order = np.lexsort((-prob[kept], rec[kept]))
    rec, per, prob = rec[kept][order], per[kept][order], prob[kept][order]
    if len(rec):
        top = np.ones(len(rec), dtype=bool)
        top[1:] = rec[1:] != rec[:-1]
        tops = np.flatnonzero(top)
        sizes = np.diff(np.append(tops, len(rec)))
        group = np.repeat(np.arange(len(tops)), sizes)
        best = prob == prob[tops][group]
        tied = np.flatnonzero(best & (np.add.reduceat(best.astype(np.int64), tops) > 1)[group])
        chosen = per[tops].copy()
        if len(tied):
            # Equally probable persons: the larger key wins, as ``assign``'s sort of (p, key) does.
            names = np.asarray([person_keys[p] for p in per[tied]], dtype=str)
            by_name = np.argsort(names, kind="stable")
            by_group = by_name[np.argsort(group[tied][by_name], kind="stable")]
            last = np.ones(len(tied), dtype=bool)
            last[:-1] = group[tied][by_group][1:] != group[tied][by_group][:-1]
            chosen[group[tied][by_group][last]] = per[tied][by_group][last]
        r = rec[tops]
        person[r] = chosen
        nxt = tops + 1
        has = sizes > 1
        second[r[has]] = prob[nxt[has]]
    above = probability >= lower
    person[~above] = -1
    ambiguous = above & (second >= lower) & (_logits(probability) - _logits(np.maximum(second, 0.0)) < AMBIGUOUS_BITS)
    linked = above & ~ambiguous & (probability >= upper)
    between = above & ~ambiguous & ~linked
    status[linked] = 0
    status[ambiguous | between] = 1
    reason[ambiguous], reason[between] = 1, 2
    claims = np.bincount(person[linked], minlength=len(person_keys)) if linked.any() else np.zeros(len(person_keys))
    conflict = linked & (claims[np.maximum(person, 0)] > 1)
    status[conflict], reason[conflict] = 1, 3
    return person, probability, status, reason


def u_sampled(
    es: vector.Entries, ps: vector.Persons, vocab: vector.Vocab, *, history: bool, samples: int = 20000, seed: int = 58
) -> list[list[float]]:
    """``u_estimate`` over columns: the same random pairs, compared as arrays."""
    rng = random.Random(seed)  # noqa: S311  (sampling, not secrets)
    width = len(FIELDS) + min(es.extra.shape[1], ps.extra.shape[1])
    counts = [np.ones(n) for n in levels_of(width)]
    ne, np_ = len(es.keys), len(ps.keys)
    if ne and np_:
        drawn = [(rng.choice(range(ne)), rng.choice(range(np_))) for _ in range(samples)]
        rec = np.fromiter((d[0] for d in drawn), dtype=np.int64, count=samples)
        per = np.fromiter((d[1] for d in drawn), dtype=np.int64, count=samples)
        gammas = vector.compare_pairs(es, ps, rec, per, vector.Similarity(vocab), history=history)
        for f in range(width):
            column = gammas[:, f]
            counts[f] += np.bincount(column[column != MISSING], minlength=len(counts[f]))[: len(counts[f])]
    return [list(c / c.sum()) for c in counts]


def link_arrays(
    es: vector.Entries,
    ps: vector.Persons,
    vocab: vector.Vocab,
    *,
    history: bool,
    upper: float = 0.95,
    lower: float = 0.5,
    u_samples: int = 20000,
    max_block: int = 400,
    refine_above: int = REFINE_ABOVE,
) -> Linked:
    """``link`` over columns: blocking, comparisons, u, EM, scores and assignment, without a Python
    step per pair."""
    timings: dict[str, tuple[float, float]] = {}
    with vector.stopwatch(timings, "u"):
        u = u_sampled(es, ps, vocab, history=history, samples=u_samples)
    blocked = vector.block_and_compare(
        es, ps, vocab, history=history, max_block=max_block, refine_above=refine_above, timings=timings
    )
    with vector.stopwatch(timings, "estimate"):
        # Millions of pairs, a few thousand distinct comparison vectors: estimated and scored once each.
        patterns, inverse, counts = distinct_rows(blocked.gammas)
        model = em_sessions(patterns, u, counts=counts)
        _weights, probs = scores(patterns, model)
        probs = probs[inverse]
    with vector.stopwatch(timings, "assign"):
        person, probability, status, reason = assign_arrays(
            blocked.rec, blocked.per, probs, ps.keys, len(es.keys), upper=upper, lower=lower
        )
    return Linked(person, probability, status, reason, model, len(blocked.rec), timings)
