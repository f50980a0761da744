from django.apps import AppConfig

# What each role may do in the record linkage: read the sources' outcomes and the quality dashboard,
# and decide the pairs waiting for clerical review.
_REVIEWER = frozenset({"linkage.read", "linkage.review"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "registrar": _REVIEWER,
    "supervisor": frozenset({"linkage.read"}),
    "administrator": _REVIEWER,
}


class LinkageConfig(AppConfig):
    name = "gov21.linkage"
    label = "linkage"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.linkage import exchange_routes  # noqa: F401  (its services register their handlers)

        permissions_grant(app=self.label, grants=PERMISSIONS)
        office_entrance_register(
            url_name="linkage:home", label=gettext_lazy("Record linkage"), permission="linkage.read"
        )
