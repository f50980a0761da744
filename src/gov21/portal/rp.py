"""The portal as an ordinary relying party of gov21's OpenID Connect provider.

It signs people in with the authorization code flow, PKCE, ``state`` and ``nonce``, authenticates to
the token endpoint with ``private_key_jwt`` (Authlib's client), checks the ID token against the
provider's published keys, and only then opens a portal session. Nothing here reads the provider's
tables: it speaks the protocol over HTTP, like any agency system would.
"""

from __future__ import annotations

import functools
import logging
import secrets
import ssl
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from gov21.core.crypto import private_file
from gov21.identity.contracts import builtin_client_ensure

if TYPE_CHECKING:
    from django.contrib.sessions.backends.base import SessionBase

logger = logging.getLogger("gov21.portal")

CLIENT_ID = "gov21-portal"
SECTOR = "gov21"
SCOPE = "openid profile"
FLOW_KEY = "gov21_rp_flow"
SESSION_KEY = "gov21_rp"
# Where complete() leaves the tokens for the callback to keep in the signed-in session.
TOKENS_KEY = "gov21_rp_tokens"
# An access token this close to its end is refreshed first: it has to outlive the call it is for.
TOKEN_MARGIN_S = 30

# Tests that run without a network server set this to an in-process WSGI transport; in production the
# portal reaches the provider over HTTP like any other relying party.
TRANSPORT: httpx2.BaseTransport | None = None


class SignInFailed(Exception):
    """The provider's answer could not be accepted; the message is safe to show."""


def issuer() -> str:
    return str(settings.BASE_URL).rstrip("/")


def redirect_uri() -> str:
    return f"{issuer()}/auth/callback"


def post_logout_uri() -> str:
    return f"{issuer()}/"


def bootstrap() -> None:
    """Register the portal with the provider at the addresses configuration gives (GOV21_BASE_URL).

    Never from a request: a Host header is whatever the sender typed, and an address registered from
    one would let anyone who can point a name at this server receive sign-in codes."""
    builtin_client_ensure(
        client_id=CLIENT_ID,
        name="Public services portal",
        sector=SECTOR,
        redirect_uri=redirect_uri(),
        post_logout_uri=post_logout_uri(),
        jwks=public_jwks(),
    )


def _key() -> ECKey:
    path = Path(settings.DATA_DIR) / "keys" / "portal-rp.pem"
    return ECKey.import_key(private_file(path, lambda: ECKey.generate_key("P-256", private=True).as_pem(private=True)))


def public_jwks() -> dict[str, Any]:
    key = _key()
    return {"keys": [{**key.as_dict(private=False), "kid": key.thumbprint(), "alg": "ES256", "use": "sig"}]}


