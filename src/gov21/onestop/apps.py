from django.apps import AppConfig

# What each role may do with the cases of the one-stop shop: read and work them in one's own agency;
# a supervisor also assigns them; an administrator also edits the service definitions.
_CASEWORK = frozenset({"case.read", "case.work"})
PERMISSIONS: dict[str, frozenset[str]] = {
    "registrar": _CASEWORK,
    "case_officer": _CASEWORK,
    "supervisor": _CASEWORK | {"case.assign"},
    "administrator": _CASEWORK | {"case.assign", "services.admin"},
}


class OneStopConfig(AppConfig):
    name = "gov21.onestop"
    # The tables and migration history keep the label they were created under.
    label = "services"

    def ready(self) -> None:
        # The agencies' registers kept by the service engine answer on the exchange.
        from django.utils.translation import gettext_lazy

        from gov21.core.credentials import jwks_source_register, lookup_register, verifier_register
        from gov21.core.office import office_entrance_register
        from gov21.core.permissions import permissions_grant
        from gov21.onestop import (
            exchange_routes,  # noqa: F401
            notify,  # noqa: F401  (registers its outbox for the back office)
        )
        from gov21.onestop.documents import (
            QR_PREFIX,
            document_kinds_register,
            document_lookup,
            document_verify,
            services_keys,
        )

        permissions_grant(app=self.label, grants=PERMISSIONS)
        office_entrance_register(url_name="cases:queue", label=gettext_lazy("Cases"), permission="case.read")
        verifier_register(QR_PREFIX, lambda payload: document_verify(payload=payload))
        jwks_source_register(lambda: services_keys().public_jwks())
        document_kinds_register()
        lookup_register(document_lookup)
