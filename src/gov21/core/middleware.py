"""Middleware every response passes through."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


def private_no_store(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    """A page shown to a signed-in person, or an API answer to a bearer token, is theirs alone: no
    shared cache (a proxy, a kiosk's browser) may keep it. A view that chose its own caching keeps it."""

    def middleware(request: HttpRequest) -> HttpResponse:
        response = get_response(request)
        user = getattr(request, "user", None)
        personal = bool(user is not None and user.is_authenticated) or "HTTP_AUTHORIZATION" in request.META
        if personal and not response.has_header("Cache-Control"):
            patch_cache_control(response, private=True, no_store=True)
        return response

    return middleware
