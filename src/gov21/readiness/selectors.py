"""Reads of the readiness app: published figures only (country indices, no person), so nothing here
is an access to personal data."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from gov21.core import config
from gov21.core.errors import DomainError, NotFound
from gov21.readiness.index import Methodology, Result, index_compute, methodology_load
from gov21.readiness.indicators import latest_values as live_values
from gov21.readiness.models import EgdiCountry, EgdiImport
from gov21.readiness.reference import Group, groups
from gov21.readiness.regional import submissions_for

INDICES = ("egdi", "21cg")


@dataclass(frozen=True)
class Ranked:
    country_code: str
    country_name: str
    value: float | None
    rank: int | None
    rank_median: float | None = None
    rank_low: int | None = None
    rank_high: int | None = None
    previous_rank: int | None = None
    pillars: dict[str, float] | None = None


@dataclass(frozen=True)
class Ranking:
    index: str
    year: int
    group: Group
    countries: tuple[Ranked, ...]
    previous_year: int | None
    methodology: Methodology | None = None
    result: Result | None = None


def group_get(code: str) -> Group:
    found = groups().get(code)
    if found is None:
        raise NotFound(
            "unknown_group", f"There is no country group '{code}'; try {', '.join(groups())}.", field="group"
        )
    return found


def egdi_years() -> list[int]:
    return list(EgdiImport.objects.order_by("year").values_list("year", flat=True))


def _survey_rows(year: int) -> list[EgdiCountry]:
    rows = list(EgdiCountry.objects.filter(survey__year=year))
    if not rows:
        loaded = ", ".join(str(y) for y in egdi_years()) or "none yet"
        raise NotFound("unknown_year", f"No EGDI survey of {year} is loaded (loaded: {loaded}).", field="year")
    return rows


def _previous(year: int) -> int | None:
    return EgdiImport.objects.filter(year__lt=year).order_by("-year").values_list("year", flat=True).first()


def _competition(values: dict[str, float | None]) -> dict[str, int | None]:
    known = [v for v in values.values() if v is not None]
    return {c: (None if v is None else 1 + sum(1 for o in known if o > v)) for c, v in values.items()}


def _egdi_ranks(rows: list[EgdiCountry], group: Group) -> dict[str, int | None]:
    members = set(group.members)
    return _competition({r.country_code: r.egdi for r in rows if r.country_code in members})


def index_result(*, year: int, group: Group, methodology: Methodology | None = None) -> tuple[Methodology, Result]:
    """The 21st Century Government Index of ``year``'s survey, normalised over every country of the
    survey and ranked within ``group``, with the Monte Carlo rank intervals."""
    methodology = methodology or methodology_load()
    rows = _survey_rows(year)
    submitted = submissions_for(year=year, survey_years=egdi_years())
    fields = [i.source.split(".", 1) for i in methodology.indicators]

    def value(row: EgdiCountry, origin: str, name: str) -> float:
        if origin == "egdi":
            found = getattr(row, name)
        elif origin == "assessment":
            found = submitted.get(row.country_code, {}).get(name)
        elif origin == "live":
            found = live.get(name) if row.country_code == country else None
        else:
            raise DomainError("methodology_invalid", f"Indicators from '{origin}' cannot be computed yet.")
        return np.nan if found is None else float(found)

    live, country = live_values(), config.READINESS_COUNTRY.read()
    data = np.array([[value(r, o, n) for o, n in fields] for r in rows], dtype=np.float64)
    # Less is better for some (a time, a loss): turned round, so that every indicator counts upwards.
    data[:, np.array([i.direction == "lower" for i in methodology.indicators], dtype=bool)] *= -1
    # An indicator no country has yet is left out; a pillar left without indicators is dropped and
    # its expert weight shared among the others (the published figures say which pillars counted).
    known = ~np.all(np.isnan(data), axis=0)
    if not known.all():
        kept = tuple(i for i, k in zip(methodology.indicators, known, strict=True) if k)
        pillars = {i.pillar for i in kept}
        total = sum(w for p, w in methodology.expert_weights.items() if p in pillars)
        weights = {p: w / total for p, w in methodology.expert_weights.items() if p in pillars}
        methodology = replace(methodology, indicators=kept, expert_weights=weights)
        data = data[:, known]
    codes = tuple(r.country_code for r in rows)
    ranked = tuple(c for c in group.members if c in set(codes))
    return methodology, index_compute(data, codes, methodology, ranked=ranked)


def rankings(*, index: str, year: int, group_code: str) -> Ranking:
    """A group's countries in ``year`` by ``index`` (``egdi`` as published, or ``21cg``), best first,
    with their rank in the group's previous survey."""
    if index not in INDICES:
        raise DomainError("unknown_index", f"There is no index '{index}'; choose egdi or 21cg.", field="index")
    group = group_get(group_code)
    rows = _survey_rows(year)
    names = {r.country_code: r.country_name for r in rows}
    previous_year = _previous(year)
    if index == "egdi":
        ranks = _egdi_ranks(rows, group)
        before = _egdi_ranks(_survey_rows(previous_year), group) if previous_year else {}
        values = {r.country_code: r.egdi for r in rows}
        entries = [
            Ranked(code, names[code], values[code], rank, previous_rank=before.get(code))
            for code, rank in ranks.items()
        ]
        entries.sort(key=lambda e: (e.rank is None, e.rank or 0, e.country_code))
        return Ranking(index, year, group, tuple(entries), previous_year)
    methodology, result = index_result(year=year, group=group)
    before_rank: dict[str, int] = {}
    if previous_year:
        before_rank = index_result(year=previous_year, group=group, methodology=methodology)[1].rank
    entries = [
        Ranked(
            code,
            names[code],
            result.scores[code],
            result.rank[code],
            rank_median=result.rank_median[code],
            rank_low=result.rank_low[code],
            rank_high=result.rank_high[code],
            previous_rank=before_rank.get(code),
            pillars=result.pillars[code],
        )
        for code in result.ranked
    ]
    entries.sort(key=lambda e: (e.rank or 0, e.country_code))
    return Ranking(index, year, group, tuple(entries), previous_year, methodology, result)
