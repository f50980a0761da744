"""What other apps may use of e-participation: the results of its closed processes as an open
table, which the top-level wiring publishes on the data portal."""

from __future__ import annotations

from gov21.participation.opendata import ORGANIZATION, ResultsTable, results_table

__all__ = ["ORGANIZATION", "ResultsTable", "results_table"]
