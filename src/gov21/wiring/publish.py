"""Open data from apps that sit beside the data portal and so may not call it themselves: their
tables, computed by them, published here through ``opendata.contracts``."""

from __future__ import annotations

from typing import cast

from django.db import transaction
from django.utils import timezone

from gov21.concerns import contracts as concerns
from gov21.opendata.contracts import ColumnType, PublishedVersion, TableColumn, TablePublication, table_publish
from gov21.participation import contracts as participation


def concerns_publish() -> list[PublishedVersion]:
    """The reporting desk's tables on the data portal (a new version only where the rows changed)."""
    note = f"The reporting desk's numbers on {timezone.now():%Y-%m-%d %H:%M} UTC"
    published = []
    with transaction.atomic():
        for table in concerns.reports_tables():
            published.append(
                table_publish(
                    TablePublication(
                        dataset=table.dataset,
                        organization=concerns.ORGANIZATION,
                        title=table.title,
                        notes=table.notes,
                        columns=tuple(TableColumn(n, cast(ColumnType, t), title) for n, t, title in table.columns),
                        rows=table.rows,
                        change_note=note,
                        tags=table.tags,
                        groups=("society",),
                    )
                )
            )
    return published


def participation_publish() -> PublishedVersion:
    """The results of every closed participation process on the data portal (a new version only
    when a process closed or a late count changed)."""
    table = participation.results_table()
    note = f"Results of the processes closed by {timezone.now():%Y-%m-%d %H:%M} UTC"
    with transaction.atomic():
        return table_publish(
            TablePublication(
                dataset=table.dataset,
                organization=participation.ORGANIZATION,
                title=table.title,
                notes=table.notes,
                columns=tuple(TableColumn(n, cast(ColumnType, t), title) for n, t, title in table.columns),
                rows=table.rows,
                change_note=note,
                tags=table.tags,
                groups=("society",),
                frequency="irregular",
            )
        )
