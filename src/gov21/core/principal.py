"""Who is calling: a member of staff, an API token or one of gov21's own systems, with the roles they
hold. What a role allows is asked of the permission registry (``core.permissions``)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from gov21.core.errors import Forbidden
from gov21.core.permissions import role_permissions


class PrincipalKind(StrEnum):
    """The closed set of callers."""

    # A person signed in to the back office (session).
    STAFF = "staff"
    # An agency system calling an API with a bearer token.
    TOKEN = "token"  # noqa: S105 - a kind of caller, not a secret
    # gov21 acting for a caller it verified elsewhere, such as a member of the exchange.
    SYSTEM = "system"


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller and the roles it holds."""

    name: str
    kind: PrincipalKind
    roles: frozenset[str]
    # The agencies whose back office the person works in (roles are granted per agency).
    agencies: frozenset[str] = frozenset()
    # Each (role, agency) held: what a person may do in one agency's back office.
    grants: frozenset[tuple[str, str]] = frozenset()

    def __post_init__(self) -> None:
        # A kind given as its plain value is accepted; one outside the closed set is refused here.
        object.__setattr__(self, "kind", PrincipalKind(self.kind))

    def agencies_where(self, permission: str) -> frozenset[str]:
        """The agencies in which one of the person's roles there gives ``permission``."""
        return frozenset(agency for role, agency in self.grants if permission in role_permissions(role))

    def can(self, permission: str) -> bool:
        """Whether one of the caller's roles gives ``permission``."""
        return any(permission in role_permissions(role) for role in self.roles)

    def require(self, permission: str) -> None:
        """Nothing when the caller ``can(permission)``; otherwise a ``Forbidden`` naming it."""
        if not self.can(permission):
            raise Forbidden("forbidden", f"Your role does not allow this action ({permission}).")
