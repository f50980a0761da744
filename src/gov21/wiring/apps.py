from django.apps import AppConfig


class WiringConfig(AppConfig):
    """The commands that wire every app together (``up``, ``openapi``), and the reactions one app
    has to another's hooks; it owns no tables."""

    name = "gov21.wiring"
    label = "wiring"

    def ready(self) -> None:
        from gov21.wiring.connect import hooks_connect

        hooks_connect()
