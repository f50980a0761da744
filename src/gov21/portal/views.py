from __future__ import annotations

import functools
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.audit.contracts import access_records_for
from gov21.core.errors import DomainError
from gov21.exchange.contracts import USAGE_LIMIT_MAX, data_uses_for
from gov21.identity.contracts import (
    PORTAL_SESSION_KEY,
    SUBSTANTIAL,
    account_summary,
    consent_revoke_by_user,
    user_for_subject,
)
from gov21.onestop.contracts import applications_for, inbox_unread_count, offers_open_count, text
from gov21.portal import rp
from gov21.portal.forms import ConsentWithdrawForm
from gov21.portal.uses import access_shown, exchange_use_shown

# A year: the icon's address never changes what it shows without the page's link changing with it.
_ICON_MAX_AGE = 365 * 24 * 3600


@functools.cache
def _icon() -> str:
    return render_to_string("portal/favicon.svg")


@require_GET
@cache_control(public=True, max_age=_ICON_MAX_AGE, immutable=True)
def favicon(request: HttpRequest) -> HttpResponse:
    """The site's icon (a sun over the sea): one small SVG, fetched once and then kept by the browser."""
    return HttpResponse(_icon(), content_type="image/svg+xml")


@login_required
def office(request: HttpRequest) -> HttpResponse:
    return redirect("registry:queue")


