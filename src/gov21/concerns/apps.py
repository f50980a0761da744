from django.apps import AppConfig


class ConcernsConfig(AppConfig):
    name = "gov21.concerns"
    label = "concerns"

    def ready(self) -> None:
        from gov21.concerns import exchange_routes  # noqa: F401  (its services register their handlers)
        from gov21.concerns.collections import reports_collection
        from gov21.geo.contracts import collection_register

        collection_register(reports_collection())
