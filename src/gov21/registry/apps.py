from django.apps import AppConfig

# What each role may do in the civil registry.
_REGISTRAR = frozenset(
    {"person.read", "person.correct", "event.declare", "event.read", "event.decide", "certificate.issue"}
)
PERMISSIONS: dict[str, frozenset[str]] = {
    "reader": frozenset({"person.read"}),
    "clerk": frozenset({"person.read", "event.declare", "event.read"}),
    "registrar": _REGISTRAR,
    # Service-counter staff of any agency check a person before handing over an activation code.
    "case_officer": frozenset({"person.read"}),
    "supervisor": frozenset({"person.read", "event.read"}),
    "administrator": _REGISTRAR,
}


class RegistryConfig(AppConfig):
    name = "gov21.registry"
    label = "registry"

    def ready(self) -> None:
        from django.utils.translation import gettext_lazy

        from gov21.core.credentials import lookup_register
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.registry.certificates import document_kinds_register
        from gov21.registry.selectors import certificate_lookup

        permissions_grant(app=self.label, grants=PERMISSIONS)
        document_kinds_register()
        lookup_register(certificate_lookup)
        # The queue of declarations is the office's first page, and it lists them only to those who read them.
        office_entrance_register(
            url_name="registry:queue", label=gettext_lazy("Registry office"), permission="event.read"
        )
        # The registry's services on the exchange register their handlers.
        from gov21.registry import exchange_routes  # noqa: F401
