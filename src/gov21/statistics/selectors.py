"""Reads of the statistics office's releases. They hold only protected counts (the cells a release
publishes), so reading them concerns no one and needs no access record."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Max

from gov21.core.errors import NotFound
from gov21.statistics import disclosure
from gov21.statistics.models import TableRelease
from gov21.statistics.tables import TableSpec, all_tables


@dataclass(frozen=True, slots=True)
class ReleaseView:
    spec: TableSpec
    release: TableRelease
    # (category or "total" per dimension, count or None where suppressed)
    rows: list[tuple[tuple[str, ...], int | None]]

    def value(self, *names: str) -> int | None:
        for key, value in self.rows:
            if key == names:
                return value
        return None


def _spec(release: TableRelease) -> TableSpec:
    for spec in all_tables(release.year):
        if spec.dataset == release.dataset:
            return spec
    raise NotFound("unknown_table", f"No statistical table {release.dataset}", field="dataset")


def release_view(release: TableRelease) -> ReleaseView:
    spec = _spec(release)
    rows = []
    for cell, value in zip(disclosure.full_cells(tuple(release.shape)), release.values, strict=True):
        names = tuple(
            disclosure.TOTAL if i == len(d.categories) else d.categories[i]
            for i, d in zip(cell, spec.dimensions, strict=True)
        )
        rows.append((names, value))
    return ReleaseView(spec=spec, release=release, rows=rows)


def release_latest(dataset: str) -> ReleaseView:
    release = TableRelease.objects.filter(dataset=dataset).order_by("-version").first()
    if release is None:
        raise NotFound("unknown_table", f"No statistical table {dataset}", field="dataset")
    return release_view(release)


def releases_current() -> list[TableRelease]:
    """The last release of every table, newest years first."""
    latest = TableRelease.objects.values("dataset").annotate(last=Max("version"))
    wanted = {(row["dataset"], row["last"]) for row in latest}
    rows = [r for r in TableRelease.objects.order_by("-year", "dataset") if (r.dataset, r.version) in wanted]
    return rows
