from django.apps import AppConfig

# Reading the state of backups and restore drills in the back office.
PERMISSIONS: dict[str, frozenset[str]] = {"administrator": frozenset({"continuity.read"})}


class ContinuityConfig(AppConfig):
    name = "gov21.continuity"
    label = "continuity"

    def ready(self) -> None:
        from gov21.core.permissions import permissions_grant

        permissions_grant(app=self.label, grants=PERMISSIONS)
        from gov21.continuity import exchange_routes  # noqa: F401 - the data embassy answers on the exchange
