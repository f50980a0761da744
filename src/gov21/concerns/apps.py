from django.apps import AppConfig

# The reporting desk's back office: read the queues (with the reporters' contact details) and act.
PERMISSIONS: dict[str, frozenset[str]] = {
    "case_officer": frozenset({"concerns.read", "concerns.act"}),
    "supervisor": frozenset({"concerns.read", "concerns.act"}),
    "administrator": frozenset({"concerns.read", "concerns.act"}),
}


class ConcernsConfig(AppConfig):
    name = "gov21.concerns"
    label = "concerns"

    def ready(self) -> None:
        from gov21.concerns import exchange_routes  # noqa: F401  (its services register their handlers)
        from gov21.concerns.collections import reports_collection
        from gov21.core.permissions import permissions_grant
        from gov21.geo.contracts import collection_register

        permissions_grant(app=self.label, grants=PERMISSIONS)
        collection_register(reports_collection())
