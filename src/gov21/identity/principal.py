"""Who is calling, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass

from gov21.core.errors import Forbidden

# What each role may do. A role is granted per agency.
_REGISTRAR = frozenset(
    {"person.read", "person.correct", "event.declare", "event.read", "event.decide", "certificate.issue"}
)
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "reader": frozenset({"person.read"}),
    "clerk": frozenset({"person.read", "event.declare", "event.read"}),
    "registrar": _REGISTRAR | {"identity.activate"},
    # Service-counter staff of any agency: check a person and hand over an activation code.
    "case_officer": frozenset({"person.read", "identity.activate"}),
    "supervisor": frozenset({"person.read", "event.read", "identity.activate"}),
    "administrator": _REGISTRAR | {"identity.activate", "identity.clients", "exchange.admin"},
}
ROLES: tuple[str, ...] = tuple(ROLE_PERMISSIONS)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a staff member (session) or a system (API token)."""

    name: str
    kind: str  # "staff" | "token"
    roles: frozenset[str]

    def can(self, permission: str) -> bool:
        return any(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in self.roles)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden("forbidden", f"Your role does not allow this action ({permission}).")
