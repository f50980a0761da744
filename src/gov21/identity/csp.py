"""The identity provider's pages may send the browser on to a relying party.

A sign-in, second-factor or consent form posts to the provider, which answers with a redirect to
``/oidc/authorize`` and from there to the relying party's registered redirect URI. Browsers apply the
page's ``form-action`` to every hop of that chain, so these pages allow the origins of the registered
redirect URIs, and no others; every other page of gov21 keeps ``form-action 'self'``."""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse

from gov21.identity.models import RelyingParty

PROVIDER_PAGES = ("/auth/", "/oidc/")


def relying_party_origins() -> list[str]:
    uris = RelyingParty.objects.values_list("redirect_uris", "post_logout_redirect_uris")
    origins = set()
    for redirects, logouts in uris:
        for uri in [*(redirects or []), *(logouts or [])]:
            parts = urlsplit(str(uri))
            if parts.scheme in {"http", "https"} and parts.netloc:
                origins.add(f"{parts.scheme}://{parts.netloc}")
    return sorted(origins)


class RelyingPartyFormActionMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(PROVIDER_PAGES) and response.get("Content-Type", "").startswith("text/html"):
            origins = relying_party_origins()
            if origins:
                response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
        return response
