"""What other apps may use of the data portal: publishing a table as an open dataset, in numbered,
immutable versions (``table_publish``). The statistics office's tables arrive this way."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Literal

ColumnType = Literal["text", "integer", "numeric", "date", "timestamp", "boolean"]


@dataclass(frozen=True)
class TableColumn:
    name: str  # [a-z_][a-z0-9_]*
    type: ColumnType
    title: str  # English; shown in previews and the data dictionary


@dataclass(frozen=True)
class TablePublication:
    dataset: str  # CKAN name (slug), e.g. "births-by-parish-month"
    organization: str  # exchange member code of the publisher, e.g. "STATS"
    title: str
    notes: str  # description: what, how computed, disclosure method and its cost
    columns: tuple[TableColumn, ...]
    rows: Sequence[tuple[object, ...]]
    change_note: str
    tags: tuple[str, ...] = ()
    groups: tuple[str, ...] = ()  # theme names
    frequency: str = "daily"  # DCAT frequency word: daily, weekly, monthly, annual, irregular
    spatial: tuple[str, ...] = ()  # parish codes covered
    temporal_start: date | None = None
    temporal_end: date | None = None
    licence: str = "CC-BY-4.0"


@dataclass(frozen=True)
class PublishedVersion:
    dataset: str
    version: int  # 1, 2, ...; a publication identical to the last version creates none
    resource_id: str  # the datastore resource of the table
    created: bool  # False when nothing changed


def table_publish(publication: TablePublication) -> PublishedVersion:
    """Create the dataset (and its organization, from the exchange directory) on the first call;
    afterwards a new numbered version, with the diff of its rows against the last one, whenever the
    rows changed. The table goes to the datastore, the CKAN API and the DCAT catalogue. All or
    nothing: a publication that fails publishes nothing."""
    from gov21.opendata.publishing import publication_publish

    return publication_publish(publication)


__all__ = ["ColumnType", "PublishedVersion", "TableColumn", "TablePublication", "table_publish"]
