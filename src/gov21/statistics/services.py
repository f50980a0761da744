"""The statistics office's work: following the civil registry's events through the exchange,
recounting the tables they change (only those, decision 0074) from the registry's numbers service
(counts only, nobody named), protecting each table (``disclosure``) and publishing every changed
table as a new numbered release, in the office's own record and on the data portal."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Final

import numpy as np
from django.db import transaction
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.statistics import disclosure
from gov21.statistics.models import ApplicationEvent, TableCount, TableRelease
from gov21.statistics.tables import POPULATION_DATASET, TableSpec, all_tables, population_table, year_tables

CLIENT: Final = ("STATS", "statistics")
# The registry's events the office follows (pull subscriptions set up with the exchange).
EVENT_TYPES: Final = (
    "birth.registered",
    "death.registered",
    "marriage.registered",
    "name.changed",
    "address.changed",
)
PULL_LIMIT: Final = 1000
# The one-stop shop's application events, kept as received (counts are made from them on demand).
APPLICATION_EVENT_TYPES: Final = ("application.submitted", "application.decided")


def _numbers(path: str, query: str) -> dict[str, object]:
    answer = exchange_json(
        client=agency_client(*CLIENT),
        service=agency_service("CRO", "civil-registry", "numbers"),
        path=path,
        query=query,
        issue="official statistics",
    )
    if not isinstance(answer, dict):
        raise DomainError("registry_answer", "The civil registry's numbers service answered nothing usable", status=502)
    return answer


def _cells(answer: dict[str, object]) -> list[dict[str, object]]:
    cells = answer.get("cells")
    return [c for c in cells if isinstance(c, dict)] if isinstance(cells, list) else []


def release_to_values(release: TableRelease) -> dict[disclosure.Coord, int | None]:
    shape = tuple(release.shape)
    return dict(zip(disclosure.full_cells(shape), release.values, strict=True))


def _as_release(row: TableRelease) -> disclosure.Release:
    return disclosure.Release(
        shape=tuple(row.shape),
        values=release_to_values(row),
        primary=frozenset(tuple(c) for c in row.primary),
    )


def _hidden_share(counts: np.ndarray, release: disclosure.Release) -> float:
    total = int(counts.sum())
    if not total:
        return 0.0
    hidden = sum(
        int(counts[c]) for c in release.suppressed if all(i < n for i, n in zip(c, release.shape, strict=True))
    )
    return hidden / total


def _last_counts(row: TableRelease) -> np.ndarray | None:
    """The interior counts ``row`` was protected from, when it kept them."""
    shape = tuple(int(n) for n in row.shape)
    if not isinstance(row.counts, list) or len(row.counts) != int(np.prod(shape)):
        return None
    return np.array(row.counts, dtype=np.int64).reshape(shape)


def _count_keep(*, spec: TableSpec, counts: np.ndarray) -> None:
    """Keep ``counts`` as the table's latest count."""
    TableCount.objects.update_or_create(
        dataset=spec.dataset,
        defaults={
            "year": spec.year,
            "counted_at": timezone.now(),
            "shape": list(counts.shape),
            "counts": [int(n) for n in counts.ravel()],
        },
    )


def _count_changed(*, spec: TableSpec, counts: np.ndarray) -> bool:
    kept = TableCount.objects.filter(dataset=spec.dataset).first()
    return kept is None or kept.shape != list(counts.shape) or kept.counts != [int(n) for n in counts.ravel()]


