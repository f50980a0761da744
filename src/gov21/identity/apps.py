from django.apps import AppConfig

# Handing over activation codes at the counter, and registering relying parties (agency systems).
_ACTIVATE = frozenset({"identity.activate"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "registrar": _ACTIVATE,
    "case_officer": _ACTIVATE,
    "supervisor": _ACTIVATE,
    "administrator": _ACTIVATE | {"identity.clients"},
}


class IdentityConfig(AppConfig):
    name = "gov21.identity"
    label = "identity"

    def ready(self) -> None:
        from gov21.core.office import principal_source_register
        from gov21.core.permissions import permissions_grant
        from gov21.identity import exchange_routes  # noqa: F401  (its numbers answer on the exchange)
        from gov21.identity.selectors import principal_from_request

        permissions_grant(app=self.label, grants=PERMISSIONS)
        # The back-office pages learn who is calling from the session or token identity checked.
        principal_source_register(principal_from_request)
