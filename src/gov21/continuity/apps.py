from django.apps import AppConfig


class ContinuityConfig(AppConfig):
    name = "gov21.continuity"
    label = "continuity"

    def ready(self) -> None:
        from gov21.continuity import embassy  # noqa: F401 - registers the data embassy's exchange service
