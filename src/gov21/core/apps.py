from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "gov21.core"
    label = "core"
