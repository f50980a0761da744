"""The decision makers' dashboards (decision 0072), computed from the published (protected) releases
only, so that every figure on them may be shown to anyone: registration completeness (births and
deaths registered against those expected from the population and the crude rates of the last census)
and timeliness, by parish. A suppressed count makes its ratios unknown ("–"), never guessed."""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date

from django.conf import settings

from gov21.core.errors import NotFound
from gov21.core.geography import parish_name
from gov21.statistics import selectors
from gov21.statistics.disclosure import TOTAL
from gov21.statistics.selectors import ReleaseView
from gov21.statistics.tables import TIMELINESS, population_table


@dataclass(frozen=True, slots=True)
class CompletenessRow:
    parish: str  # code, or "total"
    name: str
    population: int | None
    births_expected: int | None
    births: int | None
    deaths_expected: int | None
    deaths: int | None
    births_on_time: int | None  # registered within the registry's target (45 days by default)
    births_within_year: int | None
    births_timed: int | None  # births of the timeliness table (its own protection)

    @staticmethod
    def _share(part: int | None, whole: int | None) -> int | None:
        return round(100 * part / whole) if part is not None and whole else None

    @property
    def birth_completeness(self) -> int | None:
        return self._share(self.births, self.births_expected)

    @property
    def death_completeness(self) -> int | None:
        return self._share(self.deaths, self.deaths_expected)

    @property
    def on_time_share(self) -> int | None:
        return self._share(self.births_on_time, self.births_timed)

    @property
    def within_year_share(self) -> int | None:
        return self._share(self.births_within_year, self.births_timed)


@dataclass(frozen=True, slots=True)
class Completeness:
    year: int
    share_of_year: float  # of the year elapsed (1 for a past year): what the expected numbers cover
    rows: list[CompletenessRow]
    births_per_1000: int
    deaths_per_1000: int
    sources: list[str]  # the datasets the figures come from


def _optional(dataset: str) -> ReleaseView | None:
    try:
        return selectors.release_latest(dataset)
    except NotFound:
        return None


def _sum(*values: int | None) -> int | None:
    return None if any(v is None for v in values) else sum(v for v in values if v is not None)


def completeness(*, year: int, today: date) -> Completeness | None:
    """Completeness and timeliness of ``year``'s registrations by parish, or None before the
    population has been published."""
    population = _optional(population_table(year).dataset)
    if population is None:
        return None
    births = _optional(f"births-by-parish-month-sex-{year}")
    deaths = _optional(f"deaths-by-parish-month-sex-{year}")
    timed = _optional(f"births-by-parish-timeliness-{year}")
    days = 366 if calendar.isleap(year) else 365
    elapsed = 1.0 if year < today.year else min(1.0, max(0, (today - date(year, 1, 1)).days + 1) / days)
    per_births = int(settings.GOV21_STATISTICS_BIRTHS_PER_1000)
    per_deaths = int(settings.GOV21_STATISTICS_DEATHS_PER_1000)
    rows = []
    for parish in (*population.spec.dimensions[0].categories, TOTAL):
        persons = population.value(parish, TOTAL, TOTAL)
        on_time = timed.value(parish, TIMELINESS[0]) if timed else None
        late = timed.value(parish, TIMELINESS[1]) if timed else None
        rows.append(
            CompletenessRow(
                parish=parish,
                name=parish_name(parish) if parish != TOTAL else "",
                population=persons,
                births_expected=round(persons * per_births / 1000 * elapsed) if persons is not None else None,
                births=births.value(parish, TOTAL, TOTAL) if births else None,
                deaths_expected=round(persons * per_deaths / 1000 * elapsed) if persons is not None else None,
                deaths=deaths.value(parish, TOTAL, TOTAL) if deaths else None,
                births_on_time=on_time,
                births_within_year=_sum(on_time, late),
                births_timed=timed.value(parish, TOTAL) if timed else None,
            )
        )
    sources = [v.spec.dataset for v in (population, births, deaths, timed) if v is not None]
    return Completeness(
        year=year,
        share_of_year=elapsed,
        rows=rows,
        births_per_1000=per_births,
        deaths_per_1000=per_deaths,
        sources=sources,
    )


