"""The geographic server's most frequent request, an anonymous ``GET`` of a public collection's
features as GeoJSON (``/geo/collections/{id}/items?f=json&bbox=...``), answered without the parts of
the request cycle it does not use (decision 0079).

Maps, GIS desktops and harvesters page through the public registers' features anonymously and often.
On that request the session, CSRF, the signed-in user, the portal's token refresh, messages and the
URL resolver cost as much as reading the page. This middleware sits after the kernel's request id,
security headers, content security policy and admission gate (so every request is still logged,
given its security headers and counted against capacity), and answers the plain form of the request
itself through the same view, so the parameters are read, checked and refused in the same words:
the same bytes and headers.

Only a collection anyone may read is answered here, and only as JSON. A collection that needs a
permission (whose reads are logged with their reader), a request that carries credentials, a page
for a person (HTML) and every other path go on through the whole stack as before.
``tests/geo/test_items_read.py`` compares the two."""

from __future__ import annotations

from collections.abc import Callable
from typing import Final

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse
from django.utils import translation
from django.utils.cache import patch_vary_headers

from gov21.geo import views
from gov21.geo.contracts import collection_get

PREFIX: Final = "/geo/collections/"
SUFFIX: Final = "/items"


class ItemsReadMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        collection_id = _public_items(request)
        if collection_id is None:
            return self.get_response(request)
        # What LocaleMiddleware would do: refusals in the caller's language. Overridden, not
        # activated, so the language does not stay on this thread for the next request.
        with translation.override(translation.get_language_from_request(request)):
            request.LANGUAGE_CODE = translation.get_language()
            response = views.items(request, collection_id)
        # The headers the rest of the stack gives the same answer: the language and Vary on it
        # (LocaleMiddleware), Vary on the session cookie that the check for a signed-in person reads
        # (SessionMiddleware), the length (CommonMiddleware), no framing (XFrameOptionsMiddleware).
        # The view sets Vary on Accept.
        patch_vary_headers(response, ("Accept-Language", "Cookie"))
        headers = response.headers
        headers["Content-Language"] = request.LANGUAGE_CODE
        headers["Content-Length"] = str(len(response.content))
        headers["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        return response


def _public_items(request: HttpRequest) -> str | None:
    """The id of the public collection whose features ``request`` asks for anonymously as JSON; None
    for any other request."""
    path = request.path_info
    if not (path.startswith(PREFIX) and path.endswith(SUFFIX)) or request.method != "GET":
        return None
    collection_id = path[len(PREFIX) : -len(SUFFIX)]
    if not collection_id or "/" in collection_id or "HTTP_AUTHORIZATION" in request.META:
        return None
    try:
        request.get_host()
    except DisallowedHost:
        return None  # refused by CommonMiddleware, in the whole stack's words
    collection = collection_get(collection_id)
    if collection is None or collection.permission is not None or views.wants_html(request):
        return None
    return collection_id
