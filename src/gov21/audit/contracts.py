"""What other apps may use of the access log: recording an access inside the transaction of the
change it records (``services``), and reading and verifying the log (``selectors``)."""

from __future__ import annotations

from gov21.audit.actions import access_action_declare, access_action_label
from gov21.audit.chain import CHAIN as ACCESS_CHAIN
from gov21.audit.selectors import AccessSeen, access_log_exists, access_log_verify, access_records_for
from gov21.audit.services import Access, access_log_anchor, access_log_seal, access_record, access_record_all

__all__ = [
    "ACCESS_CHAIN",
    "Access",
    "AccessSeen",
    "access_action_declare",
    "access_action_label",
    "access_log_anchor",
    "access_log_exists",
    "access_log_seal",
    "access_log_verify",
    "access_record",
    "access_record_all",
    "access_records_for",
]
