from django.apps import AppConfig


class IdentityConfig(AppConfig):
    name = "gov21.identity"
    label = "identity"
