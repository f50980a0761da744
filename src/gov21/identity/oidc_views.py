"""HTTP endpoints of the OpenID Connect provider. Authlib answers the protocol; these views add the
person: sign-in, step-up to the level asked for, and consent."""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import urlencode

import orjson
from authlib.oauth2 import OAuth2Error
from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.core.crypto import hash_token
from gov21.core.errors import DomainError
from gov21.identity import levels, oidc_keys
from gov21.identity.claims import SCOPE_CLAIMS, SCOPE_LABELS, Release, claims_for
from gov21.identity.models import Account, OAuthToken, RelyingParty, Subject
from gov21.identity.oidc import SignedIn, discovery, server
from gov21.identity.services import consent_covers, consent_grant
from gov21.identity.session import idp_current, source_of

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def _json(data: dict[str, Any], status: int = 200, headers: dict[str, str] | None = None) -> HttpResponse:
    response = HttpResponse(orjson.dumps(data), content_type="application/json", status=status)
    for key, value in (headers or {}).items():
        response[key] = value
    return response


@require_GET
def openid_configuration(request: HttpRequest) -> HttpResponse:
    return _json(discovery(), headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


@require_GET
def jwks(request: HttpRequest) -> HttpResponse:
    return _json(oidc_keys.jwks(), headers={"Cache-Control": "public, max-age=300", "Access-Control-Allow-Origin": "*"})


def _error_page(request: HttpRequest, error: str, description: str) -> HttpResponse:
    """A request we will not send back to the client (its redirect URI is not trusted): say so here."""
    return render(request, "identity/oidc_error.html", {"error": error, "description": description}, status=400)


def _required_level(request: HttpRequest, account: Account | None = None) -> str | None:
    wanted = levels.strongest(request.GET.get("acr_values"))
    staff = account is not None and account.kind == Account.Kind.STAFF
    if staff and (wanted is None or levels.rank(wanted) < levels.rank(levels.SUBSTANTIAL)):
        wanted = levels.SUBSTANTIAL  # public servants never work on a password alone
    return wanted


@never_cache
@require_http_methods(["GET", "POST"])
def authorize(request: HttpRequest) -> HttpResponse:
    """Authorization endpoint: validate the request, make sure the person has signed in at the level
    asked for, ask for consent, then hand a code to the client's exact redirect URI."""
    here = request.get_full_path()
    if any("\x00" in value for value in request.GET.values()):
        return _error_page(request, "invalid_request", "The request contains a NUL character.")
    if not request.GET.get("redirect_uri"):
        return _error_page(request, "invalid_request", "The request has no redirect_uri.")
    try:
        grant = server.get_consent_grant(request, end_user=None)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)  # type: ignore[no-any-return]
        return _error_page(request, error.error, error.description)
    client = grant.client.row
    prompt = set((request.GET.get("prompt") or "").split())
    signed_in = idp_current(request)
    if signed_in is not None and "login" in prompt and request.method == "GET" and not request.GET.get("_fresh"):
        signed_in = None
    max_age = request.GET.get("max_age", "")
    if signed_in is not None and max_age.isdigit() and time.time() - signed_in.auth_time > int(max_age):
        signed_in = None
    if signed_in is None:
        if "none" in prompt:
            return _redirect_error(grant, "login_required", "The person is not signed in.")
        fresh = here + ("&_fresh=1" if "login" in prompt else "")
        return redirect(f"/auth/sign-in?{urlencode({'next': fresh})}")
    needed = _required_level(request, signed_in.account)
    if needed is not None and levels.rank(signed_in.acr) < levels.rank(needed):
        if "none" in prompt:
            return _redirect_error(grant, "login_required", "A stronger sign-in is needed.")
        return redirect(f"/auth/verify?{urlencode({'next': here, 'level': needed})}")
    scopes = (request.GET.get("scope") or "").split()
    granted_scopes = grant.client.get_allowed_scope(" ".join(scopes)).split()
    if request.method == "POST":
        decision = request.POST.get("decision")
        if decision != "allow":
            return _respond(grant, None)
        consent_grant(account=signed_in.account, client=client, scopes=granted_scopes, source=source_of(request))
        return _respond(grant, signed_in)
    if "consent" not in prompt and consent_covers(account=signed_in.account, client=client, scopes=granted_scopes):
        return _respond(grant, signed_in)
    if "none" in prompt:
        return _redirect_error(grant, "consent_required", "The person has not agreed to share this data.")
    items = [{"scope": s, "label": SCOPE_LABELS.get(s, s), "claims": SCOPE_CLAIMS.get(s, [])} for s in granted_scopes]
    return render(
        request, "identity/consent.html", {"client": client, "items": items, "level": levels.NAMES.get(signed_in.acr)}
    )