def table_release(*, spec: TableSpec, counts: np.ndarray, incremental: bool = False) -> TableRelease | None:
    """Protect ``counts`` against the table's earlier releases and record a new release if anything
    published changed; the release, or None when the last one stands. ``incremental``: following
    events, skip a table whose count did not change, keep the last release's suppressions and audit
    only the cells newly small (``disclosure.protect_next``, decision 0074); otherwise choose the
    suppressions afresh and audit every small cell (the daily refresh, a rebuild)."""
    changed = _count_changed(spec=spec, counts=counts)
    earlier_rows = list(
        TableRelease.objects.filter(dataset=spec.dataset).order_by("-version")[: disclosure.VERSIONS_AUDITED]
    )
    if incremental and earlier_rows and not changed:
        return None  # counted as before: the last release stands as it is
    earlier = [_as_release(r) for r in earlier_rows]
    protected = None
    if incremental and earlier_rows:
        last_counts = _last_counts(earlier_rows[0])
        if last_counts is not None and last_counts.shape == counts.shape:
            protected = disclosure.protect_next(
                counts, last=earlier[0], last_counts=last_counts, earlier=earlier, monotone=spec.monotone
            )
    if protected is None:
        protected = disclosure.protect(counts, earlier=earlier, monotone=spec.monotone)
    cells = disclosure.full_cells(protected.shape)
    values = [protected.values[c] for c in cells]
    if earlier_rows and earlier_rows[0].values == values and list(earlier_rows[0].shape) == list(protected.shape):
        if changed:
            _count_keep(spec=spec, counts=counts)
        return None
    with transaction.atomic():
        last = TableRelease.objects.select_for_update().filter(dataset=spec.dataset).order_by("-version").first()
        release = TableRelease.objects.create(
            dataset=spec.dataset,
            version=(last.version + 1) if last else 1,
            year=spec.year,
            created_at=timezone.now(),
            shape=list(protected.shape),
            values=values,
            primary=sorted(list(c) for c in protected.primary),
            counts=[int(n) for n in counts.ravel()],
            suppressed=len(protected.suppressed),
            hidden_share=_hidden_share(counts, protected),
        )
        from gov21.statistics.publication import release_publish

        release_publish(spec=spec, release=release)
        # With the release: a portal that refuses it leaves the count to be made again.
        _count_keep(spec=spec, counts=counts)
    return release


def _recount(*, kinds: Iterable[tuple[str, int]], population: bool, incremental: bool) -> list[TableRelease]:
    """Recount the tables of each (registry event kind, year) of ``kinds`` and, if asked, the
    population, each from one read of the registry's numbers service; the new releases."""
    today = timezone.localdate()
    made: list[TableRelease] = []
    if population:
        spec = population_table(today.year)
        answer = _numbers("/population", f"as_of={today.isoformat()}")
        release = table_release(spec=spec, counts=spec.counts(_cells(answer), "persons"), incremental=incremental)
        if release is not None:
            made.append(release)
    for kind, year in sorted(set(kinds), key=lambda k: (k[1], k[0])):
        specs = [s for s in year_tables(year) if s.source == kind]
        if not specs:
            continue
        cells = _cells(_numbers("/events", f"kind={kind}&year={year}"))
        for spec in specs:
            release = table_release(spec=spec, counts=spec.counts(cells, "events"), incremental=incremental)
            if release is not None:
                made.append(release)
    return made


def tables_refresh(*, years: Iterable[int] = (), population: bool = True) -> list[TableRelease]:
    """Recount every table of ``years`` (this year when none), and the population, choosing each
    table's suppressions afresh; the new releases."""
    wanted = sorted(set(years)) or [timezone.localdate().year]
    kinds = {(spec.source, year) for year in wanted for spec in year_tables(year)}
    return _recount(kinds=kinds, population=population, incremental=False)


@dataclass(frozen=True, slots=True)
class Reach:
    """What one kind of the registry's events changes in the office's tables."""

    kinds: tuple[str, ...]  # the event kinds whose tables of the event's year it changes
    population: bool  # whether it changes who lives where, of what sex and age
    # The registry counts a marriage, a divorce and a move in the parish the subject lives in now:
    # a move carries the subject's earlier ones to the new parish, in whatever year they were.
    earlier_years: tuple[str, ...] = ()


REACH: Final[dict[str, Reach]] = {
    "birth.registered": Reach(kinds=("birth",), population=True),
    "death.registered": Reach(kinds=("death",), population=True),
    "marriage.registered": Reach(kinds=("marriage",), population=False),
    "name.changed": Reach(kinds=(), population=False),  # no table counts names
    "address.changed": Reach(
        kinds=("address_change",), population=True, earlier_years=("marriage", "divorce", "address_change")
    ),
}


def _year_of(event: dict[str, object]) -> int | None:
    payload = event.get("payload")
    if not isinstance(payload, dict):
        return None
    try:
        return date.fromisoformat(str(payload.get("date", ""))).year
    except ValueError:
        return None


