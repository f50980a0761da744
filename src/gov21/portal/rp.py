"""The portal as an ordinary relying party of gov21's OpenID Connect provider.

It signs people in with the authorization code flow, PKCE, ``state`` and ``nonce``, authenticates to
the token endpoint with ``private_key_jwt`` (Authlib's client), checks the ID token against the
provider's published keys, and only then opens a portal session. Nothing here reads the provider's
tables: it speaks the protocol, like any agency system would.

The provider is part of the same deployment, so by default (``GOV21_PORTAL_PROVIDER_TRANSPORT``
``in-process``) those protocol calls go to this process's own application through
``core.http.InProcessTransport``, on a small bounded pool of threads, instead of over a socket to
its own server, where a sign-in would hold one of the server's threads while waiting for another.
With ``http`` they go to ``GOV21_BASE_URL`` on one bounded connection pool per process. Either way a
provider that does not answer in time, or a pool that is full, makes the sign-in say "try again"
(503 with Retry-After) rather than fail or hang.
"""

from __future__ import annotations

import functools
import logging
import secrets
import ssl
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.cookiejar import CookieJar, DefaultCookiePolicy
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx2
from authlib.common.security import generate_token
from authlib.integrations.base_client.errors import OAuthError
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from django.conf import settings
from django.utils.translation import gettext, gettext_noop
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, KeySet

from gov21.core.crypto import private_file
from gov21.core.http import InProcessTransport
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

# A transport of the caller's choosing (tests: the provider in the test's own thread and database
# transaction); None: the one GOV21_PORTAL_PROVIDER_TRANSPORT names, one per process.
TRANSPORT: httpx2.BaseTransport | None = None
# What a person whose sign-in met a busy provider is told to wait before trying again.
RETRY_AFTER_S = 10


class SignInFailed(Exception):
    """The provider's answer could not be accepted; the message is safe to show."""


class ProviderBusy(SignInFailed):
    """The provider did not answer in time, or the calls to it are all taken: try again shortly."""

    def __init__(self) -> None:
        super().__init__(gettext("Many people are signing in at this moment. Please try again in a minute."))


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
        name=gettext_noop("Public services portal"),
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


class _Borrowed(httpx2.BaseTransport):
    """The process's transport lent to a short-lived client (Authlib's, built per call): closing
    that client must not close the pool every other sign-in uses."""

    def __init__(self, transport: httpx2.BaseTransport) -> None:
        self._transport = transport

    def handle_request(self, request: httpx2.Request) -> httpx2.Response:
        return self._transport.handle_request(request)

    def close(self) -> None:
        pass


def _timeout() -> httpx2.Timeout:
    return httpx2.Timeout(float(settings.GOV21_PORTAL_PROVIDER_TIMEOUT_S))


_transports: dict[str, httpx2.BaseTransport] = {}
_transports_lock = threading.Lock()


def _process_transport(mode: str) -> httpx2.BaseTransport:
    """The one transport to the provider of this process, of the configured kind."""
    with _transports_lock:
        kept = _transports.get(mode)
        if kept is not None:
            return kept
        threads = int(settings.GOV21_PORTAL_PROVIDER_THREADS)
        made: httpx2.BaseTransport
        if mode == "in-process":
            made = InProcessTransport(
                workers=threads,
                waiting=int(settings.GOV21_PORTAL_PROVIDER_QUEUE),
                timeout=float(settings.GOV21_PORTAL_PROVIDER_TIMEOUT_S),
                name="gov21-portal-provider",
            )
        else:
            # A call beyond the pool waits at most the timeout for a connection (httpx2.PoolTimeout).
            limits = httpx2.Limits(max_connections=threads, max_keepalive_connections=threads)
            made = httpx2.HTTPTransport(verify=_tls(), limits=limits)
        _transports[mode] = made
        return made


def transport() -> httpx2.BaseTransport:
    """How the portal reaches the provider now: the caller's override, or the process's transport."""
    if TRANSPORT is not None:
        return TRANSPORT
    return _process_transport(str(settings.GOV21_PORTAL_PROVIDER_TRANSPORT))


def transport_close() -> None:
    """Stops the process's transports (threads, connections); the next call starts them again."""
    with _transports_lock:
        kept = list(_transports.values())
        _transports.clear()
    for each in kept:
        each.close()


