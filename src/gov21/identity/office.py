"""Back-office pages of the identity provider: activation codes at the service counter, recoveries of
accounts in use (asked for by one officer, approved by another), and the register of relying
parties (agency systems)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.identity.models import RelyingParty
from gov21.identity.oidc import SCOPES
from gov21.identity.services import (
    account_recovery_approve,
    account_recovery_request,
    activation_code_issue,
    client_register,
    recoveries_waiting,
)


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    return render(
        request, "identity/office_refused.html", {"detail": "Your role does not allow this action."}, status=403
    )


office_page = Office(
    home="identity:activation", home_label=gettext_lazy("Go to activation codes"), refuse=_refused
).page


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("identity.activate")
def activation(request: HttpRequest, principal: Principal) -> HttpResponse:
    """An officer checks a person's identity documents, then hands over a one-time activation code."""
    context: dict[str, Any] = {"uin": request.POST.get("uin", "")[:20]}
    if request.method == "POST":
        if request.POST.get("checked") != "yes":
            context["error"] = "Confirm that you checked the person's identity document in person."
            return render(request, "identity/office_activation.html", context, status=422)
        try:
            try:
                context["code"] = activation_code_issue(uin=context["uin"], officer=principal)
            except DomainError as error:
                if error.code != "account_in_use":
                    raise
                # An account in use is never handed over on one officer's word: ask for a recovery.
                context["recovery"] = account_recovery_request(uin=context["uin"], officer=principal)
        except DomainError as error:
            context["error"] = error.detail
            return render(request, "identity/office_activation.html", context, status=error.status)
    return render(request, "identity/office_activation.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("identity.activate")
def recoveries(request: HttpRequest, principal: Principal) -> HttpResponse:
    """A second officer approves a recovery another officer asked for, with the person in front of
    them; the code is then printed here, once, for that person."""
    context: dict[str, Any] = {"me": principal.name}
    status = 200
    if request.method == "POST":
        raw = request.POST.get("recovery", "")
        recovery_id = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 19 else 0  # an id, or none that exists
        if request.POST.get("checked") != "yes":
            context["error"] = "Confirm that you checked the person's identity document in person."
            status = 422
        else:
            try:
                context["code"] = account_recovery_approve(recovery_id=recovery_id, officer=principal)
            except DomainError as error:
                context["error"] = error.detail
                status = error.status
    context["waiting"] = recoveries_waiting()
    return render(request, "identity/office_recoveries.html", context, status=status)


def _lines(value: str) -> list[str]:
    return [line.strip() for line in value.replace(",", "\n").splitlines() if line.strip()]


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("identity.clients")
def clients(request: HttpRequest, principal: Principal) -> HttpResponse:
    context: dict[str, Any] = {"scopes": SCOPES, "form": request.POST if request.method == "POST" else {}}
    if request.method == "POST":
        try:
            jwks_text = request.POST.get("jwks", "").strip()
            jwks = json.loads(jwks_text) if jwks_text else None
            registered = client_register(
                client_id=request.POST.get("client_id", "").strip(),
                name=request.POST.get("name", ""),
                agency=request.POST.get("agency", ""),
                sector=request.POST.get("sector", "").strip(),
                purpose=request.POST.get("purpose", ""),
                redirect_uris=_lines(request.POST.get("redirect_uris", "")),
                post_logout_redirect_uris=_lines(request.POST.get("post_logout_redirect_uris", "")),
                scopes=request.POST.getlist("scopes"),
                auth_method=request.POST.get("auth_method", ""),
                jwks=jwks,
                may_introspect=request.POST.get("may_introspect") == "yes",
                created_by=principal.name,
            )
            context["registered"] = registered
            context["form"] = {}
        except json.JSONDecodeError:
            context["error"] = "The public keys are not valid JSON (paste the client's JWKS)."
        except DomainError as error:
            context["error"] = error.detail
        if "error" in context:
            return render(request, "identity/office_clients.html", context | {"clients": _all()}, status=422)
    return render(request, "identity/office_clients.html", context | {"clients": _all()})


def _all() -> list[RelyingParty]:
    return list(RelyingParty.objects.order_by("client_id"))
