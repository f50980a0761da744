from __future__ import annotations

from datetime import date
from typing import Any

from gov21.opendata.contracts import TableColumn, TablePublication

COLUMNS = (
    TableColumn("parish", "text", "Parish"),
    TableColumn("month", "date", "Month"),
    TableColumn("sex", "text", "Sex"),
    TableColumn("births", "integer", "Births"),
)
ROWS: list[tuple[object, ...]] = [
    ("P01", date(2026, 1, 1), "F", 12),
    ("P01", date(2026, 1, 1), "M", 14),
    ("P02", date(2026, 1, 1), "F", 7),
    ("P02", date(2026, 1, 1), "M", 9),
]


def births(**changes: Any) -> TablePublication:
    fields: dict[str, Any] = {
        "dataset": "births-by-parish-month",
        "organization": "STATS",
        "title": "Births by parish and month",
        "notes": "Live births registered, by parish of residence, month and sex. Cells below 5 suppressed.",
        "columns": COLUMNS,
        "rows": ROWS,
        "change_note": "First release.",
        "tags": ("births", "vital statistics"),
        "groups": ("population",),
        "spatial": ("P01", "P02"),
        "temporal_start": date(2026, 1, 1),
        "temporal_end": date(2026, 1, 31),
    }
    fields.update(changes)
    return TablePublication(**fields)
