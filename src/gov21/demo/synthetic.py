"""Deterministic simulator of the population of a fictional Caribbean island state (instance code ``XA``).

The output is plain Python objects that a bulk loader turns into civil-registry rows; nothing here touches
Django. The same ``(people, seed, today)`` always yields the same nation, byte for byte: all randomness comes
from one ``random.Random(seed)`` and nothing iterates over a set.

How the population is built, and why:

1. *Families.* The nation is grown one founding couple at a time (both founders born 1925-1960, no parents
   on record), and for each couple the founding woman's descendants through the female line are drawn as a
   branching process: each woman gets a number of children from her cohort's fertility and birth dates
   from her age schedule. Every person belongs to exactly one such family, so the running total is known
   at every step and the last family is cut (latest births first) to hit ``people`` exactly without ever
   orphaning anyone.
2. *Fathers and marriages.* A woman's children are split into one to three partnerships. Partnerships are
   replayed in date order and each one draws a man from buckets of men by birth year, checking age, being
   alive and being free of any other partnership on that date, so no per-person search over the whole
   population is ever needed. Some partnerships are marriages (dated before, between or after the
   children), some end in divorce; widowed and divorced people may marry again. A few couples of the same
   sex marry after a (fictional) change of the law in 2016.
3. *Names, addresses, registrations.* A pass in key (birth) order hands out names and address histories:
   a child is born at the mother's address and follows her moves until leaving home; a married couple
   shares a home from the wedding day.

The demographic parameters are calibrated for ``today`` in the 2020s (crude death rate 7-8 per 1000, period
life expectancy about 75, median age about 35, 47% of living adults ever married, 26% of marriages ending in
divorce, about 3% of births without a recorded father). ``summarize`` measures all of these.

Timings of ``simulate`` on the development container (CPython 3.11, 2.5 GHz Xeon, one core):
people=20_000 about 0.5 s; people=1_000_000 about 29 s with a peak RSS of 1.2 GB (about 38 s while the other
core is busy). Roughly: families 3 s, ordering 3 s, partnerships 7 s, names/addresses/objects 16 s. It is pure
interpreter work, so it scales linearly.
"""

from __future__ import annotations

import datetime
import gc
import heapq
import math
import random
from bisect import bisect_right
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from itertools import accumulate, pairwise

from gov21.core.geography import geography
from gov21.demo import namedata

INSTANCE = "XA"


@dataclass(slots=True)
class SynthAddress:
    valid_from: date
    parish: str  # parish code
    settlement: str
    line: str


@dataclass(slots=True)
class SynthPerson:
    key: int  # 0..N-1 in order of birth date; parents always have smaller keys
    given_names: str
    family_name: str  # the name given at birth; later names are in name_changes
    sex: str  # "F" | "M"
    birth_date: date
    birth_parish: str
    birth_settlement: str
    mother: int | None
    father: int | None
    birth_registered_on: date
    addresses: list[SynthAddress]
    name_changes: list[tuple[date, str]]
    death_date: date | None


@dataclass(slots=True)
class SynthMarriage:
    key: int  # in order of marriage date
    a: int  # the bride in a man-woman marriage
    b: int  # the groom in a man-woman marriage; moves out on divorce
    date: datetime.date
    parish: str  # where the couple set up home
    divorce_date: datetime.date | None


@dataclass(slots=True)
class Nation:
    persons: list[SynthPerson]
    marriages: list[SynthMarriage]
    today: date


@dataclass(frozen=True, slots=True)
class NationStats:
    persons: int
    living: int
    deceased_share: float
    living_adults: int
    ever_married_share: float  # of living adults
    marriages: int
    divorce_share: float  # of marriages
    births_in_marriage_share: float  # of persons with both parents on record
    unknown_father_share: float  # of persons with a mother on record
    max_generation: int  # founders are generation 0
    crude_birth_rate: float  # per 1000 living, last 365 days
    crude_death_rate: float  # per 1000 living, last 365 days
    life_expectancy: float  # period life expectancy at birth over the last five years
    median_age: float
    share_under_15: float
    share_65_plus: float
    late_registration_share: float  # 46-365 days
    delayed_registration_share: float  # over a year


# --------------------------------------------------------------------------------------------------------------
# Demography. Dates are proleptic ordinals internally; date objects are made once per day at the end.

_YEAR = 365.2425
_PER_DAY = 1.0 / _YEAR
_ORD0 = date(1925, 1, 1).toordinal()
_FOUNDERS_END = date(1960, 12, 31).toordinal()
_NEVER = 10**8
_FATHER_GRACE = 250  # a father may die this many days before the birth (conception came first)
_MAX_MOTHER_AGE = 49.5
_SAME_SEX_FROM = date(2016, 7, 1).toordinal()
_SHIFT = 32
_MASK = (1 << _SHIFT) - 1


def _age_days(years: int) -> int:
    """Days that certainly cover ``years`` calendar years from any birthday (leap days, 29 February)."""
    return years * 365 + (years + 3) // 4 + 1


def _ramp(year: float, points: Sequence[tuple[float, float]]) -> float:
    if year <= points[0][0]:
        return points[0][1]
    for (y0, v0), (y1, v1) in pairwise(points):
        if year <= y1:
            return v0 + (v1 - v0) * (year - y0) / (y1 - y0)
    return points[-1][1]


