from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "gov21.portal"
    label = "portal"
