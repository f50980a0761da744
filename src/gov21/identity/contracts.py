"""What other apps may use of identity: who is calling, what they may do, and the API authentication."""

from __future__ import annotations

from gov21.identity.api_auth import PrincipalAuth, principal_of
from gov21.identity.principal import ROLE_PERMISSIONS, ROLES, Principal
from gov21.identity.selectors import principal_from_request
from gov21.identity.services import staff_create

__all__ = [
    "ROLES",
    "ROLE_PERMISSIONS",
    "Principal",
    "PrincipalAuth",
    "principal_from_request",
    "principal_of",
    "staff_create",
]
