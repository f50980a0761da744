"""Back-office pages of the identity provider: activation codes at the service counter, recoveries of
accounts in use (asked for by one officer, approved by another), and the register of relying
parties (agency systems)."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.core.office import Office, refusal_page
from gov21.core.principal import Principal
from gov21.identity.forms import DOCUMENT_NOT_CHECKED, ClientForm, CounterActivationForm, RecoveryApprovalForm
from gov21.identity.oidc import SCOPES
from gov21.identity.selectors import relying_parties
from gov21.identity.services import (
    account_recovery_approve,
    account_recovery_request,
    activation_code_issue,
    client_register,
    recoveries_waiting,
)


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    return refusal_page(request, _("Your role does not allow handing over activation codes or recovering accounts."))


office_page = Office(
    home="identity:activation", home_label=gettext_lazy("Go to activation codes"), refuse=_refused
).page


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("identity.activate")
def activation(request: HttpRequest, principal: Principal) -> HttpResponse:
    """An officer checks a person's identity documents, then hands over a one-time activation code."""
    form = CounterActivationForm.bind(request)
    context: dict[str, Any] = {"uin": form.typed("uin")}
    if request.method == "POST":
        try:
            uin = form.cleaned()["uin"]
            try:
                context["code"] = activation_code_issue(uin=uin, officer=principal)
            except DomainError as error:
                if error.code != "account_in_use":
                    raise
                # An account in use is never handed over on one officer's word: ask for a recovery.
                context["recovery"] = account_recovery_request(uin=uin, officer=principal)
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
        data = RecoveryApprovalForm(request.POST).cleaned()
        recovery_id = data["recovery"] or 0  # an id, or none that exists
        if not data["checked"]:
            context["error"] = DOCUMENT_NOT_CHECKED
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
    form = ClientForm.bind(request)
    context: dict[str, Any] = {"scopes": SCOPES, "form": form.typed_all()}
    if request.method == "POST":
        try:
            data = form.cleaned()
            registered = client_register(
                client_id=data["client_id"],
                name=data["name"],
                agency=data["agency"],
                sector=data["sector"],
                purpose=data["purpose"],
                redirect_uris=_lines(data["redirect_uris"]),
                post_logout_redirect_uris=_lines(data["post_logout_redirect_uris"]),
                scopes=data["scopes"],
                auth_method=data["auth_method"],
                jwks=json.loads(data["jwks"]) if data["jwks"] else None,
                may_introspect=data["may_introspect"],
                created_by=principal.name,
            )
            context["registered"] = registered
            context["form"] = {}
        except json.JSONDecodeError:
            context["error"] = "The public keys are not valid JSON (paste the client's JWKS)."
        except DomainError as error:
            context["error"] = error.detail
        if "error" in context:
            return render(request, "identity/office_clients.html", context | {"clients": relying_parties()}, status=422)
    return render(request, "identity/office_clients.html", context | {"clients": relying_parties()})
