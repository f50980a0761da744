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
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from gov21.core.errors import DomainError
from gov21.core.outbox import Outbox, outbox_dead_letters, outbox_get, outbox_requeue, outboxes
from gov21.identity.contracts import Principal, office_principal


def _refused(request: HttpRequest) -> HttpResponse:
    detail = _("Your role does not allow administering this outbox.")
    return render(request, "portal/outbox_refused.html", {"detail": detail}, status=403)


def _outbox(name: str) -> Outbox[Any]:
    try:
        return outbox_get(name)
    except DomainError as error:
        raise Http404(error.detail) from error


def _staff(request: HttpRequest, outbox: Outbox[Any]) -> Principal | HttpResponse:
    return office_principal(request, outbox.permission, refuse=_refused)


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
def dead_letters(request: HttpRequest, name: str) -> HttpResponse:
    outbox = _outbox(name)
    principal = _staff(request, outbox)
    if isinstance(principal, HttpResponse):
        return principal
    return _page(request, outbox)


@never_cache
@require_POST
def retry(request: HttpRequest, name: str, row_id: int) -> HttpResponse:
    outbox = _outbox(name)
    principal = _staff(request, outbox)
    if isinstance(principal, HttpResponse):
        return principal
    try:
        outbox_requeue(outbox, row_id=row_id)
    except DomainError as error:
        return _page(request, outbox, error=error.detail, status=error.status)
    messages.success(request, _("Item %(id)s will be tried again.") % {"id": row_id})
    return redirect("outbox:dead-letters", name=outbox.name)
