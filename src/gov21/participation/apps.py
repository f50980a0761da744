from django.apps import AppConfig

# Who may moderate (hide, block, each with a logged reason) and who may answer for an agency.
_ANSWER = frozenset({"participation.moderate", "participation.answer"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "clerk": frozenset({"participation.moderate"}),
    "registrar": _ANSWER,
    "supervisor": frozenset({"participation.moderate"}),
    "administrator": _ANSWER,
}


class ParticipationConfig(AppConfig):
    name = "gov21.participation"
    label = "participation"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.core.datafiles import backup_directory_register
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.participation.keys import DIRECTORY

        permissions_grant(app=self.label, grants=PERMISSIONS)
        backup_directory_register(DIRECTORY)
        office_entrance_register(
            url_name="participation-office:home",
            label=gettext_lazy("E-participation"),
            permission="participation.moderate",
        )
