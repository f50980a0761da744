from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """The commands that wire every app together (``up``, ``openapi``), and the reactions one app
    has to another's hooks; it owns no tables."""

    name = "gov21.platform"
    label = "platform"

    def ready(self) -> None:
        from gov21.platform.wiring import hooks_connect

        hooks_connect()