def _optional_float(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _optional_bool(value: object) -> bool | None:
    return value if isinstance(value, bool) else None


def _application_row(event_type: str, event: dict[str, object]) -> ApplicationEvent | None:
    payload = event.get("payload")
    if not isinstance(payload, dict):
        return None
    try:
        day = date.fromisoformat(str(payload.get("date", "")))
    except ValueError:
        return None
    decision = str(payload.get("decision") or "")
    return ApplicationEvent(
        event_type=event_type,
        seq=int(str(event["seq"])),
        service=str(payload.get("service", ""))[:64],
        agency=str(payload.get("agency", ""))[:64],
        day=day,
        decision=decision[:10],
        automatic=_optional_bool(payload.get("automatic")),
        hours=_optional_float(payload.get("hours")),
        target_hours=_optional_float(payload.get("target_hours")),
        within_target=_optional_bool(payload.get("within_target")),
    )


def applications_follow() -> int:
    """Read the one-stop shop's new application events through the exchange, keep them, and only
    then acknowledge them; how many were read. An event that cannot be read as one is skipped."""
    count = 0
    for event_type in APPLICATION_EVENT_TYPES:
        page = exchange_json(
            client=agency_client(*CLIENT),
            service=agency_service("EXCHANGE", "pubsub", "events"),
            path=f"/{event_type}",
            query=f"limit={PULL_LIMIT}",
        )
        events = [e for e in page.get("events", []) if isinstance(e, dict)]
        if not events:
            continue
        rows = [r for r in (_application_row(event_type, e) for e in events) if r is not None]
        ApplicationEvent.objects.bulk_create(rows, ignore_conflicts=True)
        exchange_json(
            client=agency_client(*CLIENT),
            service=agency_service("EXCHANGE", "pubsub", "events"),
            path=f"/{event_type}/ack",
            method="POST",
            body=b'{"seq": %d}' % int(str(events[-1]["seq"])),
            content_type="application/json",
        )
        count += len(events)
    return count


def events_follow() -> tuple[int, list[TableRelease]]:
    """Read the registry's new events through the exchange, recount the tables they change (only
    those: ``REACH``) and release each changed table once for all the events read together, and
    only then acknowledge them: a failure leaves them to be read again. The number of events read
    and the new releases."""
    seen: dict[str, int] = {}
    kinds: set[tuple[str, int]] = set()
    population = False
    count = 0
    published_years: list[int] | None = None
    for event_type in EVENT_TYPES:
        page = exchange_json(
            client=agency_client(*CLIENT),
            service=agency_service("EXCHANGE", "pubsub", "events"),
            path=f"/{event_type}",
            query=f"limit={PULL_LIMIT}",
        )
        events = [e for e in page.get("events", []) if isinstance(e, dict)]
        if not events:
            continue
        count += len(events)
        seen[event_type] = int(events[-1]["seq"])
        reach = REACH[event_type]
        population = population or reach.population
        years = {y for y in (_year_of(e) for e in events) if y is not None}
        kinds.update((kind, year) for kind in reach.kinds for year in years)
        if reach.earlier_years:
            if published_years is None:
                years_kept = TableRelease.objects.exclude(dataset=POPULATION_DATASET).values_list("year", flat=True)
                published_years = sorted(set(years_kept))
            kinds.update((kind, year) for kind in reach.earlier_years for year in published_years)
    if not seen:
        return 0, []
    made = _recount(kinds=kinds, population=population, incremental=True)
    for event_type, seq in seen.items():
        exchange_json(
            client=agency_client(*CLIENT),
            service=agency_service("EXCHANGE", "pubsub", "events"),
            path=f"/{event_type}/ack",
            method="POST",
            body=b'{"seq": %d}' % seq,
            content_type="application/json",
        )
    return count, made


def follow_loop(*, interval: float, stop_after: float | None = None) -> int:
    """Follow the events every ``interval`` seconds (for ``stop_after`` seconds, or for ever),
    republish every table with its suppressions chosen afresh (following events only adds to them)
    and project the population again at least daily; how many releases were made."""
    started = time.monotonic()
    made = 0
    last_full = 0.0
    while stop_after is None or time.monotonic() - started < stop_after:
        if time.monotonic() - last_full > 86400:
            made += len(tables_refresh())
            from gov21.statistics.forecasting import forecast_build

            with contextlib.suppress(DomainError):  # nobody to project from yet: tried again tomorrow
                forecast_build()
            last_full = time.monotonic()
        made += len(events_follow()[1])
        applications_follow()
        time.sleep(interval)
    return made


__all__ = [
    "REACH",
    "Reach",
    "all_tables",
    "applications_follow",
    "events_follow",
    "follow_loop",
    "table_release",
    "tables_refresh",
]
