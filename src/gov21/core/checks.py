"""Deploy checks of gov21's own settings, run by ``gov21 check --deploy`` beside Django's."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, Tags, Warning, register


@register(Tags.security, deploy=True)
def proxy_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    messages: list[CheckMessage] = []
    if settings.PRODUCTION and not settings.GOV21_TRUSTED_PROXIES:
        # gunicorn speaks plain http: an https node always has a TLS proxy in front, and without
        # trusting it every request looks like http and is redirected to https again.
        messages.append(
            Warning(
                "GOV21_BASE_URL is https but GOV21_TRUSTED_PROXIES is empty.",
                hint="List the addresses of the TLS proxy in front of gov21 (e.g. 10.0.0.2/32).",
                id="gov21.W001",
            )
        )
    return messages


@register()
def projected_crs_check(app_configs: Any, **kwargs: Any) -> list[CheckMessage]:
    from gov21.core.geo import projected_crs_problem

    problem = projected_crs_problem()
    if problem is None:
        return []
    return [Error(problem, hint="UTM zone 20N, EPSG:32620, fits the eastern Caribbean.", id="gov21.E001")]
