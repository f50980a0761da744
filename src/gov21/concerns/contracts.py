"""What other apps may use of the reporting desk: the notices its reporters are owed (a status
changed, an agency's public update), which the one-stop shop's notification outbox takes and
delivers to the portal inbox and by email, as it does identity's account notices; and its numbers
as open tables, which the top-level wiring publishes on the data portal."""

from __future__ import annotations

from gov21.concerns.opendata import ORGANIZATION, OpenTable, reports_tables
from gov21.concerns.selectors import ReportNotice, report_notices_pending
from gov21.concerns.services import report_notice_told

__all__ = [
    "ORGANIZATION",
    "OpenTable",
    "ReportNotice",
    "report_notice_told",
    "report_notices_pending",
    "reports_tables",
]
