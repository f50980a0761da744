"""The registry's most frequent request, ``GET /api/v1/registry/persons/{uin}`` with an API token,
answered without the parts of the request cycle it does not use (decision 0035).

Agencies' systems read persons by UIN at national rates. On that request, sessions, CSRF, the
signed-in user, the portal's token refresh, messages and the API framework's routing and
validation cost more CPU than the read and its access-log append together (measured: 0.46 ms a
request in-process, of which the read and the log took 0.16 ms). This middleware sits after the
kernel's request id, security headers, content security policy and admission gate, and answers the
plain form of the request itself: the same caller lookup, the same selector (so the read is
authorised and written to the access log before anything leaves), the same bytes and headers.

Anything else (a query string, no bearer token, a token that is not valid) goes on to the API as
before, which answers it, or refuses it, exactly as it always did: this path never decides what the
API would have decided differently. ``tests/registry/test_person_read.py`` compares the two.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

import orjson
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import translation

from gov21.core.errors import DomainError
from gov21.core.http import problem_from_error
from gov21.identity.contracts import principal_from_request
from gov21.registry import selectors

PATH: Final = re.compile(r"/api/v1/registry/persons/([^/]+)")


class PersonReadMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        meta = request.META
        match = PATH.fullmatch(request.path_info)
        if (
            match is None
            or request.method != "GET"
            or meta.get("QUERY_STRING")
            or not str(meta.get("HTTP_AUTHORIZATION", "")).lower().startswith("bearer ")
        ):
            return self.get_response(request)
        actor = principal_from_request(request)
        if actor is None:
            return self.get_response(request)  # the API answers 401 in its own words
        # What LocaleMiddleware would do: problem details in the caller's language. Overridden, not
        # activated, so the language does not stay on this thread for the next request.
        with translation.override(translation.get_language_from_request(request)):
            request.LANGUAGE_CODE = translation.get_language()
            try:
                record = selectors.person_view(
                    uin=match.group(1), actor=actor, purpose=meta.get("HTTP_X_PURPOSE"), as_of=None
                )
            except DomainError as error:
                response = problem_from_error(request, error)
            else:
                body = orjson.dumps(record.model_dump())
                response = HttpResponse(body, content_type="application/json; charset=utf-8")
        # The headers the rest of the stack gives the same answer, so a client sees no difference:
        # the language (LocaleMiddleware), Vary on the session cookie the URL also accepts, the
        # length (CommonMiddleware), no framing (XFrameOptionsMiddleware), no shared cache.
        # A new response has none of them, so they are set, not merged.
        headers = response.headers
        headers["Content-Language"] = request.LANGUAGE_CODE
        headers["Vary"] = "Accept-Language, Cookie"
        headers["Content-Length"] = str(len(response.content))
        headers["X-Frame-Options"] = settings.X_FRAME_OPTIONS
        headers["Cache-Control"] = "private, no-store"
        return response
