from django.apps import AppConfig

# Administering the directory of the data exchange: members, services, access rights and nodes.
PERMISSIONS: dict[str, frozenset[str]] = {"administrator": frozenset({"exchange.admin"})}


class ExchangeConfig(AppConfig):
    name = "gov21.exchange"
    label = "exchange"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gov21.core.permissions import permissions_grant

        permissions_grant(app=self.label, grants=PERMISSIONS)
        from gov21.exchange import (
            exchange_routes,  # noqa: F401  (the directory's numbers answer on the exchange)
            pubsub,  # noqa: F401  (registers its outbox for the back office)
            traffic,  # noqa: F401  (registers its local service)
        )