# Completed fertility by the mother's birth cohort: high for the founders, falling through the demographic
# transition the Eastern Caribbean went through from the 1960s, below replacement for women born after 1985.
_TFR = ((1925.0, 5.2), (1945.0, 4.6), (1960.0, 3.1), (1975.0, 2.2), (1990.0, 1.8), (2005.0, 1.7))
_FIRST_BIRTH_AGE = ((1925.0, 20.5), (1960.0, 21.5), (1990.0, 24.0), (2005.0, 25.5))
# Probability of dying before five, by year of birth.
_Q5 = ((1925.0, 0.12), (1950.0, 0.07), (1970.0, 0.035), (1990.0, 0.02), (2010.0, 0.014))
# Modal age at death of the adult (Gompertz) mortality of men, by birth cohort; women live five years longer.
_MODE_M = ((1925.0, 78.5), (1960.0, 82.0), (2000.0, 85.0))
_GOMPERTZ_B = 0.095
_MAKEHAM_M = 0.0011  # accidents, violence: more for men
_MAKEHAM_F = 0.0004
# Probability that a partnership with children is (or becomes) a marriage, by year it starts.
_P_MARRY = ((1940.0, 0.62), (1970.0, 0.52), (1995.0, 0.40), (2015.0, 0.36))
_P_DIVORCE = ((1950.0, 0.10), (1980.0, 0.24), (2010.0, 0.28))
_P_TAKE_NAME = ((1950.0, 0.96), (2000.0, 0.85), (2020.0, 0.78))
_P_TWO_GIVEN = ((1925.0, 0.35), (1990.0, 0.55), (2020.0, 0.5))
_P_CHILDLESS_MARRIAGE = 0.5
_P_UNKNOWN_FATHER = 0.025
_P_REMARRY = 0.35
_P_SAME_SEX = 0.004  # of never-married adults alive after the law changed
_P_LEAVE_HOME = 0.65  # the others stay with their mother until they marry, or for good
_LEAVE_HOME_MEAN = 4.5  # years after 18
_SINGLE_MOVE_MEAN = 16.0 * _YEAR
_JOINT_MOVE_MEAN = 22.0 * _YEAR
_DELAYED_BEFORE = date(1960, 1, 1).toordinal()  # late registration was far more common before


class _Tables:
    """Cohort parameters per calendar year from 1925, so the hot loops index a list instead of interpolating."""

    def __init__(self, last_year: int) -> None:
        years = [1925.5 + i for i in range(last_year - 1925 + 2)]
        self.tfr = [_ramp(y, _TFR) for y in years]
        self.first_age = [_ramp(y, _FIRST_BIRTH_AGE) for y in years]
        self.q5 = [_ramp(y, _Q5) for y in years]
        b = _GOMPERTZ_B
        # b / a of the Gompertz hazard a*exp(b*x), which is what inverse sampling needs.
        self.b_over_a_m = [math.exp(b * _ramp(y, _MODE_M)) for y in years]
        self.b_over_a_f = [math.exp(b * (_ramp(y, _MODE_M) + 5.0)) for y in years]
        self.p_marry = [_ramp(y, _P_MARRY) for y in years]
        self.p_divorce = [_ramp(y, _P_DIVORCE) for y in years]
        self.p_take = [_ramp(y, _P_TAKE_NAME) for y in years]
        self.p_two_given = [_ramp(y, _P_TWO_GIVEN) for y in years]
        self.last = len(years) - 1

    def year(self, ordinal: int) -> int:
        i = int((ordinal - _ORD0) * _PER_DAY)
        return 0 if i < 0 else (i if i < self.last else self.last)


def _poisson(rnd: Callable[[], float], lam: float) -> int:
    limit = math.exp(-lam)
    k = 0
    p = rnd()
    while p > limit:
        k += 1
        p *= rnd()
    return k


@dataclass(slots=True)
class _People:
    birth: list[int]
    male: list[bool]
    death: list[int]  # may lie after today: the person is alive
    mother: list[int]  # -1 when not on record


def _grow_families(rng: random.Random, people: int, today: int, t: _Tables, min_parent_age: int) -> _People:
    rnd = rng.random
    log = math.log
    birth: list[int] = []
    male: list[bool] = []
    death: list[int] = []
    mother: list[int] = []
    tfr, first_age, q5, boa_m, boa_f, last_yi = t.tfr, t.first_age, t.q5, t.b_over_a_m, t.b_over_a_f, t.last
    gb = _GOMPERTZ_B
    e5 = math.exp(gb * 5.0)
    e16 = math.exp(gb * 16.0)

    def lifespan(yi: int, is_male: bool, adult: bool) -> int:
        """Days from birth to death: child mortality below five, Gompertz-Makeham above (or above 16)."""
        if adult:
            start, e_start = 16.0, e16
        else:
            if rnd() < q5[yi]:
                u = rnd()
                # Most deaths before five happen in the first year.
                return int(u * u * u * 5 * _YEAR)
            start, e_start = 5.0, e5
        x = log(e_start - (boa_m[yi] if is_male else boa_f[yi]) * log(1.0 - rnd())) / gb
        accident = start - log(1.0 - rnd()) / (_MAKEHAM_M if is_male else _MAKEHAM_F)
        return int((x if x < accident else accident) * _YEAR)

    min_mother = _age_days(max(min_parent_age, 15))
    max_mother = int(_MAX_MOTHER_AGE * _YEAR)
    founders_end = min(_FOUNDERS_END, today - _age_days(16))
    span = founders_end - _ORD0
    # More founders in later years: the founders stand for everyone born before the registry's records of
    # parentage begin, and the population was already growing.
    growth = 0.035 * span / _YEAR
    scale = math.expm1(growth)
    stack: list[int] = []
    while len(birth) < people:
        start = len(birth)
        fb = _ORD0 + int(span * math.log1p(rnd() * scale) / growth)
        birth.append(fb)
        male.append(False)
        death.append(fb + lifespan(t.year(fb), False, True))
        mother.append(-1)
        gap = rng.gauss(3.5, 3.0)
        mb = fb - int(min(max(gap, -3.0), 12.0) * _YEAR)
        # Reflect rather than clamp at the ends of the founders' years, which would pile births on one day.
        if mb > founders_end:
            mb = 2 * founders_end - mb
        elif mb < _ORD0:
            mb = 2 * _ORD0 - mb
        birth.append(mb)
        male.append(True)
        death.append(mb + lifespan(t.year(mb), True, True))
        mother.append(-1)
        stack.append(start)
        while stack:
            w = stack.pop()
            bw = birth[w]
            yi = int((bw - _ORD0) * _PER_DAY)
            if yi > last_yi:
                yi = last_yi
            k = _poisson(rnd, tfr[yi])
            if not k:
                continue
            # Age at first birth: 15 plus a gamma(3) spread, skewed like real schedules (teen births, long tail).
            spread = -log((1.0 - rnd()) * (1.0 - rnd()) * (1.0 - rnd())) / 3.0
            at = bw + (15.0 + (first_age[yi] - 15.0) * spread) * _YEAR
            if at < bw + min_mother:
                at = float(bw + min_mother)
            limit = min(death[w], today, bw + max_mother)
            while k > 0 and at <= limit:
                cb = int(at)
                cyi = int((cb - _ORD0) * _PER_DAY)
                if cyi > last_yi:
                    cyi = last_yi
                twins = 2 if rnd() < 0.012 else 1
                for _ in range(twins):
                    is_male = rnd() < 0.512
                    # lifespan(cyi, is_male, False), inlined: this runs for nearly everyone.
                    if rnd() < q5[cyi]:
                        u = rnd()
                        cd = cb + int(u * u * u * 5 * _YEAR)
                    else:
                        x = log(e5 - (boa_m[cyi] if is_male else boa_f[cyi]) * log(1.0 - rnd())) / gb
                        accident = 5.0 - log(1.0 - rnd()) / (_MAKEHAM_M if is_male else _MAKEHAM_F)
                        cd = cb + int((x if x < accident else accident) * _YEAR)
                    if not is_male and cd > cb + min_mother and cb + min_mother <= today:
                        stack.append(len(birth))
                    birth.append(cb)
                    male.append(is_male)
                    death.append(cd)
                    mother.append(w)
                k -= twins
                # Birth interval: at least fifteen months, typically three to four years.
                at += (1.25 - 1.1 * log((1.0 - rnd()) * (1.0 - rnd()))) * _YEAR
        excess = len(birth) - people
        if excess > 0:
            _trim_last_family(birth, male, death, mother, start, excess)
    return _People(birth, male, death, mother)


