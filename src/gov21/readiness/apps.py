from django.apps import AppConfig


class ReadinessConfig(AppConfig):
    name = "gov21.readiness"
    label = "readiness"
    verbose_name = "Readiness and benchmarks"
