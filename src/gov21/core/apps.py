from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gov21.core"
    label = "core"

    def ready(self) -> None:
        from gov21.core import checks  # noqa: F401 - registers the deploy checks