@never_cache
@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    """Start the OpenID Connect sign-in. Back-office pages ask for level substantial."""
    next_url = request.GET.get("next") or "/my/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/my/"
    acr = SUBSTANTIAL if next_url.startswith("/office/") or request.GET.get("level") == "substantial" else None
    # Registered from configuration, not from this request; repeated here (it writes only on a
    # change) so that a node whose GOV21_BASE_URL changed is right from its first sign-in.
    rp.bootstrap()
    return redirect(rp.authorization_url(session=request.session, next_url=next_url, acr=acr))


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    try:
        claims, id_token, next_url = rp.complete(session=request.session, query=request.GET.dict())
    except rp.ProviderBusy as error:
        # Past capacity the person is told when to come back, and a proxy or monitor can tell this
        # from a fault: 503 with Retry-After, never a 500 or a page that hangs.
        # The sign-in is kept (rp.complete), with the tokens if its one-time code was already spent:
        # the same address finishes it once the provider answers. Saved here because the session
        # middleware saves nothing with a 5xx answer.
        request.session.save()
        context = {"reason": str(error), "again": request.get_full_path()}
        response = render(request, "portal/sign_in_failed.html", context, status=503)
        response["Retry-After"] = str(rp.RETRY_AFTER_S)
        return response
    except rp.SignInFailed as error:
        return render(request, "portal/sign_in_failed.html", {"reason": str(error)}, status=400)
    tokens = request.session.pop(rp.TOKENS_KEY, None) or {}
    user = user_for_subject(sector=rp.SECTOR, sub=str(claims["sub"]))
    if user is None:
        return render(request, "portal/sign_in_failed.html", {"reason": "This account cannot sign in."}, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # type: ignore[arg-type]
    request.session[PORTAL_SESSION_KEY] = {
        "sub": claims["sub"],
        "acr": claims.get("acr", ""),
        "id_token": id_token,
        "name": claims.get("name", ""),
        "tokens": tokens,
    }
    return redirect(next_url)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout: end the portal session, then ask the provider to end its own."""
    portal = request.session.get(PORTAL_SESSION_KEY) or {}
    logout(request)
    params = {"post_logout_redirect_uri": rp.post_logout_uri(), "client_id": rp.CLIENT_ID}
    if portal.get("id_token"):
        params["id_token_hint"] = portal["id_token"]
    return redirect(f"/oidc/end-session?{urlencode(params)}")


# How many of the newest exchange uses the account page shows; the full list has a page of its own.
RECENT_EXCHANGE_USES = 5


def _to_sign_in(request: HttpRequest) -> HttpResponse:
    return redirect(f"/sign-in?{urlencode({'next': request.get_full_path()})}")


@never_cache
@require_http_methods(["GET", "POST"])
def my_account(request: HttpRequest) -> HttpResponse:
    """A person's own page: who they shared data with (revocable) and who used their data."""
    if not request.user.is_authenticated or PORTAL_SESSION_KEY not in request.session:
        return _to_sign_in(request)
    user_id = int(request.user.pk)
    error = None
    summary = account_summary(user_id=user_id) or {"consents": [], "uin": None}
    if request.method == "POST":
        form = ConsentWithdrawForm(request.POST)
        data = form.cleaned() if form.is_valid() else {"consent": None, "confirm": False}
        if not data["confirm"]:
            return _withdraw_confirm(request, summary, data["consent"])
        try:
            consent_revoke_by_user(
                user_id=user_id, consent_id=data["consent"] or 0, source=str(request.META.get("REMOTE_ADDR", ""))
            )
            return redirect("/my/?withdrawn=1")
        except (DomainError, ValueError):
            error = _("That consent was not found on your account.")
    elif request.GET.get("withdraw"):
        wanted = ConsentWithdrawForm({"consent": request.GET["withdraw"]}).cleaned()["consent"]
        return _withdraw_confirm(request, summary, wanted)
    uin = summary.get("uin")
    uses = access_records_for(subject=uin, limit=50) if uin else []
    exchange_uses = data_uses_for(subject=uin, limit=RECENT_EXCHANGE_USES + 1) if uin else []
    mine = _applications(uin or "") if exchange_uses else {}
    return render(
        request,
        "portal/my_account.html",
        {
            "summary": summary,
            "uses": [access_shown(use) for use in uses],
            "exchange_uses": [exchange_use_shown(use, mine) for use in exchange_uses[:RECENT_EXCHANGE_USES]],
            "more_exchange_uses": len(exchange_uses) > RECENT_EXCHANGE_USES,
            "error": error,
            "withdrawn": request.GET.get("withdrawn"),
            "name": request.session[PORTAL_SESSION_KEY].get("name", ""),
            "unread": inbox_unread_count(uin=uin) if uin else 0,
            "offers": offers_open_count(uin=uin) if uin else 0,
        },
    )


def _applications(uin: str) -> dict[str, str]:
    """The person's own applications by reference, titled in their language: an agency that read
    their data for one of them names it as its purpose."""
    if not uin:
        return {}
    lang = (get_language() or "en")[:2]
    return {a.reference: text(a.title, lang) for a in applications_for(uin=uin, limit=USAGE_LIMIT_MAX)}


def _withdraw_confirm(request: HttpRequest, summary: dict[str, Any], consent_id: int | None) -> HttpResponse:
    """Ask before withdrawing the consent given to a service: the service loses access at once."""
    consent = next((c for c in summary["consents"] if c["id"] == consent_id), None)
    if consent is None:
        return redirect("portal:my")
    context = {
        "question": _("Are you sure you want to stop sharing your data with %(service)s?")
        % {"service": consent["client"]},
        "consequence": _(
            "%(agency)s will no longer be able to read your data through this service. To use it again "
            "you would sign in to it and agree again."
        )
        % {"agency": consent["agency"]},
        "action_url": reverse("portal:my"),
        "fields": [("consent", consent["id"])],
        "yes_label": _("Yes, stop sharing"),
        "cancel_url": reverse("portal:my"),
    }
    return render(request, "portal/confirm.html", context)


@never_cache
@require_GET
def my_data_uses(request: HttpRequest) -> HttpResponse:
    """Every use of the person's data that an agency received through the exchange, newest first."""
    if not request.user.is_authenticated or PORTAL_SESSION_KEY not in request.session:
        return _to_sign_in(request)
    summary = account_summary(user_id=int(request.user.pk)) or {"uin": None}
    uin = summary.get("uin")
    uses = data_uses_for(subject=uin, limit=USAGE_LIMIT_MAX) if uin else []
    mine = _applications(uin or "") if uses else {}
    return render(
        request,
        "portal/my_data_uses.html",
        {
            "uin": uin,
            "uses": [exchange_use_shown(use, mine) for use in uses],
            "truncated": len(uses) >= USAGE_LIMIT_MAX,
            "limit": USAGE_LIMIT_MAX,
        },
    )
