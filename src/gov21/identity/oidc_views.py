"""HTTP endpoints of the OpenID Connect provider. Authlib answers the protocol; these views add the
person: sign-in, step-up to the level asked for, and consent."""

from __future__ import annotations

import hashlib
import re
import time
from typing import Any
from urllib.parse import urlencode

import orjson
from authlib.oauth2 import OAuth2Error
from django.db import connection
from django.http import HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.core.crypto import hash_token
from gov21.core.errors import DomainError
from gov21.identity import levels, oidc_keys
from gov21.identity.claims import SCOPE_CLAIMS, SCOPE_LABELS, Release, claims_for
from gov21.identity.forms import BearerBodyForm, ConsentDecisionForm, EndSessionForm
from gov21.identity.models import Account, OAuthToken, RelyingParty, Subject
from gov21.identity.oidc import SignedIn, discovery, server, subject_is
from gov21.identity.services import auth_event_record, consent_covers, consent_grant
from gov21.identity.session import fresh_demand, fresh_done, fresh_satisfied, idp_current, source_of

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


# Core §3.1.2.6: a parameter the provider does not support gets its own error, never silence.
_UNSUPPORTED = {
    "request": ("request_not_supported", "Request objects (the request parameter) are not supported."),
    "request_uri": ("request_uri_not_supported", "The request_uri parameter is not supported."),
    "registration": ("registration_not_supported", "The registration parameter is not supported."),
}


def _fingerprint(query: QueryDict) -> str:
    """The authorization request, whatever the order of its parameters."""
    canonical = "\0".join(f"{key}={value}" for key, values in sorted(query.lists()) for value in values)
    return hashlib.sha256(canonical.encode()).hexdigest()


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
    signed_in = idp_current(request)
    try:
        grant = server.get_consent_grant(request, end_user=signed_in)
    except OAuth2Error as error:
        if error.redirect_uri:
            return server.handle_error_response(None, error)  # type: ignore[no-any-return]
        return _error_page(request, error.error, error.description)
    for name, (code, description) in _UNSUPPORTED.items():
        if name in request.GET:
            return _redirect_error(grant, code, description)
    client = grant.client.row
    prompt = set((request.GET.get("prompt") or "").split())
    max_age_text = request.GET.get("max_age")
    if max_age_text is not None and not (max_age_text.isascii() and max_age_text.isdigit()):
        return _redirect_error(grant, "invalid_request", "max_age must be a whole number of seconds.")
    max_age = int(max_age_text) if max_age_text is not None else None
    fingerprint = _fingerprint(request.GET)
    fresh = fresh_satisfied(request, fingerprint, signed_in)
    stale = signed_in is not None and max_age is not None and time.time() - signed_in.signed_in_at > max_age
    if signed_in is None or (not fresh and ("login" in prompt or stale)):
        if "none" in prompt:
            return _redirect_error(grant, "login_required", "The person has to sign in.")
        fresh_demand(request, fingerprint)
        return redirect(f"/auth/sign-in?{urlencode({'next': here})}")
    needed = _required_level(request, signed_in.account)
    if needed is not None and levels.rank(signed_in.acr) < levels.rank(needed):
        if "none" in prompt:
            return _redirect_error(grant, "login_required", "A stronger sign-in is needed.")
        return redirect(f"/auth/verify?{urlencode({'next': here, 'level': needed})}")
    scopes = (request.GET.get("scope") or "").split()
    granted_scopes = grant.client.get_allowed_scope(" ".join(scopes)).split()
    if request.method == "POST":
        fresh_done(request, fingerprint)
        if not ConsentDecisionForm(request.POST).cleaned()["decision"]:
            return _respond(grant, None)
        consent_grant(account=signed_in.account, client=client, scopes=granted_scopes, source=source_of(request))
        return _respond(grant, signed_in)
    if "consent" not in prompt and consent_covers(account=signed_in.account, client=client, scopes=granted_scopes):
        fresh_done(request, fingerprint)
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


def _sign_out(request: HttpRequest) -> None:
    current = idp_current(request)
    if current is not None:
        auth_event_record(kind="sign_out", account=current.account, source=source_of(request))
    request.session.flush()


def _return_link(client: Any, uri: str | None) -> str:
    """A post-logout address the client registered, offered as a link (never a redirect) when the
    request carried no proof that the client sent it."""
    return uri if client is not None and uri and uri in client.row.post_logout_redirect_uris else ""


