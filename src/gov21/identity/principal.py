"""Who is calling, and what each role may do."""

from __future__ import annotations

from dataclasses import dataclass

from gov21.core.errors import Forbidden

# What each role may do. A role is granted per agency.
_REGISTRAR = frozenset(
    {"person.read", "person.correct", "event.declare", "event.read", "event.decide", "certificate.issue"}
)
# Cases of the one-stop shop: read and work them in one's own agency; a supervisor also assigns.
_CASEWORK = frozenset({"case.read", "case.work"})
ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "reader": frozenset({"person.read"}),
    "clerk": frozenset({"person.read", "event.declare", "event.read"}),
    "registrar": _REGISTRAR | _CASEWORK | {"identity.activate"},
    # Service-counter staff of any agency: check a person and hand over an activation code.
    "case_officer": frozenset({"person.read", "identity.activate"}) | _CASEWORK,
    "supervisor": frozenset({"person.read", "event.read", "identity.activate", "case.assign"}) | _CASEWORK,
    "administrator": _REGISTRAR
    | _CASEWORK
    | {"identity.activate", "identity.clients", "exchange.admin", "case.assign", "services.admin", "continuity.read"},
}
ROLES: tuple[str, ...] = tuple(ROLE_PERMISSIONS)


@dataclass(frozen=True, slots=True)
class Principal:
    """An authenticated caller: a staff member (session) or a system (API token)."""

    name: str
    kind: str  # "staff" | "token"
    roles: frozenset[str]
    # The agencies whose back office the person works in (roles are granted per agency).
    agencies: frozenset[str] = frozenset()
    # Each (role, agency) held: what a person may do in one agency's back office.
    grants: frozenset[tuple[str, str]] = frozenset()

    def agencies_where(self, permission: str) -> frozenset[str]:
        """The agencies in which one of the person's roles there gives ``permission``."""
        return frozenset(
            agency for role, agency in self.grants if permission in ROLE_PERMISSIONS.get(role, frozenset())
        )

    def can(self, permission: str) -> bool:
        return any(permission in ROLE_PERMISSIONS.get(role, frozenset()) for role in self.roles)

    def require(self, permission: str) -> None:
        if not self.can(permission):
            raise Forbidden("forbidden", f"Your role does not allow this action ({permission}).")
