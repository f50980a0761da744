"""Publishing a release on the data portal, as the statistics office (exchange member ``STATS``),
through the portal's contract like any publisher: the table in long form, every margin a row
whose dimension reads ``total``, a suppressed count empty with ``suppressed`` true."""

from __future__ import annotations

from datetime import date
from typing import Final

from django.utils import translation

from gov21.opendata.contracts import TableColumn, TablePublication, table_publish
from gov21.statistics import disclosure
from gov21.statistics.models import TableRelease
from gov21.statistics.tables import TableSpec

ORGANIZATION: Final = "STATS"


def release_rows(*, spec: TableSpec, release: TableRelease) -> list[tuple[object, ...]]:
    shape = tuple(release.shape)
    rows: list[tuple[object, ...]] = []
    for cell, value in zip(disclosure.full_cells(shape), release.values, strict=True):
        names = tuple(
            disclosure.TOTAL if i == len(d.categories) else d.categories[i]
            for i, d in zip(cell, spec.dimensions, strict=True)
        )
        rows.append((*names, value, value is None))
    return rows


def release_notes(*, spec: TableSpec, release: TableRelease) -> str:
    cells = len(release.values)
    return (
        f"{spec.title}, counted by the Statistics Office from the civil registry's records through the "
        "government data exchange (numbers only: no person is named in what the office receives). "
        "Every margin is included: a dimension that reads 'total' sums all its categories. "
        f"Disclosure control: small-cell suppression with threshold {disclosure.THRESHOLD} (no published "
        f"count is between 1 and {disclosure.THRESHOLD - 1}), with secondary suppression by hypercubes, "
        "audited by linear programming against all margins and the last "
        f"{disclosure.VERSIONS_AUDITED} versions so that no suppressed count can be narrowed to fewer than "
        f"{disclosure.THRESHOLD} possible values. Cost in accuracy of this version: {release.suppressed} of "
        f"{cells} cells suppressed, holding {release.hidden_share:.1%} of the people counted in the table. "
        "Persons without a parish of address are not counted in the parish tables."
    )


def release_publish(*, spec: TableSpec, release: TableRelease) -> None:
    """Publish ``release`` on the data portal and note the portal's version on it; raises (and so
    rolls back the caller's transaction) when the portal refuses."""
    columns = (
        *tuple(TableColumn(d.name, "text", _english(d.title)) for d in spec.dimensions),
        TableColumn(spec.measure, "integer", spec.measure.capitalize()),
        TableColumn("suppressed", "boolean", "Suppressed to protect small counts"),
    )
    start, end = (date(spec.year, 1, 1), date(spec.year, 12, 31))
    if spec.source == "population":
        start = end = release.created_at.date()
    published = table_publish(
        TablePublication(
            dataset=spec.dataset,
            organization=ORGANIZATION,
            title=spec.title,
            notes=release_notes(spec=spec, release=release),
            columns=columns,
            rows=release_rows(spec=spec, release=release),
            change_note=(
                f"Release {release.version} of the Statistics Office, {release.created_at:%Y-%m-%d %H:%M} UTC"
            ),
            tags=("official statistics", spec.measure),
            groups=("population",) if spec.source in ("population", "birth", "death") else ("society",),
            frequency="daily",
            spatial=tuple(spec.dimensions[0].categories),
            temporal_start=start,
            temporal_end=end,
        )
    )
    release.portal_version = published.version
    release.portal_resource = published.resource_id
    release.save(update_fields=["portal_version", "portal_resource"])


def _english(text: object) -> str:
    with translation.override("en"):
        return str(text)
