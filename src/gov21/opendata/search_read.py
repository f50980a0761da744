"""The data portal's most frequent request, an anonymous ``GET`` of CKAN's ``package_search``,
answered without the parts of the request cycle it does not use (decision 0077).

Harvesters, the portal's own pages and other portals' clients search the catalogue anonymously and
often. On that request the session, the locale's URL handling, CSRF, the signed-in user, the
portal's token refresh, messages and the URL resolver cost more than the search itself. This
middleware sits after the kernel's request id, security headers, content security policy and
admission gate (so every request is still logged, given its security headers and counted against
capacity), and answers the plain form of the request itself through the same action view, so the
parameters are read, checked and refused in the same words: the same bytes and headers.

Anything else (another action, a POST, an API token, another path) goes on through the whole stack
as before. ``tests/opendata/test_search_read.py`` compares the two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from gov21.opendata import ckan

PATHS: Final = frozenset({"/api/3/action/package_search", "/api/action/package_search"})


class SearchReadMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        if (
            request.path_info not in PATHS
            or request.method != "GET"
            or "HTTP_AUTHORIZATION" in meta
            or "HTTP_X_CKAN_API_KEY" in meta
        ):
            return self.get_response(request)
        # What LocaleMiddleware would do: errors in the caller's language. Overridden, not
        # activated, so the language does not stay on this thread for the next request.
        with translation.override(translation.get_language_from_request(request)):
            request.LANGUAGE_CODE = translation.get_language()
            response = ckan.action_view(request, "package_search")
        # The headers the rest of the stack gives the same answer: the language (LocaleMiddleware),
        # Vary on the session cookie that the signed-in check reads (SessionMiddleware), the length
        # (CommonMiddleware), no framing (XFrameOptionsMiddleware). The action sets Cache-Control.
        headers = response.headers
        headers["Content-Language"] = request.LANGUAGE_CODE
        headers["Vary"] = "Accept-Language, Cookie"
        headers["Content-Length"] = str(len(response.content))
        headers["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        return response
