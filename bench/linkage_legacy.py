"""Agencies' legacy extracts generated from the synthetic nation, with the region's real errors
(misspellings, nicknames, swapped day and month, missing dates, maiden names, moved addresses,
duplicated rows, people who died or emigrated) and the truth kept apart; F1 of gov21's linkage with
and without history-aware comparison, side by side, and optionally a plain Splink model.

    PYTHONPATH=src python bench/linkage_legacy.py [--people 20000] [--records 5000] [--splink]
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import time
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

from gov21.demo.synthetic import Nation, SynthPerson, simulate
from gov21.linkage import standardise
from gov21.linkage.engine import Entry, Facet, Index, Person, link
from gov21.linkage.standardise import NICKNAMES

# Names and addresses repeat across a nation: each distinct text is standardised once.
address_std = lru_cache(maxsize=None)(standardise.address_std)
fold = lru_cache(maxsize=None)(standardise.fold)
given_std = lru_cache(maxsize=None)(standardise.given_std)
surname_std = lru_cache(maxsize=None)(standardise.surname_std)
date_parse = lru_cache(maxsize=None)(standardise.date_parse)

TODAY = date(2026, 1, 1)
_BY_NAME: dict[str, list[str]] = {}
for _variant, _name in NICKNAMES.items():
    _BY_NAME.setdefault(_name, []).append(_variant)


@dataclass
class Legacy:
    key: str
    truth: str | None  # the person's key, or None when they are not in the registry (emigrated)
    given: str
    surname: str
    dob: str
    sex: str
    address: str
    settlement: str
    parish: str
    recorded_on: date


def _facets(p: SynthPerson, marriages: dict[int, list[tuple[date, str]]]) -> list[Facet]:
    """What the registry's versions of ``p`` said, from each change on."""
    changes: dict[date, None] = {p.birth_date: None}
    for a in p.addresses:
        changes[a.valid_from] = None
    names = sorted([*p.name_changes, *marriages.get(p.key, [])])
    for on, _name in names:
        changes[on] = None
    facets = []
    for on in sorted(changes):
        family = p.family_name
        for when, name in names:
            if when <= on:
                family = name
        address = p.addresses[0]
        for a in p.addresses:
            if a.valid_from <= on:
                address = a
        facets.append(
            Facet(
                on,
                given_std(p.given_names),
                surname_std(family),
                address_std(address.line),
                fold(address.settlement),
                address.parish,
            )
        )
    return facets


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.random()
    if kind < 0.33:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind < 0.66:
        return word[:i] + word[i + 1 :]
    return word[:i] + rng.choice("aeioulnrst") + word[i + 1 :]


def generate(nation: Nation, *, records: int, seed: int) -> tuple[list[Person], list[Legacy]]:
    rng = random.Random(seed)
    persons_by_key = {p.key: p for p in nation.persons}
    marriages: dict[int, list[tuple[date, str]]] = {}
    # The synthetic nation keeps brides' new names in name_changes already; nothing to add here.
    adults = [p for p in nation.persons if (p.death_date or TODAY) > p.birth_date + timedelta(days=365 * 17)]
    chosen = rng.sample(adults, min(records, len(adults)))
    emigrated = {p.key for p in rng.sample(chosen, len(chosen) // 20)}  # 5% left: not in the registry
    registry = [
        Person(key=str(p.key), dob=p.birth_date, sex=p.sex, facets=_facets(p, marriages))
        for p in nation.persons
        if p.key not in emigrated
    ]
    extract: list[Legacy] = []
    for n, p in enumerate(chosen):
        start = max(p.birth_date + timedelta(days=365 * 16), date(1995, 1, 1))
        end = min(p.death_date or TODAY, TODAY)
        if start >= end:
            start = end - timedelta(days=1)
        on = start + timedelta(days=rng.randrange(max((end - start).days, 1)))
        facet = [f for f in _facets(p, marriages) if f.since is None or f.since <= on][-1]
        address = [a for a in p.addresses if a.valid_from <= on][-1] if p.addresses else None
        family = facet.surname
        given = p.given_names.split()[0] if rng.random() < 0.3 else p.given_names
        if rng.random() < 0.1 and fold(given) in _BY_NAME:  # a nickname or another spelling
            given = rng.choice(_BY_NAME[fold(given)])
        if rng.random() < 0.12:
            family = _typo(rng, family)
        if rng.random() < 0.08:
            given = _typo(rng, given)
        d = p.birth_date
        dob = d.strftime("%d/%m/%Y")
        r = rng.random()
        if r < 0.05 and d.day <= 12:
            dob = d.strftime("%m/%d/%Y")  # written month first
        elif r < 0.09:
            dob = ""
        elif r < 0.13:
            dob = (d + timedelta(days=rng.choice([-1, 1, 10, -10]))).strftime("%d/%m/%Y")
        line = address.line if address else ""
        if rng.random() < 0.1:
            line = _typo(rng, line)
        rec = Legacy(
            key=f"L{n}",
            truth=None if p.key in emigrated else str(p.key),
            given=given,
            surname=family,
            dob=dob,
            sex=p.sex if rng.random() > 0.02 else "",
            address=line,
            settlement=address.settlement if address else "",
            parish=address.parish if address else "",
            recorded_on=on,
        )
        extract.append(rec)
        if rng.random() < 0.03:  # the same person keyed in twice
            extract.append(Legacy(**{**rec.__dict__, "key": f"L{n}d"}))
    del persons_by_key
    return registry, extract


def _entries(extract: list[Legacy]) -> list[Entry]:
    return [
        Entry(
            key=r.key,
            given=given_std(r.given),
            surname=surname_std(r.surname),
            dob=date_parse(r.dob).value,
            sex=r.sex,
            address=address_std(r.address),
            settlement=fold(r.settlement),
            parish=r.parish,
            at=r.recorded_on,
        )
        for r in extract
    ]


def _score(extract: list[Legacy], found: dict[str, str]) -> tuple[float, float, float]:
    truth = {(r.key, r.truth) for r in extract if r.truth}
    predicted = set(found.items())
    tp = len(truth & predicted)
    precision = tp / len(predicted) if predicted else 0.0
    recall = tp / len(truth) if truth else 0.0
    return precision, recall, 2 * precision * recall / (precision + recall) if tp else 0.0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--people", type=int, default=20000)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=58)
    args = parser.parse_args()
    print(f"nproc={os.cpu_count()} load={os.getloadavg()[0]:.2f}")
    nation = simulate(people=args.people, seed=args.seed, today=TODAY)
    registry, extract = generate(nation, records=args.records, seed=args.seed)
    print(f"registry {len(registry)} persons, extract {len(extract)} records")
    entries = _entries(extract)
    for history in (True, False):
        started = time.perf_counter()
        outcomes, _model, pairs = link(entries, Index.build(registry, history=history), upper=0.95, lower=0.5)
        seconds = time.perf_counter() - started
        linked = {o.key: o.uin for o in outcomes.values() if o.status == "linked" and o.uin}
        proposed = {o.key: o.uin for o in outcomes.values() if o.status in ("linked", "review") and o.uin}
        review = sum(1 for o in outcomes.values() if o.status == "review")
        p, r, f = _score(extract, linked)
        pp, rr, ff = _score(extract, proposed)
        label = "with history   " if history else "without history"
        print(
            f"{label} linked only: P={p:.4f} R={r:.4f} F1={f:.4f} | linked+review top candidate: "
            f"P={pp:.4f} R={rr:.4f} F1={ff:.4f} | review={review} pairs={pairs} time={seconds:.1f}s"
        )
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
