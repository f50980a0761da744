"""Authentication for the HTTP APIs: a bearer API token, or a signed-in staff session (with CSRF
protection for changes)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.middleware.csrf import CsrfViewMiddleware
from ninja.security import HttpBearer

from gov21.core.errors import Forbidden
from gov21.core.principal import Principal, PrincipalKind
from gov21.identity.selectors import principal_from_request

_SAFE = {"GET", "HEAD", "OPTIONS"}


def _no_view(request: HttpRequest) -> Any:
    return None


class PrincipalAuth(HttpBearer):
    """Bearer token (``Authorization: Bearer g21_...``) or staff session cookie."""

    def __call__(self, request: HttpRequest) -> Principal | None:
        principal = principal_from_request(request)
        if principal is not None and principal.kind == PrincipalKind.STAFF and request.method not in _SAFE:
            failure = CsrfViewMiddleware(_no_view).process_view(request, _no_view, (), {})
            if failure is not None:
                raise Forbidden("csrf_failed", "The form expired or came from another site; reload and try again.")
        return principal

    def authenticate(self, request: HttpRequest, token: str) -> Principal | None:
        return None


def principal_of(request: HttpRequest) -> Principal:
    auth = getattr(request, "auth", None)
    if not isinstance(auth, Principal):
        raise Forbidden("forbidden", "No authenticated caller.")
    return auth