def _client_auth() -> PrivateKeyJWT:
    """private_key_jwt with the issuer as the assertion's audience: what the provider accepts, and
    what the OpenID Foundation now advises over the token endpoint's address."""
    return PrivateKeyJWT(issuer(), alg="ES256", headers={"kid": _key().thumbprint()})


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every call to the provider: building one costs about 20 ms of CPU, which
    every sign-in paid again for each client it made."""
    return ssl.create_default_context()


def _http() -> httpx2.Client:
    return httpx2.Client(transport=TRANSPORT, timeout=10.0, verify=_tls())


# The provider's metadata and public keys change rarely; each sign-in asking for them again was two
# of the four calls the portal makes to the provider per sign-in. Kept for a few minutes per
# address; the keys are fetched again at once when a token does not verify with the kept ones
# (the provider rotated its key).
METADATA_TTL_S = 300.0
_metadata: dict[str, tuple[float, dict[str, Any]]] = {}
_metadata_lock = threading.Lock()


def _cached_get(url: str, *, fresh: bool = False) -> dict[str, Any]:
    now = time.monotonic()
    with _metadata_lock:
        kept = _metadata.get(url)
    if kept is not None and not fresh and now - kept[0] < METADATA_TTL_S:
        return kept[1]
    with _http() as http:
        response = http.get(url)
        response.raise_for_status()
        data: dict[str, Any] = response.json()
    with _metadata_lock:
        _metadata[url] = (now, data)
    return data


def _discovery() -> dict[str, Any]:
    data = _cached_get(f"{issuer()}/.well-known/openid-configuration", fresh=TRANSPORT is not None)
    if data.get("issuer") != issuer():
        raise SignInFailed("The identity provider answered with a different issuer.")
    return data


def authorization_url(*, session: SessionBase, next_url: str, acr: str | None) -> str:
    """Where to send the browser to sign in; remembers state, nonce and PKCE verifier in the session."""
    callback = redirect_uri()
    verifier = generate_token(64)
    state = secrets.token_urlsafe(24)
    nonce = secrets.token_urlsafe(24)
    session[FLOW_KEY] = {
        "state": state,
        "nonce": nonce,
        "verifier": verifier,
        "next": next_url,
        "redirect_uri": callback,
        "at": time.time(),
    }
    client = OAuth2Client(client_id=CLIENT_ID, redirect_uri=callback, scope=SCOPE)
    extra = {"acr_values": acr} if acr else {}
    url, _ = client.create_authorization_url(
        f"{issuer()}/oidc/authorize",
        state=state,
        nonce=nonce,
        code_challenge=create_s256_code_challenge(verifier),
        code_challenge_method="S256",
        **extra,
    )
    return str(url)


def complete(*, session: SessionBase, query: dict[str, str]) -> tuple[dict[str, Any], str, str]:
    """Finish the code flow: (ID-token claims with the name from userinfo, the raw ID token, where next)."""
    flow = session.pop(FLOW_KEY, None)
    if not flow or time.time() - float(flow["at"]) > 900:
        raise SignInFailed("The sign-in took too long or was started elsewhere. Please start again.")
    if not secrets.compare_digest(str(query.get("state", "")), flow["state"]):
        raise SignInFailed("The sign-in answer does not belong to this browser. Please start again.")
    if query.get("error"):
        if query["error"] == "access_denied":
            raise SignInFailed("You chose not to share your data, so you are not signed in.")
        raise SignInFailed(f"The identity provider refused the sign-in ({query['error']}).")
    meta = _discovery()
    token_endpoint = meta["token_endpoint"]
    with OAuth2Client(
        client_id=CLIENT_ID,
        client_secret=_key(),
        token_endpoint_auth_method=_client_auth(),
        redirect_uri=flow["redirect_uri"],
        transport=TRANSPORT,
        timeout=10.0,
        verify=_tls(),
    ) as client:
        try:
            token = client.fetch_token(
                token_endpoint,
                grant_type="authorization_code",
                code=query.get("code", ""),
                code_verifier=flow["verifier"],
            )
        except Exception as error:  # Authlib raises its OAuthError, httpx2 its transport errors
            raise SignInFailed(f"The identity provider did not issue a token: {error}") from error
        profile_response = client.get(
            meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token.get('access_token', '')}"}
        )
    raw = str(token.get("id_token") or "")
    try:
        try:
            keys = KeySet.import_key_set(_cached_get(meta["jwks_uri"], fresh=TRANSPORT is not None))  # type: ignore[arg-type]
            decoded = jwt.decode(raw, keys, algorithms=["ES256"])
        except JoseError:
            keys = KeySet.import_key_set(_cached_get(meta["jwks_uri"], fresh=True))  # type: ignore[arg-type]
            decoded = jwt.decode(raw, keys, algorithms=["ES256"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": issuer()},
            aud={"essential": True, "value": CLIENT_ID},
            nonce={"essential": True, "value": flow["nonce"]},
            sub={"essential": True},
            exp={"essential": True},
        ).validate(decoded.claims)
    except (JoseError, ValueError) as error:
        raise SignInFailed(f"The identity token could not be verified: {error}") from error
    claims = dict(decoded.claims)
    session[TOKENS_KEY] = _kept(token)
    profile = profile_response.json() if profile_response.status_code == 200 else {}
    if profile.get("sub") == claims["sub"]:  # OpenID Connect Core §5.3.2: never mix two people's claims
        claims["name"] = profile.get("name", "")
    return claims, raw, str(flow["next"])


def _kept(token: Any) -> dict[str, Any]:
    """What the portal keeps of a token response, server-side in the session: the access token to
    act for the person (exchanged for a person assertion when they ask for something) and the
    refresh token to renew it."""
    return {
        "access_token": str(token.get("access_token") or ""),
        "refresh_token": str(token.get("refresh_token") or ""),
        "expires_at": float(token.get("expires_at") or time.time() + float(token.get("expires_in") or 0)),
    }


def access_token(tokens: dict[str, Any]) -> str:
    """A live access token from the kept ``tokens``, refreshed at the provider when it is about to
    end (``tokens`` is updated in place; the caller marks the session modified). Empty when the
    provider will not renew it: the person has to sign in again to act."""
    if tokens.get("access_token") and float(tokens.get("expires_at") or 0) - TOKEN_MARGIN_S > time.time():
        return str(tokens["access_token"])
    if not tokens.get("refresh_token"):
        return ""
    try:
        token_endpoint = _discovery()["token_endpoint"]
        with OAuth2Client(
            client_id=CLIENT_ID,
            client_secret=_key(),
            token_endpoint_auth_method=_client_auth(),
            transport=TRANSPORT,
            timeout=10.0,
            verify=_tls(),
        ) as client:
            token = client.refresh_token(token_endpoint, refresh_token=str(tokens["refresh_token"]))
    except OAuthError:
        # The provider refused (the refresh token ended or was revoked): only a new sign-in helps.
        tokens.clear()
        return ""
    except Exception:  # httpx2's transport errors, SignInFailed from _discovery
        # The provider is unreachable: the person acts without a live token now (an action that
        # needs one says "sign in again" instead of the page failing) and the next POST retries.
        logger.warning("the provider did not renew an access token", exc_info=True)
        return ""
    tokens.update(_kept(token))
    return str(tokens["access_token"])
