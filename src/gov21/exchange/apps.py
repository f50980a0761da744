from django.apps import AppConfig


class ExchangeConfig(AppConfig):
    name = "gov21.exchange"
    label = "exchange"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from gov21.exchange import pubsub  # noqa: F401  (registers its outbox for the back office)
