from django.apps import AppConfig

# The reporting desk's officers work every agency's open reports in the back office.
PERMISSIONS: dict[str, frozenset[str]] = {
    "case_officer": frozenset({"concerns.work"}),
    "supervisor": frozenset({"concerns.work"}),
    "administrator": frozenset({"concerns.work"}),
}


class ConcernsConfig(AppConfig):
    name = "gov21.concerns"
    label = "concerns"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.concerns import exchange_routes  # noqa: F401  (its services register their handlers)
        from gov21.concerns.collections import reports_collection
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.geo.contracts import collection_register

        permissions_grant(app=self.label, grants=PERMISSIONS)
        collection_register(reports_collection())
        office_entrance_register(
            url_name="concerns-office:home", label=gettext_lazy("Reported problems"), permission="concerns.work"
        )