def _trim_last_family(
    birth: list[int], male: list[bool], death: list[int], mother: list[int], start: int, excess: int
) -> None:
    """Drop the ``excess`` latest-born members of the family starting at ``start``.

    The latest-born member of a family never has children in it, so dropping from the end never leaves a
    child without its mother.
    """
    members = sorted(range(start, len(birth)), key=lambda i: (birth[i], i))
    keep = sorted(members[: len(members) - excess])
    new_index = {old: start + j for j, old in enumerate(keep)}
    rows = [(birth[i], male[i], death[i], mother[i]) for i in keep]
    del birth[start:], male[start:], death[start:], mother[start:]
    for b, m, d, mo in rows:
        birth.append(b)
        male.append(m)
        death.append(d)
        mother.append(new_index[mo] if mo >= start else mo)


def _in_birth_order(p: _People) -> _People:
    n = len(p.birth)
    order = sorted(range(n), key=p.birth.__getitem__)  # stable: twins keep their drawing order
    rank = sorted(range(n), key=order.__getitem__)
    mother = p.mother
    # "+ 0" makes new int objects laid out in key order; the originals are scattered in family order, and
    # every later pass walks keys in order, so this saves a cache miss on most reads.
    return _People(
        [p.birth[i] + 0 for i in order],
        [p.male[i] for i in order],
        [p.death[i] + 0 for i in order],
        [rank[mother[i]] + 0 if mother[i] >= 0 else -1 for i in order],
    )


@dataclass(slots=True)
class _Unions:
    father: list[int]
    wife: list[int]  # per marriage: partner a
    husband: list[int]  # per marriage: partner b
    date: list[int]
    divorce: list[int]  # -1 if none
    takes_name: list[bool]
    reverts: list[bool]
    of_person: list[list[int] | None]  # marriages of each person, in date order


