from django.apps import AppConfig


class ContinuityConfig(AppConfig):
    name = "gov21.continuity"
    label = "continuity"

    def ready(self) -> None:
        from gov21.continuity import exchange_routes  # noqa: F401 - the data embassy answers on the exchange
