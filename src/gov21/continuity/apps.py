from django.apps import AppConfig


class ContinuityConfig(AppConfig):
    name = "gov21.continuity"
    label = "continuity"
