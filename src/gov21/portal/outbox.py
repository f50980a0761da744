"""The back office's page of dead letters: for each registered outbox (``core.outbox``), the items
that failed for good, why, and a button that gives one a fresh series of attempts. Each outbox is
administered under its own permission (deliveries: ``exchange.admin``; notifications:
``services.admin``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.outbox import Outbox, outbox_dead_letters, outbox_get, outbox_requeue, outboxes
from gov21.core.principal import Principal


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow administering this outbox.")
    return render(request, "portal/outbox_refused.html", {"detail": detail}, status=403)


# Each outbox names its own permission, so the gate lets in any member of staff and each page then
# asks for its outbox's permission.
office_page = Office(home="portal:home", home_label=gettext_lazy("Go to the home page"), refuse=_refused).page


def _outbox(name: str) -> Outbox[Any]:
    try:
        return outbox_get(name)
    except DomainError as error:
        raise Http404(error.detail) from error


def _allowed(request: HttpRequest, principal: Principal, outbox: Outbox[Any]) -> HttpResponse | None:
    """The refusal for a caller whose roles do not give this outbox's permission; None if they may."""
    if principal.can(outbox.permission):
        return None
    return _refused(request, principal, outbox.permission)


def _page(request: HttpRequest, outbox: Outbox[Any], *, error: str = "", status: int = 200) -> HttpResponse:
    context = {
        "outbox": outbox,
        "outboxes": outboxes(),
        "letters": [(row, outbox.describe(row)) for row in outbox_dead_letters(outbox)],
        "error": error,
    }
    return render(request, "portal/outbox.html", context, status=status)


@never_cache
@require_GET
@office_page()
def dead_letters(request: HttpRequest, principal: Principal, name: str) -> HttpResponse:
    outbox = _outbox(name)
    if (refusal := _allowed(request, principal, outbox)) is not None:
        return refusal
    return _page(request, outbox)


@never_cache
@require_POST
@office_page()
def retry(request: HttpRequest, principal: Principal, name: str, row_id: int) -> HttpResponse:
    outbox = _outbox(name)
    if (refusal := _allowed(request, principal, outbox)) is not None:
        return refusal
    try:
        outbox_requeue(outbox, row_id=row_id)
    except DomainError as error:
        return _page(request, outbox, error=error.detail, status=error.status)
    messages.success(request, _("Item %(id)s will be tried again.") % {"id": row_id})
    return redirect("outbox:dead-letters", name=outbox.name)
