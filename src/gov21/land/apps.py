from django.apps import AppConfig

# What each role may do in the land register: read titles, lodge transactions, check and register them.
_REGISTRAR = frozenset({"land.read", "land.lodge", "land.decide"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "reader": frozenset({"land.read"}),
    "clerk": frozenset({"land.read", "land.lodge"}),
    "registrar": _REGISTRAR,
    "supervisor": frozenset({"land.read"}),
    "administrator": _REGISTRAR,
}


class LandConfig(AppConfig):
    name = "gov21.land"
    label = "land"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.core.credentials import document_kind_register, jwks_source_register, verifier_register
        from gov21.core.datafiles import backup_directory_register
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.geo.contracts import collection_register
        from gov21.land import exchange_routes  # noqa: F401  (its services register their handlers)
        from gov21.land.collections import buildings_collection, parcels_collection
        from gov21.land.extracts import DOCUMENT, KIND, QR_PREFIX, extract_verify, land_keys
        from gov21.land.sources import DIRECTORY

        permissions_grant(app=self.label, grants=PERMISSIONS)
        collection_register(parcels_collection())
        collection_register(buildings_collection())
        verifier_register(QR_PREFIX, extract_verify)
        jwks_source_register(lambda: land_keys().public_jwks())
        document_kind_register(KIND, DOCUMENT)
        backup_directory_register(DIRECTORY)
        office_entrance_register(url_name="land:home", label=gettext_lazy("Land register"), permission="land.read")