def _form_unions(
    rng: random.Random, p: _People, today: int, t: _Tables, min_parent_age: int, marriage_age: int
) -> _Unions:
    rnd = rng.random
    log = math.log
    birth, male, death, mother = p.birth, p.male, p.death, p.mother
    n = len(birth)
    kids: list[list[int] | None] = [None] * n
    for k in range(n):
        m = mother[k]
        if m >= 0:
            lst = kids[m]
            if lst is None:
                kids[m] = [k]
            else:
                lst.append(k)
    men: dict[int, list[int]] = {}
    for k in range(n):
        if male[k]:
            y = int((birth[k] - _ORD0) * _PER_DAY)
            bucket = men.get(y)
            if bucket is None:
                men[y] = [k]
            else:
                bucket.append(k)

    adult = _age_days(max(min_parent_age, 16))
    wed_age = _age_days(marriage_age)
    age15 = _age_days(15)
    last_yi = t.last
    # A partnership: woman, slice of her children, start of her next partnership, depth of remarriage. The
    # queue holds start << _SHIFT | id: plain ints sort and compare much faster than tuples.
    sp_w: list[int] = []
    sp_lo: list[int] = []
    sp_hi: list[int] = []
    sp_next: list[int] = []
    sp_depth: list[int] = []
    planned: list[int] = []

    for w in range(n):
        if male[w]:
            continue
        bw = birth[w]
        dw = death[w]
        c = kids[w]
        if c is None:
            if dw > bw + wed_age and rnd() < _P_CHILDLESS_MARRIAGE:
                st = bw + int((max(marriage_age, 18) + 3.0 - 7.0 * log(1.0 - rnd())) * _YEAR)
                if st < dw and st <= today:
                    planned.append(st << _SHIFT | len(sp_w))
                    sp_w.append(w)
                    sp_lo.append(0)
                    sp_hi.append(0)
                    sp_next.append(_NEVER)
                    sp_depth.append(0)
            continue
        nk = len(c)
        r = rnd()
        groups = 1 if r < 0.70 else 2 if r < 0.94 else 3
        cuts = [0]
        if groups > 1 and nk > 1:
            for cut in sorted(1 + int(rnd() * (nk - 1)) for _ in range(groups - 1)):
                # Twins share a father.
                if cut != cuts[-1] and birth[c[cut]] != birth[c[cut - 1]]:
                    cuts.append(cut)
        cuts.append(nk)
        nxt = _NEVER
        for g in range(len(cuts) - 2, -1, -1):
            courtship = -(1.5 if g == 0 else 0.7) * _YEAR * log(1.0 - rnd())
            st = birth[c[cuts[g]]] - 275 - int(courtship)
            floor = birth[c[cuts[g] - 1]] + 1 if g else bw + age15
            if st < floor:
                st = floor
            planned.append(st << _SHIFT | len(sp_w))
            sp_w.append(w)
            sp_lo.append(cuts[g])
            sp_hi.append(cuts[g + 1])
            sp_next.append(nxt)
            sp_depth.append(0)
            nxt = st
    planned.sort()
    later: list[int] = []  # remarriages, decided while replaying

    father = [-1] * n
    free = [0] * n  # first day a man is out of his previous partnership
    m_wife: list[int] = []
    m_husband: list[int] = []
    m_date: list[int] = []
    m_div: list[int] = []
    m_take: list[bool] = []
    m_revert: list[bool] = []
    of_person: list[list[int] | None] = [None] * n
    # Bucket offsets to try, in years of the man's birth relative to the target; men a little older first.
    offsets = (0, 0, 1, -1, 0, 2, -2, 1, 3, -1, 4, -3, 5, 2, 6, -2, 7, 3)

    def find_man(target: int, at: int, oldest: int, youngest: int, alive_until: int) -> int:
        for off in offsets:
            bucket = men.get(target + off)
            if not bucket:
                continue
            j = int(rnd() * len(bucket))
            m = bucket[j]
            fm = free[m]
            dm = death[m]
            if dm <= at or fm >= dm or fm > today:
                # Dead, or tied up for the rest of his life: never a candidate again.
                bucket[j] = bucket[-1]
                bucket.pop()
                continue
            if fm <= at and oldest <= birth[m] <= youngest and dm >= alive_until:
                return m
        return -1

    def add_marriage(a: int, b: int, on: int, until: int, takes: bool) -> None:
        mi = len(m_date)
        m_wife.append(a)
        m_husband.append(b)
        m_date.append(on)
        m_div.append(until)
        m_take.append(takes)
        m_revert.append(until >= 0 and rnd() < 0.5)
        for x in (a, b):
            lst = of_person[x]
            if lst is None:
                of_person[x] = [mi]
            else:
                lst.append(mi)

    def marry(w: int, m: int, md: int, last: int, nxt: int, yi: int) -> int:
        """Marry ``w`` and ``m`` on ``md`` or once both are of age; the day it ends, or -1 if it cannot be."""
        md = max(md, birth[w] + wed_age, birth[m] + wed_age)
        lived = min(death[w], death[m])
        if md >= lived or md > today or md >= nxt - 1:
            return -1
        div = -1
        if nxt != _NEVER and death[m] >= nxt:
            # She has another partner later: this marriage is dissolved before that.
            lo = max(md, last) + 1
            hi = min(nxt - 1, lived - 1, today)
            if lo > hi:
                return -1
            div = lo + int(rnd() * (hi - lo + 1))
        elif rnd() < t.p_divorce[yi]:
            dd = md + int((1.0 - 5.0 * log((1.0 - rnd()) * (1.0 - rnd()))) * _YEAR)
            if dd < lived and dd <= today:
                div = dd
        add_marriage(w, m, md, div, rnd() < t.p_take[yi])
        return div if div >= 0 else lived

    p_marry = t.p_marry
    i = 0
    n_planned = len(planned)
    while True:
        if later and (i >= n_planned or later[0] < planned[i]):
            key = heapq.heappop(later)
        elif i < n_planned:
            key = planned[i]
            i += 1
        else:
            break
        st = key >> _SHIFT
        s = key & _MASK
        w = sp_w[s]
        nxt = sp_next[s]
        bw = birth[w]
        dw = death[w]
        wyi = int((bw - _ORD0) * _PER_DAY)
        syi = int((st - _ORD0) * _PER_DAY)
        if syi > last_yi:
            syi = last_yi
        free_again = st  # when she could start another partnership
        ended = -1
        lo = sp_lo[s]
        if lo < sp_hi[s]:
            c = kids[w]
            assert c is not None
            first = birth[c[lo]]
            last = birth[c[sp_hi[s] - 1]]
            free_again = last
            m = -1
            if rnd() >= _P_UNKNOWN_FATHER:
                # Age gap to the man: about 3.5 years on average, sometimes younger, sometimes much older.
                gap = 3.5 + 7.0 * (rnd() + rnd() + rnd() - 1.5)
                target = wyi - round(min(max(gap, -4.0), 16.0))
                m = find_man(target, st, bw - _age_days(26), first - adult, last - _FATHER_GRACE)
            if m >= 0:
                for ch in range(lo, sp_hi[s]):
                    father[c[ch]] = m
                union_end = last + int(rnd() * 2 * _YEAR)
                if rnd() < p_marry[syi]:
                    if rnd() < 0.55:
                        md = st + int(rnd() * max(1, first - 275 - st))
                    else:
                        # Marrying after the children came is common in the region.
                        md = first + int(rnd() * (last - first + 4 * _YEAR))
                    ended = marry(w, m, md, last, nxt, syi)
                    if ended >= 0:
                        union_end = free_again = ended
                if free[m] <= union_end:
                    free[m] = union_end + 1
        else:
            gap = 4.0 + 7.0 * (rnd() + rnd() + rnd() - 1.5)
            target = wyi - round(min(max(gap, -5.0), 20.0))
            m = find_man(target, st, bw - _age_days(30), st - wed_age, st + 1)
            if m >= 0:
                ended = marry(w, m, st, st, nxt, syi)
                if ended >= 0:
                    free[m] = ended + 1
                    free_again = ended
        # Widowed, divorced or never married after her children: a chance of a (re)marriage.
        if (
            nxt == _NEVER
            and free_again < dw
            and free_again < today
            and free_again - bw < _age_days(62)
            and rnd() < _P_REMARRY * (0.5 ** sp_depth[s]) * (1.0 if ended >= 0 else 0.7)
        ):
            again = free_again + 180 + int(-3.0 * _YEAR * log(1.0 - rnd()))
            if again < dw and again < today:
                heapq.heappush(later, again << _SHIFT | len(sp_w))
                sp_w.append(w)
                sp_lo.append(0)
                sp_hi.append(0)
                sp_next.append(_NEVER)
                sp_depth.append(sp_depth[s] + 1)

    _same_sex_marriages(rng, p, today, wed_age, of_person, add_marriage)
    return _Unions(father, m_wife, m_husband, m_date, m_div, m_take, m_revert, of_person)


def _same_sex_marriages(
    rng: random.Random,
    p: _People,
    today: int,
    wed_age: int,
    of_person: list[list[int] | None],
    add_marriage: Callable[[int, int, int, int, bool], None],
) -> None:
    """A few couples among people never otherwise married, once the (fictional) law allowed it."""
    if today <= _SAME_SEX_FROM:
        return
    rnd = rng.random
    waiting: list[int] = [-1, -1]
    birth, death, male = p.birth, p.death, p.male
    for k in range(len(birth)):
        if of_person[k] is not None or death[k] <= _SAME_SEX_FROM or birth[k] + wed_age > today:
            continue
        if rnd() >= _P_SAME_SEX:
            continue
        sx = 1 if male[k] else 0
        other = waiting[sx]
        if other < 0 or birth[k] - birth[other] > _age_days(12):
            waiting[sx] = k
            continue
        waiting[sx] = -1
        lo = max(_SAME_SEX_FROM, birth[k] + wed_age)
        hi = min(death[k], death[other], today + 1) - 1
        if lo > hi:
            continue
        add_marriage(other, k, lo + int(rnd() * (hi - lo + 1)), -1, False)


