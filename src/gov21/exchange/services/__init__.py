"""The exchange directory's writes, by subdomain: members, subsystems, services and groups
(``members``), access rights (``rights``), gateway nodes (``nodes``) and trusted partner instances
(``federation``). Each is one transaction that republishes the signed configuration when it
changes what nodes may see."""

from __future__ import annotations

from gov21.exchange.services.federation import trust_add
from gov21.exchange.services.members import group_set, member_add, service_add, subsystem_add
from gov21.exchange.services.nodes import (
    INVITATION_HOURS,
    node_address_set,
    node_approve,
    node_invite,
    node_join,
    node_request,
    node_revoke,
)
from gov21.exchange.services.rights import right_grant, right_revoke

__all__ = [
    "INVITATION_HOURS",
    "group_set",
    "member_add",
    "node_address_set",
    "node_approve",
    "node_invite",
    "node_join",
    "node_request",
    "node_revoke",
    "right_grant",
    "right_revoke",
    "service_add",
    "subsystem_add",
    "trust_add",
]
