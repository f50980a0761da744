"""The one gate of the back-office pages. A view decorated with an office's ``page(permission)`` is
called with the signed-in caller's ``Principal``: a visitor is sent to the sign-in page, a person whose
roles do not give the permission gets the office's refusal, and a ``DomainError`` the view lets
through is shown on one problem page, never as a server error.

Core does not know how people sign in: identity registers the function that finds the caller of a
request (``principal_source_register``) when it starts."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Concatenate, ParamSpec

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from gov21.core.errors import DomainError
from gov21.core.principal import Principal

P = ParamSpec("P")
OfficeView = Callable[Concatenate[HttpRequest, Principal, P], HttpResponse]
View = Callable[Concatenate[HttpRequest, P], HttpResponse]
PrincipalSource = Callable[[HttpRequest], Principal | None]
# An office's answer to a signed-in person it does not let in: the request, the caller if they signed
# in at a level that counts, and the permission the page asks for (None: any role at all).
Refusal = Callable[[HttpRequest, Principal | None, str | None], HttpResponse]

# The title of a problem page, by the status of the error it shows.
PROBLEM_TITLES: dict[int, Promise] = {
    403: gettext_lazy("You cannot do this"),
    404: gettext_lazy("Not found"),
    409: gettext_lazy("This cannot be done now"),
}
_PROBLEM_TITLE = gettext_lazy("There is a problem")

_SOURCES: list[PrincipalSource] = []


@dataclass(frozen=True, slots=True)
class Entrance:
    """The way into one back office from the site's header: shown only to a caller whose roles give
    ``permission``, read from the same table the gate reads, so a link never leads to a refusal."""

    url_name: str
    label: str | Promise
    permission: str


_ENTRANCES: dict[str, Entrance] = {}


def office_entrance_register(*, url_name: str, label: str | Promise, permission: str) -> None:
    """Put a back office's first page in the header of those who may use it (called from ``ready()``;
    registering the same page again replaces it)."""
    _ENTRANCES[url_name] = Entrance(url_name=url_name, label=label, permission=permission)


def office_entrances(principal: Principal | None) -> list[Entrance]:
    """The back offices ``principal`` may enter, in the order they were registered; none for nobody."""
    if principal is None:
        return []
    return [entrance for entrance in _ENTRANCES.values() if principal.can(entrance.permission)]


def principal_source_register(source: PrincipalSource) -> None:
    """Make ``source`` the one way the back office finds who is calling (registered by identity)."""
    _SOURCES[:] = [source]


def request_principal(request: HttpRequest) -> Principal | None:
    """The caller of ``request`` as the registered source finds them; None for nobody it trusts."""
    if not _SOURCES:
        raise ImproperlyConfigured("No app registered how to find the caller of a back-office page.")
    return _SOURCES[0](request)


def problem_page(request: HttpRequest, error: DomainError, *, back: str, back_label: str | Promise) -> HttpResponse:
    """A page showing ``error`` with the status it carries, and a link to ``back`` (a URL name)."""
    context = {
        "error": error,
        "title": PROBLEM_TITLES.get(error.status, _PROBLEM_TITLE),
        "back_url": reverse(back),
        "back_label": back_label,
    }
    return render(request, "core/problem.html", context, status=error.status)


def refusal_page(request: HttpRequest, detail: str | Promise) -> HttpResponse:
    """The one "you cannot do this" page (403): what was refused in words, never a permission's name,
    and a way on that is not the refused page itself: the person's own pages, or signing in."""
    return render(request, "core/error.html", {"status": 403, "detail": detail}, status=403)


@dataclass(frozen=True, slots=True)
class Office:
    """One app's back office: the page its problem pages lead back to, and how it refuses someone."""

    # URL name of the office's first page, and the words of the link to it.
    home: str
    home_label: str | Promise
    refuse: Refusal

    def problem(self, request: HttpRequest, error: DomainError) -> HttpResponse:
        """The problem page for ``error``, leading back to this office."""
        return problem_page(request, error, back=self.home, back_label=self.home_label)

    def page(self, permission: str | None = None) -> Callable[[OfficeView[P]], View[P]]:
        """Gate a view on ``permission`` (None: any role), passing it the caller's principal."""

        def decorate(view: OfficeView[P]) -> View[P]:
            @wraps(view)
            def gated(request: HttpRequest, /, *args: P.args, **kwargs: P.kwargs) -> HttpResponse:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                principal = request_principal(request)
                if principal is None or not (principal.can(permission) if permission else principal.roles):
                    return self.refuse(request, principal, permission)
                try:
                    return view(request, principal, *args, **kwargs)
                except DomainError as error:
                    if error.status == 403 and error.code == "forbidden":
                        # A right checked deeper (``Principal.require`` in a selector) is refused as
                        # the gate refuses: in the office's words, never by the permission's name.
                        return self.refuse(request, principal, permission)
                    return self.problem(request, error)

            return gated

        return decorate
