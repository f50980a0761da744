from __future__ import annotations

from django.conf import settings
from django.db import models


class ApiToken(models.Model):
    """A bearer token for a system or script. Only the SHA-256 of the token is stored."""

    name = models.CharField(max_length=120)
    token_hash = models.CharField(max_length=64, unique=True)
    prefix = models.CharField(max_length=12)
    role = models.CharField(max_length=32)
    created_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    revoked_at = models.DateTimeField(null=True, blank=True)
    created_by = models.CharField(max_length=150)

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.role})"


class StaffRole(models.Model):
    """A role a public servant holds in an agency."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="gov21_roles")
    role = models.CharField(max_length=32)
    agency = models.CharField(max_length=64, default="civil-registry")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role", "agency"], name="staff_role_unique")]

    def __str__(self) -> str:
        return f"{self.user_id} {self.role}@{self.agency}"
