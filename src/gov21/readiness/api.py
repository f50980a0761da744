"""``/api/v1/readiness/``: published rankings of countries (no personal data, no token needed)."""

from __future__ import annotations

from typing import Literal

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from gov21.readiness import selectors

router = Router(tags=["readiness"])


class RankingQuery(Schema):
    index: Literal["egdi", "21cg"] = Field(
        "egdi", description="egdi: the UN E-Government Development Index as published; 21cg: gov21's own index"
    )
    year: int = Field(..., ge=2001, le=2100, description="The UN E-Government Survey's year")
    group: str = Field("caricom", max_length=40, description="A country group: caricom or cariforum")


class CountryRankOut(Schema):
    country_code: str = Field(description="ISO 3166-1 alpha-3")
    country_name: str
    value: float | None = Field(description="The index value (0 to 1 for egdi); null when not published")
    rank: int | None = Field(description="1 = best within the group; equal values share a rank")
    rank_median: float | None = Field(None, description="21cg: the median rank over the uncertainty analysis")
    rank_low: int | None = Field(None, description="21cg: the best rank of the 90% interval")
    rank_high: int | None = Field(None, description="21cg: the worst rank of the 90% interval")
    previous_rank: int | None = Field(None, description="The rank in the group in the previous survey loaded")
    pillars: dict[str, float] | None = Field(None, description="21cg: the country's pillar scores")


class MethodologyOut(Schema):
    version: str
    sha256: str = Field(description="SHA-256 of the methodology file the figures were computed with")
    draws: int
    seed: int
    sensitivity: dict[str, float] = Field(
        description="Per choice, the mean share of rank variance explained by it (first-order sensitivity)"
    )


class RankingOut(Schema):
    index: str
    year: int
    group: str
    group_name: str
    previous_year: int | None
    countries: list[CountryRankOut]
    methodology: MethodologyOut | None = None


@router.get("/rankings", response=RankingOut, summary="A country group's ranking by an index")
def rankings(request: HttpRequest, filters: Query[RankingQuery]) -> RankingOut:
    found = selectors.rankings(index=filters.index, year=filters.year, group_code=filters.group)
    method = None
    if found.methodology is not None and found.result is not None:
        method = MethodologyOut(
            version=found.methodology.version,
            sha256=found.methodology.digest,
            draws=found.methodology.draws,
            seed=found.methodology.seed,
            sensitivity=found.result.sensitivity,
        )
    return RankingOut(
        index=found.index,
        year=found.year,
        group=found.group.code,
        group_name=found.group.name,
        previous_year=found.previous_year,
        countries=[CountryRankOut(**vars(c)) for c in found.countries],
        methodology=method,
    )
