from django.apps import AppConfig

# Who may open the statistics office's back office.
PERMISSIONS: dict[str, frozenset[str]] = {
    "reader": frozenset({"statistics.read"}),
    "supervisor": frozenset({"statistics.read"}),
    "administrator": frozenset({"statistics.read"}),
}


class StatisticsConfig(AppConfig):
    name = "gov21.statistics"
    label = "statistics"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant

        permissions_grant(app=self.label, grants=PERMISSIONS)
        office_entrance_register(
            url_name="statistics:home", label=gettext_lazy("Statistics"), permission="statistics.read"
        )