def _cookieless() -> CookieJar:
    # One client serves every person's sign-in: a cookie the provider set for one call must never
    # travel with the next, someone else's.
    return CookieJar(policy=DefaultCookiePolicy(allowed_domains=[]))


def _client_options() -> dict[str, Any]:
    """What every client to the provider shares: the process's transport (lent, not owned), the
    timeout, no cookies kept, and no proxy from the environment (the provider is this deployment)."""
    return {
        "transport": _Borrowed(transport()),
        "timeout": _timeout(),
        "cookies": _cookieless(),
        "trust_env": False,
    }


_client: tuple[httpx2.BaseTransport, httpx2.Client] | None = None
_client_lock = threading.Lock()


def _http() -> httpx2.Client:
    """The process's one HTTP client to the provider (thread-safe; never closed by its users)."""
    global _client
    current = transport()
    with _client_lock:
        if _client is None or _client[0] is not current:
            _client = (current, httpx2.Client(**_client_options()))
        return _client[1]


@contextmanager
def _asking(what: str) -> Iterator[None]:
    """Turns what can go wrong on the way to the provider into what the person is told."""
    try:
        yield
    except SignInFailed:
        raise
    except httpx2.TimeoutException as error:  # no answer in time, or every thread or connection taken
        logger.warning("the identity provider did not answer in time", exc_info=True)
        raise ProviderBusy from error
    except httpx2.HTTPStatusError as error:
        if error.response.status_code == 503:  # the provider itself is past its capacity
            raise ProviderBusy from error
        raise SignInFailed(f"{what}: {error}") from error
    except Exception as error:  # Authlib raises its OAuthError, httpx2 its transport errors
        raise SignInFailed(f"{what}: {error}") from error


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
    with _asking("The identity provider could not be reached"):
        response = _http().get(url)
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


def _tokens_and_profile(flow: dict[str, Any], *, code: str) -> tuple[dict[str, Any], httpx2.Response]:
    """The tokens for ``code`` (or those a first, interrupted try of this callback obtained, kept in
    ``flow``) and the provider's userinfo answer for them."""
    meta = _discovery()
    with OAuth2Client(
        client_id=CLIENT_ID,
        client_secret=_key(),
        token_endpoint_auth_method=_client_auth(),
        redirect_uri=flow["redirect_uri"],
        **_client_options(),
    ) as client:
        token: dict[str, Any] | None = flow.get("token")
        if token is None:
            with _asking("The identity provider did not issue a token"):
                token = dict(
                    client.fetch_token(
                        meta["token_endpoint"],
                        grant_type="authorization_code",
                        code=code,
                        code_verifier=flow["verifier"],
                    )
                )
            # The code is spent: a second try of this callback must not ask with it again.
            flow["token"] = token
        else:
            client.token = token
        with _asking("The identity provider did not say who signed in"):
            profile_response = client.get(
                meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {token.get('access_token', '')}"}
            )
            if profile_response.status_code == 503:
                profile_response.raise_for_status()
    return token, profile_response


def complete(*, session: SessionBase, query: dict[str, str]) -> tuple[dict[str, Any], str, str]:
    """Finish the code flow: (ID-token claims with the name from userinfo, the raw ID token, where next).

    When the provider is too busy to answer (:class:`ProviderBusy`), the sign-in is kept, with the
    tokens if they were already issued: the person is told to come back, and the same callback then
    finishes it, where starting again would have found the flow gone and the one-time code spent."""
    flow = session.pop(FLOW_KEY, None)
    if not flow or time.time() - float(flow["at"]) > 900:
        raise SignInFailed("The sign-in took too long or was started elsewhere. Please start again.")
    if not secrets.compare_digest(str(query.get("state", "")), flow["state"]):
        raise SignInFailed("The sign-in answer does not belong to this browser. Please start again.")
    if query.get("error"):
        if query["error"] == "access_denied":
            raise SignInFailed("You chose not to share your data, so you are not signed in.")
        raise SignInFailed(f"The identity provider refused the sign-in ({query['error']}).")
    try:
        return _finish(session=session, flow=flow, code=query.get("code", ""))
    except ProviderBusy:
        session[FLOW_KEY] = flow
        raise


def _finish(*, session: SessionBase, flow: dict[str, Any], code: str) -> tuple[dict[str, Any], str, str]:
    token, profile_response = _tokens_and_profile(flow, code=code)
    meta = _discovery()
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
            **_client_options(),
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
