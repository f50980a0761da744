"""Open data from apps that sit beside the data portal and so may not call it themselves: their
tables, computed by them, published here through ``opendata.contracts``."""

from __future__ import annotations

from typing import Protocol, cast

from django.db import transaction
from django.utils import timezone

from gov21.concerns import contracts as concerns
from gov21.opendata.contracts import ColumnType, PublishedVersion, TableColumn, TablePublication, table_publish
from gov21.participation import contracts as participation


class _OpenTable(Protocol):
    """What the reporting desk's and e-participation's tables have in common."""

    @property
    def dataset(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def notes(self) -> str: ...
    @property
    def columns(self) -> tuple[tuple[str, str, str], ...]: ...
    @property
    def rows(self) -> list[tuple[object, ...]]: ...
    @property
    def tags(self) -> tuple[str, ...]: ...


def _publication(table: _OpenTable, *, organization: str, note: str, frequency: str) -> TablePublication:
    return TablePublication(
        dataset=table.dataset,
        organization=organization,
        title=table.title,
        notes=table.notes,
        columns=tuple(TableColumn(n, cast(ColumnType, t), title) for n, t, title in table.columns),
        rows=table.rows,
        change_note=note,
        tags=table.tags,
        groups=("society",),
        frequency=frequency,
    )


def concerns_publish() -> list[PublishedVersion]:
    """The reporting desk's tables on the data portal (a new version only where the rows changed)."""
    note = f"The reporting desk's numbers on {timezone.now():%Y-%m-%d %H:%M} UTC"
    with transaction.atomic():
        return [
            table_publish(_publication(table, organization=concerns.ORGANIZATION, note=note, frequency="daily"))
            for table in concerns.reports_tables()
        ]


def participation_publish() -> PublishedVersion:
    """The results of every closed participation process on the data portal (a new version only
    when a process closed or a late count changed)."""
    table = participation.results_table()
    note = f"Results of the processes closed by {timezone.now():%Y-%m-%d %H:%M} UTC"
    with transaction.atomic():
        return table_publish(
            _publication(table, organization=participation.ORGANIZATION, note=note, frequency="irregular")
        )