# --------------------------------------------------------------------------------------------------------------
# Places.

_Addr = tuple[str, str, str, int, int]  # parish code, settlement, line, parish index, settlement index


class _Places:
    """Address drawing. Each settlement has a fixed pool of street addresses, low house numbers first."""

    def __init__(self) -> None:
        parishes = geography()
        self.cum_settlement = [list(accumulate(s.weight for s in p.settlements)) for p in parishes]
        self.cum_parish = list(accumulate(c[-1] for c in self.cum_settlement))
        self.pools: list[list[list[_Addr]]] = [
            [
                [
                    (p.code, s.name, f"{number} {street}", pi, si)
                    for number in range(1, _HOUSE_NUMBERS + 1)
                    for street in _streets_of(p.code, s.name, s.weight)
                ]
                for si, s in enumerate(p.settlements)
            ]
            for pi, p in enumerate(parishes)
        ]

    def drawers(self, rnd: Callable[[], float]) -> tuple[Callable[[], _Addr], Callable[[_Addr], _Addr]]:
        pools = self.pools
        cum_settlement = self.cum_settlement
        cum_parish = self.cum_parish
        total = cum_parish[-1]

        def anywhere() -> _Addr:
            pi = bisect_right(cum_parish, rnd() * total)
            cum = cum_settlement[pi]
            pool = pools[pi][bisect_right(cum, rnd() * cum[-1])]
            u = rnd()
            return pool[int(u * (0.35 + 0.65 * u) * len(pool))]

        def near(cur: _Addr) -> _Addr:
            # Most moves stay in the same settlement or parish.
            r = rnd()
            if r < 0.45:
                pool = pools[cur[3]][cur[4]]
            elif r < 0.78:
                cum = cum_settlement[cur[3]]
                pool = pools[cur[3]][bisect_right(cum, rnd() * cum[-1])]
            else:
                return anywhere()
            u = rnd()
            return pool[int(u * (0.35 + 0.65 * u) * len(pool))]

        return anywhere, near


_HOUSE_NUMBERS = 120


@lru_cache(maxsize=256)
def _streets_of(code: str, settlement: str, weight: float) -> tuple[str, ...]:
    # Streets belong to the geography, not to a run: seeded by the place so every seed sees the same towns.
    local = random.Random(f"{code}/{settlement}")  # noqa: S311 - simulation, not security
    count = max(3, min(len(namedata.STREETS), int(3 + weight / 2.5)))
    return tuple(local.sample(namedata.STREETS, count))


def _draw_given_names(rng: random.Random, pop: _People, t: _Tables) -> list[str]:
    """Given names of everyone, drawn in bulk per sex and naming era (``choices`` loops in C)."""
    eras = (0, 40, 70)  # year indices of 1925, 1965, 1995
    groups: list[list[int]] = [[] for _ in range(6)]
    for k, b in enumerate(pop.birth):
        yi = int((b - _ORD0) * _PER_DAY)
        groups[3 * pop.male[k] + (2 if yi >= eras[2] else 1 if yi >= eras[1] else 0)].append(k)
    given = [""] * len(pop.birth)
    rnd = rng.random
    p_two = t.p_two_given
    last_yi = t.last
    for g, members in enumerate(groups):
        table = namedata.GIVEN_NAMES_M if g >= 3 else namedata.GIVEN_NAMES_F
        weighted = [(row[0], (row[1], row[2], row[3])[g % 3]) for row in table]
        names = [name for name, weight in weighted if weight > 0]
        cum = list(accumulate(float(weight) for _, weight in weighted if weight > 0))
        firsts = rng.choices(names, cum_weights=cum, k=len(members))
        seconds = rng.choices(names, cum_weights=cum, k=len(members))
        for k, first, second in zip(members, firsts, seconds, strict=True):
            yi = min(int((pop.birth[k] - _ORD0) * _PER_DAY), last_yi)
            given[k] = f"{first} {second}" if second != first and rnd() < p_two[yi] else first
    return given


# --------------------------------------------------------------------------------------------------------------


def simulate(
    *,
    people: int,
    seed: int,
    today: date,
    min_parent_age: int = 14,
    marriage_age: int = 18,
    progress: Callable[[int], None] | None = None,
) -> Nation:
    """Simulate a nation of exactly ``people`` persons, living and dead, as of ``today``.

    ``progress``, if given, is called now and then with the work done since its previous call, counted in
    persons (an estimate while families and partnerships are drawn); the calls add up to exactly ``people``,
    so ``tqdm(total=people).update`` can be passed as it is.
    """
    if people < 0:
        raise ValueError("people must be >= 0")
    if today.year < 1985:
        raise ValueError("today must be 1985 or later: the founders are born 1925-1960")
    if not 10 <= min_parent_age <= 30 or not 14 <= marriage_age <= 30:
        raise ValueError("min_parent_age must be 10..30 and marriage_age 14..30")
    was_enabled = gc.isenabled()
    # Millions of small objects that never form cycles: generational collection would only rescan them.
    gc.disable()
    try:
        return _simulate(people, seed, today, min_parent_age, marriage_age, _Progress(progress))
    finally:
        if was_enabled:
            gc.enable()


class _Progress:
    """Turns "this much is done" into the increments the caller's callback expects."""

    def __init__(self, callback: Callable[[int], None] | None) -> None:
        self.callback = callback
        self.reported = 0

    def __call__(self, done: int) -> None:
        if self.callback is not None and done > self.reported:
            self.callback(done - self.reported)
            self.reported = done