# RP-Initiated Logout §2: relying parties may send the logout request as a cross-site form POST, so
# Django's CSRF check cannot guard this endpoint. Nothing is ended here on a bare request: only with a
# valid id_token_hint naming the person signed in; otherwise the person confirms on a page whose form
# posts to end_session_confirm, which the CSRF check does guard.
@csrf_exempt
@never_cache
@require_http_methods(["GET", "POST"])
def end_session(request: HttpRequest) -> HttpResponse:
    try:
        ending = server.validate_endpoint_request("end_session", request)
    except OAuth2Error:
        return render(request, "identity/signed_out.html", {"problem": True}, status=400)
    current = idp_current(request)
    claims = ending.id_token_claims
    if current is not None:
        named = ending.client is not None and subject_is(
            current.account.pk, ending.client.row.sector, str((claims or {}).get("sub"))
        )
    else:
        named = not request.user.is_authenticated  # signed in nowhere: nothing to take from anyone
    hint_matches = claims is not None and ending.client is not None and named
    if hint_matches:
        _sign_out(request)
        if ending.redirect_uri:
            return redirect(ending.redirect_uri)
        return render(request, "identity/signed_out.html", {})
    if current is None and not request.user.is_authenticated:
        return render(request, "identity/signed_out.html", {})  # nobody to sign out, nowhere to send them
    form = EndSessionForm(request.POST if request.method == "POST" else request.GET)
    context = {
        "client": ending.client.row if ending.client is not None else None,
        "return_to": _return_link(ending.client, form.value("post_logout_redirect_uri")),
    }
    return render(request, "identity/end_session_confirm.html", context)


@never_cache
@require_POST
def end_session_confirm(request: HttpRequest) -> HttpResponse:
    """The person's own answer to a sign-out request that did not prove where it came from."""
    form = EndSessionForm(request.POST)
    client = server.query_client(form.value("client_id"))
    return_to = _return_link(client, form.value("post_logout_redirect_uri"))
    _sign_out(request)
    return render(
        request, "identity/signed_out.html", {"return_to": return_to, "client": client.row if client else None}
    )


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


_REALM = 'Bearer realm="gov21"'
# RFC 6750 §2.1: the b64token syntax of a bearer credential.
_B64TOKEN = re.compile(r"[A-Za-z0-9\-._~+/]+=*")


def _bearer_error(error: str, description: str, status: int = 401) -> HttpResponse:
    response = _json({"error": error, "error_description": description}, status=status, headers=_NO_STORE)
    response["WWW-Authenticate"] = f'{_REALM}, error="{error}", error_description="{description}"'
    return response


def _bearer_credential(request: HttpRequest) -> str | HttpResponse | None:
    """The access token (RFC 6750 §2.1 header or §2.2 form body), None when none was sent, or the
    error response for a malformed request."""
    header = request.headers.get("Authorization")
    scheme, _, value = (header or "").partition(" ")
    in_header = value.strip() if header is not None and scheme.lower() == "bearer" else None
    in_body = None
    if request.method == "POST" and request.content_type == "application/x-www-form-urlencoded":
        in_body = BearerBodyForm(request.POST).token()
    if in_header is None and in_body is None:
        return None
    if in_header is not None and in_body is not None:
        return _bearer_error("invalid_request", "Send the access token one way only.", status=400)
    token = in_header if in_header is not None else str(in_body)
    if not _B64TOKEN.fullmatch(token):
        return _bearer_error("invalid_request", "The access token is missing or malformed.", status=400)
    return token


@csrf_exempt
@require_http_methods(["GET", "POST"])
def userinfo(request: HttpRequest) -> HttpResponse:
    token = _bearer_credential(request)
    if isinstance(token, HttpResponse):
        return token
    if token is None:
        # RFC 6750 §3.1: a request with no credentials gets the challenge and no error code.
        response = HttpResponse(status=401, headers=_NO_STORE)
        response["WWW-Authenticate"] = _REALM
        return response
    token_hash = hash_token(token)
    with connection.cursor() as cursor:
        cursor.execute(_USERINFO_SQL, [token_hash, connection.ops.adapt_datetimefield_value(timezone.now())])
        row = cursor.fetchone()
    if row is None:
        return _bearer_error("invalid_token", "The access token is unknown, expired or revoked.")
    scope = str(row[0])
    if "openid" not in scope.split():
        return _bearer_error("insufficient_scope", "The token was not issued for OpenID Connect.", status=403)
    release = Release(*row[1:])
    try:
        claims = claims_for(release=release, scope=scope, token_hash=token_hash)
    except DomainError as error:
        return _bearer_error("invalid_token", error.detail)
    return _json(claims, headers=_NO_STORE)
