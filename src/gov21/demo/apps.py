from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo nation's app: no models, only the ``seed`` command."""

    name = "gov21.demo"
    label = "demo"