def _simulate(
    people: int, seed: int, today: date, min_parent_age: int, marriage_age: int, progress: _Progress
) -> Nation:
    rng = random.Random(seed)  # noqa: S311 - simulation, not security
    today_o = today.toordinal()
    t = _Tables(today.year)
    raw = _grow_families(rng, people, today_o, t, min_parent_age)
    pop = _in_birth_order(raw)
    del raw
    progress(people // 5)
    unions = _form_unions(rng, pop, today_o, t, min_parent_age, marriage_age)
    progress(people * 2 // 5)
    days = [date.fromordinal(o) for o in range(_ORD0, today_o + 1)]
    persons, homes, family = _materialize(rng, pop, unions, today_o, t, days, progress, people)
    marriages = _marriages(persons, unions, homes, family, days)
    progress(people)
    return Nation(persons, marriages, today)


def _materialize(
    rng: random.Random,
    pop: _People,
    u: _Unions,
    today_o: int,
    t: _Tables,
    days: list[date],
    progress: _Progress,
    people: int,
) -> tuple[list[SynthPerson], list[list[tuple[int, _Addr]] | None], list[str]]:
    """Names, address histories and registrations, in key order so parents are always done first."""
    rnd = rng.random
    log = math.log
    anywhere, near = _Places().drawers(rnd)
    given = _draw_given_names(rng, pop, t)
    family_names = [row[0] for row in namedata.FAMILY_NAMES]
    cum_family = list(accumulate(float(row[1]) for row in namedata.FAMILY_NAMES))
    total_family = cum_family[-1]
    birth, male, death, mother = pop.birth, pop.male, pop.death, pop.mother
    father, of_person = u.father, u.of_person
    m_wife, m_husband, m_date, m_div, m_take, m_revert = u.wife, u.husband, u.date, u.divorce, u.takes_name, u.reverts
    n = len(birth)
    family = [""] * n
    history: list[list[tuple[int, _Addr]] | None] = [None] * n  # kept for women: their children follow them
    homes: list[list[tuple[int, _Addr]] | None] = [None] * len(m_date)
    persons: list[SynthPerson] = []
    append_person = persons.append
    adult = _age_days(18)
    leave_mean = -_LEAVE_HOME_MEAN * _YEAR
    single_mean = -_SINGLE_MOVE_MEAN
    joint_mean = -_JOINT_MOVE_MEAN
    step = max(1, n // 50)

    for k in range(n):
        b = birth[k]
        d = death[k]
        end = d if d < today_o else today_o
        mo = mother[k]
        fa = father[k]
        is_male = male[k]

        # Names.
        if mo < 0:
            fam = family_names[bisect_right(cum_family, rnd() * total_family)]
        else:
            fam = family[mo]
            in_wedlock = False
            mm = of_person[mo]
            if mm is not None:
                for mi in mm:
                    if m_date[mi] > b:
                        break
                    dv = m_div[mi]
                    if m_take[mi]:
                        fam = family[m_husband[mi]]
                    if 0 <= dv <= b:
                        if m_revert[mi]:
                            fam = family[mo]
                    elif m_husband[mi] == fa:
                        in_wedlock = True
            if fa >= 0 and rnd() < (0.96 if in_wedlock else 0.35):
                fam = family[fa]
        family[k] = fam

        # Addresses: born at the mother's address, following her until leaving home or marrying.
        mars = of_person[k]
        first_md = m_date[mars[0]] if mars is not None else _NEVER
        leave = _NEVER
        if rnd() < _P_LEAVE_HOME:
            leave = b + adult + int(leave_mean * log(1.0 - rnd()))
        stop = min(leave, first_md, end + 1)
        if mo >= 0:
            mh = history[mo]
            assert mh is not None
            h = [(b, mh[0][1])]
            for o, a in mh:
                if o <= b:
                    h[0] = (b, a)
                elif o < stop:
                    h.append((o, a))
                else:
                    break
        else:
            h = [(b, anywhere())]
        if leave < first_md and leave <= end:
            h.append((leave, near(h[-1][1])))
            before = first_md if first_md <= end else end + 1
            at = leave + 1 + int(single_mean * log(1.0 - rnd()))
            while at < before:
                h.append((at, near(h[-1][1])))
                at += 1 + int(single_mean * log(1.0 - rnd()))
        if mars is not None:
            for idx, mi in enumerate(mars):
                md = m_date[mi]
                pa, pb = m_wife[mi], m_husband[mi]
                dv = m_div[mi]
                m_end = min(dv if dv >= 0 else _NEVER, death[pa], death[pb])
                home = homes[mi]
                if home is None:
                    # Whichever partner comes first in key order sets up the couple's home and later moves.
                    home = [(md, near(h[-1][1]))]
                    at = md + 1 + int(joint_mean * log(1.0 - rnd()))
                    while at < m_end and at <= today_o:
                        home.append((at, near(home[-1][1])))
                        at += 1 + int(joint_mean * log(1.0 - rnd()))
                    homes[mi] = home
                for entry in home:
                    if entry[0] > end:
                        break
                    h.append(entry)
                if m_end > end:
                    break
                if dv >= 0 and k == pb:
                    h.append((dv, near(h[-1][1])))
                before = m_date[mars[idx + 1]] if idx + 1 < len(mars) else end + 1
                at = m_end + 1 + int(single_mean * log(1.0 - rnd()))
                while at < before:
                    h.append((at, near(h[-1][1])))
                    at += 1 + int(single_mean * log(1.0 - rnd()))
        if not is_male:
            history[k] = h

        # Birth registration: mostly within 45 days, some late, a few years late (more of those long ago).
        r = rnd()
        p_delayed = 0.06 if b < _DELAYED_BEFORE else 0.015
        if r < p_delayed:
            reg = b + 366 + int(-4.0 * _YEAR * log(1.0 - rnd()))
        elif r < p_delayed + 0.07:
            reg = b + 46 + int(rnd() * 320)
        else:
            v = rnd()
            reg = b + int(v * v * 46)
        if reg > end:
            reg = b + int(rnd() * (end - b + 1))

        born_at = h[0][1]
        append_person(
            SynthPerson(
                k,
                given[k],
                fam,
                "M" if is_male else "F",
                days[b - _ORD0],
                born_at[0],
                born_at[1],
                mo if mo >= 0 else None,
                fa if fa >= 0 else None,
                days[reg - _ORD0],
                [SynthAddress(days[o - _ORD0], a[0], a[1], a[2]) for o, a in h],
                [],
                days[d - _ORD0] if d <= today_o else None,
            )
        )
        if k % step == 0:
            progress(people * 2 // 5 + (k * 3 * people) // (5 * n))
    return persons, homes, family


def _marriages(
    persons: list[SynthPerson],
    u: _Unions,
    homes: list[list[tuple[int, _Addr]] | None],
    family: list[str],
    days: list[date],
) -> list[SynthMarriage]:
    """Marriages keyed in date order, and the name changes they bring (in date order per person)."""
    m_wife, m_husband, m_date, m_div, m_take, m_revert = u.wife, u.husband, u.date, u.divorce, u.takes_name, u.reverts
    order = sorted(range(len(m_date)), key=m_date.__getitem__)
    marriages: list[SynthMarriage] = []
    current = family[:]
    for key, mi in enumerate(order):
        pa, pb = m_wife[mi], m_husband[mi]
        home = homes[mi]
        assert home is not None
        wed = days[m_date[mi] - _ORD0]
        dv = m_div[mi]
        divorced = days[dv - _ORD0] if dv >= 0 else None
        marriages.append(SynthMarriage(key, pa, pb, wed, home[0][1][0], divorced))
        if m_take[mi] and current[pa] != family[pb]:
            current[pa] = family[pb]
            persons[pa].name_changes.append((wed, family[pb]))
        if divorced is not None and m_revert[mi] and current[pa] != family[pa]:
            current[pa] = family[pa]
            persons[pa].name_changes.append((divorced, family[pa]))
    return marriages


# --------------------------------------------------------------------------------------------------------------
# Checks and statistics.


def _anniversary(d: date, years: int) -> date:
    try:
        return d.replace(year=d.year + years)
    except ValueError:  # 29 February
        return date(d.year + years, 3, 1)


def _address_on(addresses: list[SynthAddress], on: date) -> SynthAddress | None:
    found = None
    for a in addresses:
        if a.valid_from > on:
            break
        found = a
    return found


def _same_place(x: SynthAddress | None, y: SynthAddress | None) -> bool:
    return x is not None and y is not None and (x.parish, x.settlement, x.line) == (y.parish, y.settlement, y.line)


def check_nation(nation: Nation, *, min_parent_age: int = 14, marriage_age: int = 18) -> list[str]:
    """Every violation of the rules the simulator promises, as readable messages (empty when all hold)."""
    errors: list[str] = []
    err = errors.append
    today = nation.today
    persons = nation.persons
    n = len(persons)
    places = {parish.code: {s.name for s in parish.settlements} for parish in geography()}
    father_grace = timedelta(days=280)
    marriages_of: list[list[SynthMarriage]] = [[] for _ in range(n)]
    for i, mar in enumerate(nation.marriages):
        tag = f"marriage {i}"
        if mar.key != i:
            err(f"{tag}: key is {mar.key}")
        if not (0 <= mar.a < n and 0 <= mar.b < n) or mar.a == mar.b:
            err(f"{tag}: bad partners {mar.a}, {mar.b}")
            continue
        marriages_of[mar.a].append(mar)
        marriages_of[mar.b].append(mar)
        if mar.date > today:
            err(f"{tag}: dated after today")
        if mar.parish not in places:
            err(f"{tag}: unknown parish {mar.parish}")
        if mar.divorce_date is not None and not mar.date < mar.divorce_date <= today:
            err(f"{tag}: divorce date {mar.divorce_date} out of range")
        for partner in (persons[mar.a], persons[mar.b]):
            if mar.date < _anniversary(partner.birth_date, marriage_age):
                err(f"{tag}: person {partner.key} under {marriage_age}")
            if partner.death_date is not None:
                if partner.death_date <= mar.date:
                    err(f"{tag}: person {partner.key} not alive on the wedding day")
                if mar.divorce_date is not None and mar.divorce_date >= partner.death_date:
                    err(f"{tag}: divorce not before the death of person {partner.key}")
        home_a = _address_on(persons[mar.a].addresses, mar.date)
        home_b = _address_on(persons[mar.b].addresses, mar.date)
        if not _same_place(home_a, home_b):
            err(f"{tag}: partners do not share an address on the wedding day")

    previous_birth: date | None = None
    for i, person in enumerate(persons):
        tag = f"person {i}"
        if person.key != i:
            err(f"{tag}: key is {person.key}")
        if previous_birth is not None and person.birth_date < previous_birth:
            err(f"{tag}: keys not in birth order")
        previous_birth = person.birth_date
        if person.sex not in ("F", "M"):
            err(f"{tag}: sex {person.sex!r}")
        if not person.given_names or not person.family_name:
            err(f"{tag}: empty name")
        if person.birth_date > today:
            err(f"{tag}: born after today")
        if person.death_date is not None:
            if person.death_date < person.birth_date:
                err(f"{tag}: death before birth")
            if person.death_date > today:
                err(f"{tag}: death after today")
        if not person.birth_date <= person.birth_registered_on <= today:
            err(f"{tag}: birth registered on {person.birth_registered_on}")
        if person.birth_settlement not in places.get(person.birth_parish, ()):
            err(f"{tag}: unknown birth place")
        if person.father is not None and person.mother is None:
            err(f"{tag}: father without mother")
        _check_parents(person, persons, min_parent_age, father_grace, err)
        _check_addresses(person, today, places, err)
        _check_marital_history(person, persons, marriages_of[i], err)
    return errors


def _check_parents(
    child: SynthPerson,
    persons: list[SynthPerson],
    min_parent_age: int,
    father_grace: timedelta,
    err: Callable[[str], None],
) -> None:
    tag = f"person {child.key}"
    born = child.birth_date
    if child.mother is not None:
        if not 0 <= child.mother < child.key:
            err(f"{tag}: mother key {child.mother} not before the child")
        else:
            mother = persons[child.mother]
            if mother.sex != "F":
                err(f"{tag}: mother is not female")
            if born < _anniversary(mother.birth_date, min_parent_age):
                err(f"{tag}: mother younger than {min_parent_age}")
            if born >= _anniversary(mother.birth_date, 50):
                err(f"{tag}: mother 50 or older")
            if mother.death_date is not None and mother.death_date < born:
                err(f"{tag}: mother dead before the birth")
            if child.addresses and not _same_place(child.addresses[0], _address_on(mother.addresses, born)):
                err(f"{tag}: not born at the mother's address")
    if child.father is not None:
        if not 0 <= child.father < child.key:
            err(f"{tag}: father key {child.father} not before the child")
        else:
            father = persons[child.father]
            if father.sex != "M":
                err(f"{tag}: father is not male")
            if born < _anniversary(father.birth_date, min_parent_age):
                err(f"{tag}: father younger than {min_parent_age}")
            if father.death_date is not None and father.death_date < born - father_grace:
                err(f"{tag}: father dead long before the birth")


def _check_addresses(person: SynthPerson, today: date, places: dict[str, set[str]], err: Callable[[str], None]) -> None:
    tag = f"person {person.key}"
    addresses = person.addresses
    if not addresses:
        err(f"{tag}: no address")
        return
    first = addresses[0]
    if first.valid_from != person.birth_date:
        err(f"{tag}: first address not from birth")
    if (first.parish, first.settlement) != (person.birth_parish, person.birth_settlement):
        err(f"{tag}: birth place differs from first address")
    for earlier, later in pairwise(addresses):
        if later.valid_from <= earlier.valid_from:
            err(f"{tag}: addresses not in date order")
    if addresses[-1].valid_from > (person.death_date or today):
        err(f"{tag}: address after death or today")
    for address in addresses:
        if address.settlement not in places.get(address.parish, ()) or not address.line:
            err(f"{tag}: unknown address {address}")


def _check_marital_history(
    person: SynthPerson, persons: list[SynthPerson], marriages: list[SynthMarriage], err: Callable[[str], None]
) -> None:
    tag = f"person {person.key}"
    event_days = {mar.date for mar in marriages} | {mar.divorce_date for mar in marriages if mar.divorce_date}
    for j, (when, name) in enumerate(person.name_changes):
        if not name or when not in event_days:
            err(f"{tag}: name change on {when} without a marriage or divorce")
        if j and when < person.name_changes[j - 1][0]:
            err(f"{tag}: name changes not in date order")
    for earlier, later in pairwise(sorted(marriages, key=lambda mar: mar.date)):
        spouse = persons[earlier.b if earlier.a == person.key else earlier.a]
        ended = earlier.divorce_date or spouse.death_date
        if ended is None or ended >= later.date:
            err(f"{tag}: married again (marriage {later.key}) while marriage {earlier.key} lasted")


def generations(nation: Nation) -> list[int]:
    """Generation of every person: 0 without parents on record, else one more than the older-generation parent."""
    gen = [0] * len(nation.persons)
    for p in nation.persons:
        g = -1
        if p.mother is not None:
            g = gen[p.mother]
        if p.father is not None:
            g = max(g, gen[p.father])
        gen[p.key] = g + 1
    return gen


def summarize(nation: Nation) -> NationStats:
    """Demographic indicators, for plausibility checks and for whoever loads the nation."""
    today = nation.today
    t_o = today.toordinal()
    persons = nation.persons
    year_ago = t_o - 365
    window = t_o - int(5 * _YEAR)
    living_ages: list[float] = []
    adults_alive: list[int] = []
    alive_year_ago = births_last_year = deaths_last_year = 0
    late = delayed = 0
    exposure = [0.0] * 121
    deaths_at = [0] * 121
    for p in persons:
        b = p.birth_date.toordinal()
        d = p.death_date.toordinal() if p.death_date is not None else None
        reg = (p.birth_registered_on - p.birth_date).days
        late += 46 <= reg <= 365
        delayed += reg > 365
        if d is None:
            living_ages.append((t_o - b) / _YEAR)
            if today >= _anniversary(p.birth_date, 18):
                adults_alive.append(p.key)
        if b <= year_ago and (d is None or d > year_ago):
            alive_year_ago += 1
        if b > year_ago:
            births_last_year += 1
        if d is not None and d > year_ago:
            deaths_last_year += 1
        lo = max(b, window)
        hi = d if d is not None else t_o
        if hi > lo:
            x0 = (lo - b) / _YEAR
            x1 = (hi - b) / _YEAR
            while x0 < x1:
                age = min(int(x0), 120)
                nxt = min(float(int(x0) + 1), x1)
                exposure[age] += nxt - x0
                x0 = nxt
        if d is not None and d > window:
            deaths_at[min(int((d - b) / _YEAR), 120)] += 1
    living = len(living_ages)
    mid_year = (alive_year_ago + living) / 2 or 1.0
    married_ever = {m.a for m in nation.marriages} | {m.b for m in nation.marriages}
    with_mother = [p for p in persons if p.mother is not None]
    with_both = [p for p in with_mother if p.father is not None]
    wed = {(m.a, m.b): m for m in nation.marriages}
    in_wedlock = 0
    for p in with_both:
        m = wed.get((p.mother or 0, p.father or 0))
        if m is not None and m.date <= p.birth_date and (m.divorce_date is None or m.divorce_date > p.birth_date):
            in_wedlock += 1
    # Period life table over the last five years.
    survivors = 1.0 if any(exposure) else 0.0
    e0 = 0.0
    for age in range(121):
        if exposure[age] > 0:
            rate = deaths_at[age] / exposure[age]
            q = min(1.0, rate / (1.0 + 0.5 * rate))
        else:
            q = 1.0 if age > 100 else 0.0  # nobody of that age in the window: close the table off
        dying = survivors * q
        e0 += survivors - 0.5 * dying
        survivors -= dying
        if survivors <= 1e-9:
            break
    living_ages.sort()
    return NationStats(
        persons=len(persons),
        living=living,
        deceased_share=(len(persons) - living) / max(1, len(persons)),
        living_adults=len(adults_alive),
        ever_married_share=sum(1 for k in adults_alive if k in married_ever) / max(1, len(adults_alive)),
        marriages=len(nation.marriages),
        divorce_share=sum(1 for m in nation.marriages if m.divorce_date is not None) / max(1, len(nation.marriages)),
        births_in_marriage_share=in_wedlock / max(1, len(with_both)),
        unknown_father_share=(len(with_mother) - len(with_both)) / max(1, len(with_mother)),
        max_generation=max(generations(nation), default=0),
        crude_birth_rate=1000.0 * births_last_year / mid_year,
        crude_death_rate=1000.0 * deaths_last_year / mid_year,
        life_expectancy=e0,
        median_age=living_ages[living // 2] if living else 0.0,
        share_under_15=sum(1 for a in living_ages if a < 15) / max(1, living),
        share_65_plus=sum(1 for a in living_ages if a >= 65) / max(1, living),
        late_registration_share=late / max(1, len(persons)),
        delayed_registration_share=delayed / max(1, len(persons)),
    )
