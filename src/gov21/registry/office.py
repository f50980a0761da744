"""Registrar back office pages."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from gov21.identity.selectors import principal_from_request
from gov21.registry import selectors


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    principal = principal_from_request(request)
    assert principal is not None
    events = list(selectors.event_queue(actor=principal)[:200])
    return render(request, "registry/queue.html", {"events": events})


@login_required
def search(request: HttpRequest) -> HttpResponse:
    return render(request, "registry/search.html", {})
