"""The desk's numbers as open tables: reports by month, parish, service and status, and the median
time to close by month and service. No personal data is read; counts from 1 to ``SMALL_CELL - 1``
are published as suppressed, as the platform publishes small counts of people (decision 0061),
although each report is public on Open311 one by one. The desk sits beside the data portal, so the
top-level wiring hands these tables to ``opendata.contracts.table_publish``."""

from __future__ import annotations

import statistics
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from django.db.models import Count
from django.db.models.functions import TruncMonth
from django.utils import timezone

from gov21.concerns.models import Report, Status

ORGANIZATION: Final = "PORTAL"  # the exchange member whose subsystem (concerns) runs the desk
# The platform's small-cell threshold (gov21.statistics.disclosure.THRESHOLD, which this layer may
# not import): a count below it, and above 0, is not published.
SMALL_CELL: Final = 5


def _month(moment: datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m")


def counts_rows() -> list[tuple[object, ...]]:
    """(month, parish, service, status, reports or None, suppressed), merged duplicates left out
    (they are the report they were merged into)."""
    grouped = (
        Report.objects.filter(merged_into__isnull=True)
        .annotate(month=TruncMonth("requested_at"))
        .values("month", "parish", "category__code", "status")
        .annotate(n=Count("id"))
        .order_by("month", "parish", "category__code", "status")
    )
    rows: list[tuple[object, ...]] = []
    for g in grouped:
        small = 0 < g["n"] < SMALL_CELL
        month = g["month"].strftime("%Y-%m")
        rows.append((month, g["parish"], g["category__code"], g["status"], None if small else g["n"], small))
    return rows


def close_times_rows() -> list[tuple[object, ...]]:
    """(month reported, service, reports closed, median hours to close or None, suppressed)."""
    hours: dict[tuple[str, str], list[float]] = defaultdict(list)
    closed = Report.objects.filter(merged_into__isnull=True, status=Status.CLOSED, closed_at__isnull=False)
    for requested, closed_at, code in closed.values_list("requested_at", "closed_at", "category__code"):
        if closed_at is not None:  # always, by the filter; the column may be empty
            hours[(_month(requested), code)].append((closed_at - requested).total_seconds() / 3600)
    rows: list[tuple[object, ...]] = []
    for (month, code), values in sorted(hours.items()):
        small = len(values) < SMALL_CELL
        median = None if small else round(statistics.median(values), 1)
        rows.append((month, code, None if small else len(values), median, small))
    return rows


@dataclass(frozen=True, slots=True)
class OpenTable:
    """A table to publish: its dataset name, title, description, columns (name, type, title) and rows."""

    dataset: str
    title: str
    notes: str
    columns: tuple[tuple[str, str, str], ...]
    rows: list[tuple[object, ...]]
    tags: tuple[str, ...]


def reports_tables() -> tuple[OpenTable, OpenTable]:
    """Both tables, computed now."""
    suppressed = ("suppressed", "boolean", f"Suppressed: fewer than {SMALL_CELL}")
    counts = OpenTable(
        dataset="reported-problems-by-month-parish-service",
        title="Reported problems by month, parish, service and status",
        notes=(
            "Problems reported by the public (Open311 service requests) counted by the month they were "
            "reported, the parish of their position, the service (category) and their status now. "
            "Duplicates merged into another report are not counted again. No personal data. Counts "
            f"from 1 to {SMALL_CELL - 1} are suppressed."
        ),
        columns=(
            ("month", "text", "Month reported (YYYY-MM)"),
            ("parish", "text", "Parish code"),
            ("service_code", "text", "Service"),
            ("status", "text", "Status"),
            ("reports", "integer", "Reports"),
            suppressed,
        ),
        rows=counts_rows(),
        tags=("open311", "reported problems"),
    )
    times = OpenTable(
        dataset="reported-problems-time-to-close",
        title="Median time to close a reported problem, by month and service",
        notes=(
            "For the reports closed by the agency responsible, by the month they were reported and their "
            "service: how many, and the median hours from the report to its closing. No personal data. "
            f"A month and service with fewer than {SMALL_CELL} closed reports is suppressed."
        ),
        columns=(
            ("month", "text", "Month reported (YYYY-MM)"),
            ("service_code", "text", "Service"),
            ("closed", "integer", "Reports closed"),
            ("median_hours", "numeric", "Median hours to close"),
            suppressed,
        ),
        rows=close_times_rows(),
        tags=("open311", "reported problems", "service levels"),
    )
    return counts, times
