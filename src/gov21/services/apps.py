from django.apps import AppConfig


class ServicesConfig(AppConfig):
    name = "gov21.services"
    label = "services"

    def ready(self) -> None:
        # The agencies' registers kept by the service engine answer on the exchange.
        from gov21.services import exchange_services  # noqa: F401