@dataclass(frozen=True, slots=True)
class ServiceRow:
    service: str
    submitted: int
    decided: int
    approved: int
    automatic: int
    median_hours: float | None
    target_hours: float | None
    within_target: int

    @staticmethod
    def _share(part: int, whole: int) -> int | None:
        return round(100 * part / whole) if whole else None

    @property
    def automatic_share(self) -> int | None:
        return self._share(self.automatic, self.decided)

    @property
    def approved_share(self) -> int | None:
        return self._share(self.approved, self.decided)

    @property
    def within_target_share(self) -> int | None:
        return self._share(self.within_target, self.decided)


def _median(values: list[float]) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def services_performance(*, start: date, end: date) -> list[ServiceRow]:
    """Per one-stop shop service, from the application events received from ``start`` to ``end``:
    applications submitted and decided, approved, decided by the engine alone, the median time to
    a decision and the share decided within the service's target. The last row sums every service."""
    from gov21.statistics.models import ApplicationEvent

    rows = ApplicationEvent.objects.filter(day__gte=start, day__lte=end).values_list(
        "event_type", "service", "decision", "automatic", "hours", "target_hours", "within_target"
    )
    by: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, list[int]] = {}
    for event_type, service, decision, automatic, hours, target, within in rows:
        for key in (service, TOTAL):
            c = counts.setdefault(key, [0, 0, 0, 0, 0])
            t = by.setdefault(key, {"hours": [], "target": []})
            if event_type == "application.submitted":
                c[0] += 1
                continue
            c[1] += 1
            c[2] += decision == "approved"
            c[3] += bool(automatic)
            c[4] += bool(within)
            if hours is not None:
                t["hours"].append(hours)
            if target is not None:
                t["target"].append(target)
    return [
        ServiceRow(
            service=key,
            submitted=c[0],
            decided=c[1],
            approved=c[2],
            automatic=c[3],
            median_hours=_median(by[key]["hours"]),
            target_hours=_median(by[key]["target"]),
            within_target=c[4],
        )
        for key, c in sorted(counts.items(), key=lambda kv: (kv[0] == TOTAL, kv[0]))
    ]


@dataclass(frozen=True, slots=True)
class TrafficRow:
    client: str
    service: str
    messages: int
    failed: int
    mean_ms: float


def exchange_traffic(*, start: date, end: date) -> list[TrafficRow]:
    """Messages through the exchange from ``start`` to ``end`` by client agency and service, from the
    exchange's traffic service (counts only), busiest first."""
    from gov21.exchange.contracts import agency_client, agency_service, exchange_json

    answer = exchange_json(
        client=agency_client("STATS", "statistics"),
        service=agency_service("EXCHANGE", "monitoring", "traffic"),
        path="/",
        query=f"from={start.isoformat()}&to={end.isoformat()}",
        issue="official statistics",
    )
    cells = answer.get("cells") if isinstance(answer, dict) else None
    acc: dict[tuple[str, str], list[float]] = {}
    for cell in cells if isinstance(cells, list) else []:
        if not isinstance(cell, dict):
            continue
        a = acc.setdefault((str(cell["client"]), str(cell["service"])), [0, 0, 0.0])
        a[0] += int(cell["messages"])
        a[1] += 0 if cell["ok"] else int(cell["messages"])
        a[2] += float(cell["duration_ms"])
    rows = [
        TrafficRow(client=c, service=s, messages=int(n), failed=int(f), mean_ms=ms / n if n else 0.0)
        for (c, s), (n, f, ms) in acc.items()
    ]
    return sorted(rows, key=lambda r: (-r.messages, r.client, r.service))
