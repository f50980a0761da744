from django.apps import AppConfig


class OneStopConfig(AppConfig):
    name = "gov21.onestop"
    # The tables and migration history keep the label they were created under.
    label = "services"

    def ready(self) -> None:
        # The agencies' registers kept by the service engine answer on the exchange.
        from gov21.core.credentials import jwks_source_register, verifier_register
        from gov21.onestop import (
            exchange_services,  # noqa: F401
            notify,  # noqa: F401  (registers its outbox for the back office)
        )
        from gov21.onestop.documents import QR_PREFIX, document_verify, services_keys

        verifier_register(QR_PREFIX, lambda payload: document_verify(payload=payload))
        jwks_source_register(lambda: services_keys().public_jwks())
