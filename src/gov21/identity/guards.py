"""The one gate of the back-office pages: a signed-in member of staff whose roles grant a permission."""

from __future__ import annotations

from collections.abc import Callable

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse

from gov21.identity.principal import Principal
from gov21.identity.selectors import principal_from_request


def office_principal(
    request: HttpRequest, permission: str, *, refuse: Callable[[HttpRequest], HttpResponse]
) -> Principal | HttpResponse:
    """The caller's principal when they may ``permission``; otherwise the answer to send instead: the
    sign-in page for a visitor, ``refuse(request)`` (a 403 page in the app's words) for anyone else."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    principal = principal_from_request(request)
    if principal is None or not principal.can(permission):
        return refuse(request)
    return principal
