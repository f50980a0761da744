from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "gov21.registry"
    label = "registry"

    def ready(self) -> None:
        # The registry's services on the exchange register their handlers.
        from gov21.registry import exchange_routes  # noqa: F401
