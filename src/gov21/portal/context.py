from __future__ import annotations

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils.translation import gettext, gettext_noop

# The demonstration state's name is in the catalogues, so that each language shows its own form of it
# ("República de XA"); a state that sets GOV21_COUNTRY_NAME adds its name to the catalogues the same
# way, or shows it as written where it has no translation.
DEMO_COUNTRY_NAME = gettext_noop("Republic of XA")


def country_name() -> str:
    """The state's name in the language of the request."""
    return gettext(str(settings.GOV21_COUNTRY_NAME))


def site(request: HttpRequest) -> dict[str, Any]:
    return {"country_name": country_name(), "instance": settings.GOV21_INSTANCE}


def staff(request: HttpRequest) -> dict[str, Any]:
    """The back offices whose links the header shows: only those the signed-in person's roles let them
    into, found by the gate's own source of the caller and its permission table, so a citizen (signed
    in, with no role) sees none and no link leads to a refusal."""
    from django.utils.functional import SimpleLazyObject

    from gov21.core.office import office_entrances, request_principal
    from gov21.identity.contracts import idp_session_present

    def entrances() -> list[Any]:
        user = getattr(request, "user", None)
        if user is None or not user.is_authenticated:
            return []
        return office_entrances(request_principal(request))

    def provider_only() -> bool:
        user = getattr(request, "user", None)
        return not (user is not None and user.is_authenticated) and idp_session_present(request)

    # Signed in at the provider but not yet at the portal (just after activation): the header says
    # "Your account" (which finishes the portal's sign-in without a password) rather than "Sign in".
    return {"office_links": SimpleLazyObject(entrances), "provider_signed_in": SimpleLazyObject(provider_only)}
