from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest


def site(request: HttpRequest) -> dict[str, Any]:
    return {"country_name": settings.GOV21_COUNTRY_NAME, "instance": settings.GOV21_INSTANCE}
