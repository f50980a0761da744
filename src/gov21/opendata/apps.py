from django.apps import AppConfig

# Who may publish on the data portal (datasets, resources, datastore tables) in the back office and
# by API key; reading the portal needs no role at all.
PERMISSIONS: dict[str, frozenset[str]] = {
    "registrar": frozenset({"opendata.publish"}),
    "administrator": frozenset({"opendata.publish"}),
}


class OpendataConfig(AppConfig):
    name = "gov21.opendata"
    label = "opendata"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.core.datafiles import backup_directory_register
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.opendata.datastore import DIRECTORY

        permissions_grant(app=self.label, grants=PERMISSIONS)
        backup_directory_register(DIRECTORY)
        office_entrance_register(
            url_name="opendata-office:home", label=gettext_lazy("Open data"), permission="opendata.publish"
        )
