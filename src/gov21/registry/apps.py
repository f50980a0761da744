from django.apps import AppConfig


class RegistryConfig(AppConfig):
    name = "gov21.registry"
    label = "registry"
