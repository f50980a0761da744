"""Back-office pages of the exchange's directory: what the instance holds (members, their systems and
services, nodes, partner instances, the configuration in force), who may call each service, and
the nodes waiting for admission. Every change is a POST calling one of the directory's services and answered
with a redirect; bad input re-renders the page with the reason, never a server error."""

from __future__ import annotations

import base64
import binascii
import hashlib
from typing import Any
from urllib.parse import urlencode

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.exchange import directory, selectors, services
from gov21.exchange.forms import RightForm
from gov21.exchange.models import (
    Node,
)

PERMISSION = "exchange.admin"


def key_fingerprint(public_key_pem: str) -> str:
    """SHA-256 of a public key's DER form, hex: what the node's operator and the directory's
    administrator read to each other before the node is admitted."""
    body = "".join(line.strip() for line in public_key_pem.strip().splitlines() if not line.startswith("-----"))
    try:
        return hashlib.sha256(base64.b64decode(body, validate=True)).hexdigest()
    except (binascii.Error, ValueError):
        return "unreadable"


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow administering the data exchange.")
    return render(request, "exchange/office_refused.html", {"detail": detail}, status=403)


office_page = Office(
    home="exchange_office:overview", home_label=gettext_lazy("Go to the data exchange"), refuse=_refused
).page


def _instance() -> str:
    return config.INSTANCE.read()


# --- what the pages show --------------------------------------------------------------------------


def _nodes() -> list[dict[str, Any]]:
    return [
        {
            "node": row,
            "key": key_fingerprint(row.auth_key_pem) if row.auth_key_pem else "",
            "certs": [(cert, key_fingerprint(cert.public_key_pem)) for cert in row.signing_certs.all()],
        }
        for row in selectors.nodes_with_certs(instance=_instance())
    ]


def _conf() -> dict[str, Any] | None:
    latest = selectors.conf_latest(instance=_instance())
    if latest is None:
        return None
    return {
        "serial": latest.serial,
        "issued_at": latest.issued_at,
        "expires_at": latest.expires_at,
        "expired": latest.expires_at <= timezone.now(),
    }


# --- pages ----------------------------------------------------------------------------------------


@never_cache
@require_GET
@office_page(PERMISSION)
def overview(request: HttpRequest, principal: Principal) -> HttpResponse:
    nodes = _nodes()
    context = {
        "instance": _instance(),
        "members": selectors.members_with_services(instance=_instance()),
        "nodes": nodes,
        "pending": sum(1 for n in nodes if n["node"].status == Node.PENDING),
        "trusted": selectors.trusted_instances(),
        "conf": _conf(),
    }
    return render(request, "exchange/office_overview.html", context)


def _rights_page(request: HttpRequest, *, form: dict[str, str], error: str = "", status: int = 200) -> HttpResponse:
    services = selectors.services_with_rights(instance=_instance())
    selected = request.GET.get("service", "")[:400]
    shown = [s for s in services if str(s) == selected] or services
    context = {
        "services": services,
        "shown": shown,
        "selected": selected if len(shown) == 1 and str(shown[0]) == selected else "",
        "methods": ("*", *directory.HTTP_METHODS),
        "form": form,
        "error": error,
    }
    return render(request, "exchange/office_rights.html", context, status=status)


def _rights_url(service: str) -> str:
    return f"{reverse('exchange_office:rights')}?{urlencode({'service': service})}#rights"


@never_cache
@require_http_methods(["GET", "POST"])
@office_page(PERMISSION)
def rights(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Access rights per service; a POST grants one."""
    if request.method == "GET":
        return _rights_page(request, form={"service": request.GET.get("service", "")[:400], "method": "*"})
    posted = RightForm(request.POST)
    form = posted.right()
    if not form["service"] or not form["subject"]:
        return _rights_page(request, form=form, error=_("Choose a service and name who may call it."), status=422)
    try:
        posted.cleaned()
        right = services.right_grant(
            service=form["service"],
            subject=form["subject"],
            method=form["method"],
            path=form["path"],
            by=principal.name,
        )
    except DomainError as error:
        return _rights_page(request, form=form, error=error.detail, status=error.status)
    messages.success(
        request,
        _("%(subject)s may now call %(method)s %(path)s on %(service)s.")
        % {"subject": right.subject, "method": right.method, "path": right.path, "service": right.service},
    )
    return redirect(_rights_url(str(right.service)))


@never_cache
@require_POST
@office_page(PERMISSION)
def right_revoke(request: HttpRequest, principal: Principal) -> HttpResponse:
    posted = RightForm(request.POST)
    form = posted.right()
    try:
        posted.cleaned()
        services.right_revoke(
            service=form["service"], subject=form["subject"], method=form["method"], path=form["path"]
        )
    except DomainError as error:
        return _rights_page(request, form={"method": "*"}, error=error.detail, status=error.status)
    messages.success(
        request,
        _("%(subject)s may no longer call %(method)s %(path)s on %(service)s.") % form,
    )
    return redirect(_rights_url(form["service"]))


def _nodes_page(request: HttpRequest, *, error: str = "", status: int = 200) -> HttpResponse:
    nodes = _nodes()
    context = {
        "pending": [n for n in nodes if n["node"].status == Node.PENDING],
        "others": [n for n in nodes if n["node"].status != Node.PENDING],
        "error": error,
    }
    return render(request, "exchange/office_nodes.html", context, status=status)


@never_cache
@require_GET
@office_page(PERMISSION)
def nodes(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _nodes_page(request)


@never_cache
@require_POST
@office_page(PERMISSION)
def node_approve(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    try:
        node = services.node_approve(code=code, by=principal.name)
    except DomainError as error:
        return _nodes_page(request, error=error.detail, status=error.status)
    except ValueError:  # a key in the join request that is not an Ed25519 public key
        return _nodes_page(
            request,
            error=_("Node %(code)s sent a key that cannot be used; revoke its request.") % {"code": code},
            status=422,
        )
    messages.success(request, _("Node %(node)s is approved; its certificates are issued.") % {"node": node})
    return redirect("exchange_office:nodes")


@never_cache
@require_POST
@office_page(PERMISSION)
def node_revoke(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    try:
        node = services.node_revoke(code=code, by=principal.name)
    except DomainError as error:
        return _nodes_page(request, error=error.detail, status=error.status)
    messages.success(request, _("Node %(node)s is revoked, with its signing certificates.") % {"node": node})
    return redirect("exchange_office:nodes")
