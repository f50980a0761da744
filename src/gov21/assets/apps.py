from django.apps import AppConfig

# What each role may do in the asset register and in disaster response.
_READ = frozenset({"assets.read", "disaster.read"})
_FIELD = _READ | {"assets.write", "disaster.assess"}
# Having the residents of an area named, for a purpose stated, is for the officers who check on
# people (case officers) and those who lead the response; counts are for every reader.
_NAMES = frozenset({"disaster.residents"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "reader": _READ,
    "clerk": _FIELD,
    "case_officer": _READ | _NAMES,
    # Declaring a disaster sets the whole response going: a supervisor's decision.
    "supervisor": _FIELD | _NAMES | {"disaster.declare"},
    "administrator": _FIELD | _NAMES | {"disaster.declare"},
}


class AssetsConfig(AppConfig):
    name = "gov21.assets"
    label = "assets"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.assets.collections import collections
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.geo.contracts import collection_register

        permissions_grant(app=self.label, grants=PERMISSIONS)
        for collection in collections():
            collection_register(collection)
        office_entrance_register(
            url_name="assets_office:list", label=gettext_lazy("Public assets"), permission="assets.read"
        )
        office_entrance_register(
            url_name="disasters_office:list", label=gettext_lazy("Disasters"), permission="disaster.read"
        )
