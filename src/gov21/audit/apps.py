from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "gov21.audit"
    label = "audit"
