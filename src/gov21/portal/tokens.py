"""Keeps the signed-in person's access token alive for the moment they act.

A person acts (sends an application, an officer decides a case) with a POST; what the action asks
of another agency goes with an assertion the identity provider makes from the person's live access
token (see ``gov21.identity.assertions``). Access tokens live ten minutes and a person may spend
longer on a form, so before a POST the portal renews a token about to end with its refresh token,
as any relying party does. A GET never needs it, and never pays for it.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from gov21.identity.contracts import PORTAL_SESSION_KEY
from gov21.portal import rp


def fresh_access_token(get_response: Callable[[HttpRequest], HttpResponse]) -> Callable[[HttpRequest], HttpResponse]:
    def middleware(request: HttpRequest) -> HttpResponse:
        if request.method == "POST" and request.user.is_authenticated:
            portal = request.session.get(PORTAL_SESSION_KEY)
            tokens = portal.get("tokens") if isinstance(portal, dict) else None
            if tokens:
                before = dict(tokens)
                rp.access_token(tokens)
                if tokens != before:
                    request.session.modified = True
        return get_response(request)

    return middleware
