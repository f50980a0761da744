from django.apps import AppConfig


class PlatformConfig(AppConfig):
    """Installed only for its management commands (``up``, ``openapi``); it owns no tables."""

    name = "gov21.platform"
    label = "platform"