def _respond(grant: Any, user: SignedIn | None) -> HttpResponse:
    """Issue the code (or the access_denied error) for a request ``get_consent_grant`` already validated.

    Authlib's ``create_authorization_response`` would validate the whole request a second time."""
    try:
        response = server.handle_response(*grant.create_authorization_response(grant.redirect_uri, user))
    except OAuth2Error as error:
        error.state = grant.request.payload.state
        response = server.handle_error_response(grant.request, error)
    grant.execute_hook("after_authorization_response", response)
    return response  # type: ignore[no-any-return]


def _redirect_error(grant: Any, error: str, description: str) -> HttpResponse:
    from authlib.common.urls import add_params_to_uri

    params = [("error", error), ("error_description", description)]
    if grant.request.payload.state:
        params.append(("state", grant.request.payload.state))
    return redirect(add_params_to_uri(grant.request.payload.redirect_uri, params))


@csrf_exempt
@require_POST
def token(request: HttpRequest) -> HttpResponse:
    return server.create_token_response(request)  # type: ignore[no-any-return]


@csrf_exempt
@require_POST
def revoke(request: HttpRequest) -> HttpResponse:
    return server.create_endpoint_response("revocation", request)  # type: ignore[no-any-return]


@csrf_exempt
@require_POST
def introspect(request: HttpRequest) -> HttpResponse:
    return server.create_endpoint_response("introspection", request)  # type: ignore[no-any-return]


@require_http_methods(["GET", "POST"])
def end_session(request: HttpRequest) -> HttpResponse:
    response = server.create_endpoint_response("end_session", request)
    if response is not None and response.status_code != 302:
        return render(request, "identity/signed_out.html", {"problem": True}, status=400)
    request.session.flush()
    return response or render(request, "identity/signed_out.html", {})


# Userinfo is called for every sign-in and often after it: one hand-written statement finds the token,
# the person's account, the relying party and the pairwise subject (the ORM would take four).
_USERINFO_SQL = (
    "SELECT t.scope, a.id, a.uin, a.user_id, a.email, a.phone, c.client_id, c.sector, c.agency, c.purpose, s.sub "  # noqa: S608
    f"FROM {OAuthToken._meta.db_table} t "
    f"JOIN {Account._meta.db_table} a ON a.id = t.account_id "
    f"JOIN {RelyingParty._meta.db_table} c ON c.id = t.client_id "
    f"LEFT JOIN {Subject._meta.db_table} s ON s.account_id = a.id AND s.sector = c.sector "
    "WHERE t.access_hash = %s AND t.revoked_at IS NULL AND t.expires_at > %s "
    "AND a.status = 'active' AND c.disabled_at IS NULL"
)


def _bearer_error(error: str, description: str, status: int = 401) -> HttpResponse:
    response = _json({"error": error, "error_description": description}, status=status, headers=_NO_STORE)
    response["WWW-Authenticate"] = f'Bearer error="{error}", error_description="{description}"'
    return response


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    scheme, _, value = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        response = _json({"error": "invalid_request"}, status=401, headers=_NO_STORE)
        response["WWW-Authenticate"] = 'Bearer realm="gov21"'
        return response
    with connection.cursor() as cursor:
        cursor.execute(
            _USERINFO_SQL, [hash_token(value.strip()), connection.ops.adapt_datetimefield_value(timezone.now())]
        )
        row = cursor.fetchone()
    if row is None:
        return _bearer_error("invalid_token", "The access token is unknown, expired or revoked.")
    scope = str(row[0])
    if "openid" not in scope.split():
        return _bearer_error("insufficient_scope", "The token was not issued for OpenID Connect.", status=403)
    release = Release(*row[1:])
    try:
        claims = claims_for(release=release, scope=scope)
    except DomainError as error:
        return _bearer_error("invalid_token", error.detail)
    return _json(claims, headers=_NO_STORE)
