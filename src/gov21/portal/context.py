from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {"country_name": settings.GOV21_COUNTRY_NAME, "instance": settings.GOV21_INSTANCE}


def staff(request: HttpRequest) -> dict[str, Any]:
    """Whether to show the back-office links: only to staff signed in at level substantial."""
    from django.utils.functional import SimpleLazyObject

    from gov21.identity.contracts import principal_from_request

    def is_staff() -> bool:
        user = getattr(request, "user", None)
        return bool(user is not None and user.is_authenticated and principal_from_request(request) is not None)

    return {"staff_member": SimpleLazyObject(is_staff)}
