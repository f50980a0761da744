from django.apps import AppConfig


class GeoConfig(AppConfig):
    name = "gov21.geo"
    label = "geo"

    def ready(self) -> None:
        from gov21.geo.contracts import collection_register
        from gov21.geo.parishes import parishes_collection
        from gov21.geo.settlements import settlements_collection

        collection_register(parishes_collection())
        collection_register(settlements_collection())
