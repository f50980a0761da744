"""``/api/v1/readiness/``: published rankings of countries and the nation's live indicators
(numbers only: no personal data, no token needed)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

from django.http import HttpRequest
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from gov21.core.errors import DomainError
from gov21.readiness import selectors
from gov21.readiness.indicators import live_report

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


class IndicatorOut(Schema):
    code: str
    label: str
    definition: str = Field(description="What the indicator measures")
    computation: str = Field(description="How it is computed, and from which agency's numbers on the exchange")
    unit: str = Field(description="share (0 to 1), count, days, hours or minutes")
    value: float | None = Field(description="In the latest round; null when there was nothing to count")
    numerator: float | None
    denominator: float | None
    previous_value: float | None = Field(description="In the round before the latest")
    pillar: str | None = Field(description="The index's pillar it counts in; null when not in the index")
    direction: str | None = Field(description="higher or lower: which is better, as the methodology declares")


class AccessibilityPageOut(Schema):
    path: str
    status: int
    failures: list[str] = Field(description="The rules the page failed; empty when it passed")


class IndicatorsOut(Schema):
    measured_at: datetime | None = Field(description="When the latest round was measured; null before the first")
    previous_measured_at: datetime | None
    indicators: list[IndicatorOut]
    accessibility: list[AccessibilityPageOut]


class IndicatorsQuery(Schema):
    as_of: datetime | None = Field(
        None,
        description="The round measured at or before this moment (ISO 8601 with its offset), beside the round "
        "before it; the latest round when left out",
    )


def _moment(as_of: datetime | None) -> datetime | None:
    """``as_of`` in UTC (an offset PostgreSQL would refuse, such as +21:20, is resolved here); a naive
    moment is the platform's local time. A moment that cannot be one in UTC (year 1 with an offset
    east of Greenwich) is refused."""
    if as_of is None:
        return None
    try:
        aware = timezone.make_aware(as_of) if timezone.is_naive(as_of) else as_of
        return aware.astimezone(UTC)
    except (OverflowError, ValueError) as exc:
        raise DomainError(
            "as_of_out_of_range", _("The moment is outside the dates a round can have."), field="as_of"
        ) from exc


@router.get(
    "/indicators",
    response=IndicatorsOut,
    summary="The nation's live indicators, measured from the platform's own records, with their definitions",
)
def indicators(request: HttpRequest, filters: Query[IndicatorsQuery]) -> IndicatorsOut:
    found = live_report(as_of=_moment(filters.as_of))
    return IndicatorsOut(
        measured_at=found.measured_at,
        previous_measured_at=found.previous_at,
        indicators=[
            IndicatorOut(
                code=s.definition.code,
                label=str(s.definition.label),
                definition=str(s.definition.definition),
                computation=str(s.definition.computation),
                unit=s.definition.unit,
                value=s.value,
                numerator=s.numerator,
                denominator=s.denominator,
                previous_value=s.previous,
                pillar=s.pillar,
                direction=s.direction,
            )
            for s in found.indicators
        ],
        accessibility=[AccessibilityPageOut(path=p.path, status=p.status, failures=p.failures) for p in found.pages],
    )
