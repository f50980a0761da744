"""What other apps may use of the land register: loading a whole history of registrations into an
empty register at once (the demo nation's seed, decision 0076)."""

from __future__ import annotations

from gov21.land.bulk import (
    BulkBuilding,
    BulkHolding,
    BulkKind,
    BulkParcel,
    BulkParty,
    BulkTransaction,
    bulk_facts_record,
    land_history_load,
)

__all__ = [
    "BulkBuilding",
    "BulkHolding",
    "BulkKind",
    "BulkParcel",
    "BulkParty",
    "BulkTransaction",
    "bulk_facts_record",
    "land_history_load",
]
