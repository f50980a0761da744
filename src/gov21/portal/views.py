from __future__ import annotations

from urllib.parse import urlencode

from django.contrib.auth import login, logout
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.audit.contracts import access_records_for
from gov21.core.errors import DomainError
from gov21.identity.contracts import (
    PORTAL_SESSION_KEY,
    SUBSTANTIAL,
    account_summary,
    builtin_client_ensure,
    consent_revoke_by_user,
    user_for_subject,
)
from gov21.portal import rp


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "portal/home.html")


@login_required
def office(request: HttpRequest) -> HttpResponse:
    return redirect("registry:queue")


def _ensure_client(request: HttpRequest) -> str:
    redirect_uri = request.build_absolute_uri("/auth/callback")
    builtin_client_ensure(
        client_id=rp.CLIENT_ID,
        name="Public services portal",
        sector=rp.SECTOR,
        redirect_uri=redirect_uri,
        post_logout_uri=request.build_absolute_uri("/"),
        jwks=rp.public_jwks(),
    )
    return redirect_uri


@never_cache
@require_GET
def sign_in(request: HttpRequest) -> HttpResponse:
    """Start the OpenID Connect sign-in. Back-office pages ask for level substantial."""
    next_url = request.GET.get("next") or "/my/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/my/"
    acr = SUBSTANTIAL if next_url.startswith("/office/") or request.GET.get("level") == "substantial" else None
    url = rp.authorization_url(
        session=request.session, redirect_uri=_ensure_client(request), next_url=next_url, acr=acr
    )
    return redirect(url)


@never_cache
@require_GET
def callback(request: HttpRequest) -> HttpResponse:
    try:
        claims, id_token, next_url = rp.complete(session=request.session, query=request.GET.dict())
    except rp.SignInFailed as error:
        return render(request, "portal/sign_in_failed.html", {"reason": str(error)}, status=400)
    user = user_for_subject(sector=rp.SECTOR, sub=str(claims["sub"]))
    if user is None:
        return render(request, "portal/sign_in_failed.html", {"reason": "This account cannot sign in."}, status=400)
    login(request, user, backend="django.contrib.auth.backends.ModelBackend")  # type: ignore[arg-type]
    request.session[PORTAL_SESSION_KEY] = {
        "sub": claims["sub"],
        "acr": claims.get("acr", ""),
        "id_token": id_token,
        "name": claims.get("name", ""),
    }
    return redirect(next_url)


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    """RP-initiated logout: end the portal session, then ask the provider to end its own."""
    portal = request.session.get(PORTAL_SESSION_KEY) or {}
    logout(request)
    params = {"post_logout_redirect_uri": request.build_absolute_uri("/"), "client_id": rp.CLIENT_ID}
    if portal.get("id_token"):
        params["id_token_hint"] = portal["id_token"]
    return redirect(f"/oidc/end-session?{urlencode(params)}")


@never_cache
@require_http_methods(["GET", "POST"])
def my_account(request: HttpRequest) -> HttpResponse:
    """A person's own page: who they shared data with (revocable) and who used their data."""
    if not request.user.is_authenticated or PORTAL_SESSION_KEY not in request.session:
        return redirect(f"/sign-in?{urlencode({'next': request.get_full_path()})}")
    user_id = int(request.user.pk)
    error = None
    if request.method == "POST":
        try:
            consent_revoke_by_user(
                user_id=user_id,
                consent_id=int(request.POST.get("consent", "0") or 0),
                source=str(request.META.get("REMOTE_ADDR", "")),
            )
            return redirect("/my/?withdrawn=1")
        except (DomainError, ValueError):
            error = "That consent was not found on your account."
    summary = account_summary(user_id=user_id) or {"consents": [], "uin": None}
    uses = access_records_for(subject=summary["uin"], limit=50) if summary.get("uin") else []
    return render(
        request,
        "portal/my_account.html",
        {
            "summary": summary,
            "uses": uses,
            "error": error,
            "withdrawn": request.GET.get("withdrawn"),
            "name": request.session[PORTAL_SESSION_KEY].get("name", ""),
        },
    )
