from django.apps import AppConfig


class ImageryConfig(AppConfig):
    name = "gov21.imagery"
    label = "imagery"
    verbose_name = "Imagery"
