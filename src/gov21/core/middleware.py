"""Middleware every response passes through."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.middleware.gzip import GZipMiddleware
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


# What a browser renders: text pages and the icon. PDFs and images are compressed already, and the
# APIs' JSON is left as it was signed and logged.
_COMPRESSED_TYPES = ("text/html", "text/css", "text/plain", "image/svg+xml", "text/javascript")


class CompressPages(GZipMiddleware):
    """gzip for pages, with Django's length randomisation against BREACH (decision 0037): on a slow
    line a page is a quarter of its size, and a secret in it (the CSRF token, masked anew on every
    response) cannot be guessed from the compressed length."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if content_type not in _COMPRESSED_TYPES:
            return response
        return super().process_response(request, response)
