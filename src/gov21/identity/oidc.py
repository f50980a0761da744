"""The OpenID Connect provider, built on Authlib's authorization server.

Authlib does the protocol: parsing and validating authorization and token requests, PKCE, client
authentication with ``private_key_jwt`` (RFC 7523) and ``client_secret_basic``, ID-token encoding,
refresh, revocation (RFC 7009), introspection (RFC 7662) and RP-initiated logout. This module
supplies what only gov21 knows: clients, codes and tokens in its database (hashed), the signed-in
person and the level of assurance reached, pairwise subjects per sector, and the stricter rules
(PKCE with S256 for every client, ``jti`` replay detection, refresh-token rotation with reuse
detection).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
import warnings
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from authlib.common.security import generate_token
from authlib.integrations.django_oauth2 import AuthorizationServer
from authlib.oauth2.rfc6749 import ClientMixin, InvalidClientError, InvalidRequestError, TokenMixin
from authlib.oauth2.rfc6749.grants import AuthorizationCodeGrant, RefreshTokenGrant
from authlib.oauth2.rfc6750 import BearerTokenGenerator
from authlib.oauth2.rfc7009 import RevocationEndpoint
from authlib.oauth2.rfc7523 import JWTBearerClientAssertion
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oauth2.rfc7662 import IntrospectionEndpoint
from authlib.oidc.core import UserInfo
from authlib.oidc.core.grants import OpenIDCode
from authlib.oidc.rpinitiated import EndSessionEndpoint
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from joserfc import jwt
from joserfc.errors import JoseError, SecurityWarning
from joserfc.jwk import KeySet

from gov21.core.crypto import b64url_encode, hash_token
from gov21.core.queries import execute, insert_row, raw_one, scalar
from gov21.identity import levels, oidc_keys
from gov21.identity.models import Account, AssertionJti, AuthorizationCode, OAuthToken, RelyingParty, Subject

CODE_LIFETIME = timedelta(minutes=2)
NONCE_MEMORY = timedelta(hours=1)
CODE_KEPT = timedelta(days=1)  # used codes are kept this long to detect a second use, then purged
PURGE_ONE_IN = 64
ACCESS_TOKEN_SECONDS = 600
REFRESH_TOKEN_LIFETIME = timedelta(hours=12)
ID_TOKEN_SECONDS = 600
ASSERTION_MAX_LIFETIME = 3660  # an hour (Authlib's and most libraries' default) and a minute of skew
AUTH_METHODS = ["private_key_jwt", "client_secret_basic"]
SCOPES = ["openid", "profile", "address", "email", "phone", "uin"]
ID_TOKEN_ALGS = list(oidc_keys.ALGORITHMS)
# What a client may sign its private_key_jwt assertion with: published in the discovery document and
# passed to the decoder as the only algorithms it may use, so the two cannot drift apart. Never HS*
# (a client's public key must not become an HMAC secret) and never "none".
ASSERTION_ALGS = ["ES256", "RS256", "PS256", "EdDSA"]

# joserfc warns on every "EdDSA" because RFC 9864 prefers "Ed25519"; deployed client libraries send
# "EdDSA", and a warning per token request would bury the logs.
warnings.filterwarnings("ignore", message="EdDSA is deprecated", category=SecurityWarning)


def issuer() -> str:
    return str(settings.BASE_URL).rstrip("/")


@dataclass(frozen=True, slots=True)
class SignedIn:
    """The person an authorization is for, and how they proved it."""

    account: Account
    acr: str
    amr: list[str] = field(default_factory=list)
    auth_time: int = 0
    sector: str = ""
    # When the person last proved who they are from nothing (a password, or a passkey on its own), to
    # the microsecond; a step-up on an existing sign-in does not move it. prompt=login and max_age
    # are judged by it.
    signed_in_at: float = 0.0

    def get_user_id(self) -> int:
        return self.account.pk


_SUBJECT_SQL = f"SELECT sub FROM {Subject._meta.db_table} WHERE account_id = %s AND sector = %s"  # noqa: S608
_NONCE_SQL = f"SELECT 1 FROM {AuthorizationCode._meta.db_table} WHERE client_id = %s AND nonce = %s AND expires_at > %s"  # noqa: S608
_CLAIM_CODE_SQL = f"UPDATE {AuthorizationCode._meta.db_table} SET used_at = %s WHERE id = %s AND used_at IS NULL"  # noqa: S608
_CLAIM_REFRESH_SQL = f"UPDATE {OAuthToken._meta.db_table} SET revoked_at = %s WHERE id = %s AND revoked_at IS NULL"  # noqa: S608


def _when(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _pairwise(account_id: int, sector: str) -> str:
    digest = hmac.new(oidc_keys.pairwise_secret(), f"{sector}\0{account_id}".encode(), hashlib.sha256).digest()
    return b64url_encode(digest[:24])


def subject_for(account_id: int, sector: str) -> str:
    """The pairwise ``sub`` of an account in a sector: an HMAC no two sectors can link."""
    existing = scalar(_SUBJECT_SQL, [account_id, sector])
    if existing is not None:
        return str(existing)
    sub = _pairwise(account_id, sector)
    try:
        with transaction.atomic():
            Subject.objects.create(account_id=account_id, sector=sector, sub=sub)
    except IntegrityError:  # created by a concurrent request: same value
        pass
    return sub


def subject_is(account_id: int, sector: str, sub: str) -> bool:
    """Whether ``sub`` is the account's pairwise subject in ``sector``, without writing it down (it is
    asked on a sign-out request, which may be anyone's link)."""
    existing = scalar(_SUBJECT_SQL, [account_id, sector])
    return hmac.compare_digest(str(existing) if existing is not None else _pairwise(account_id, sector), sub)


# --- Authlib model adapters ---------------------------------------------------------------------------


class Client(ClientMixin):  # type: ignore[misc]
    def __init__(self, row: RelyingParty) -> None:
        self.row = row
        self.client_id = row.client_id
        self.client_metadata = {
            "post_logout_redirect_uris": list(row.post_logout_redirect_uris),
            "id_token_signed_response_alg": row.id_token_signed_response_alg,
        }

    def get_client_id(self) -> str:
        return self.row.client_id

    def get_default_redirect_uri(self) -> str | None:
        return None  # the redirect URI must always be sent, and must match exactly

    def get_allowed_scope(self, scope: str) -> str:
        allowed = set(self.row.allowed_scopes)
        return " ".join(s for s in scope.split() if s in allowed)

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.row.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return bool(self.row.secret_hash) and hmac.compare_digest(self.row.secret_hash, hash_token(client_secret))

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == self.row.auth_method

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type in ("authorization_code", "refresh_token")


class Token(TokenMixin):  # type: ignore[misc]
    def __init__(self, row: OAuthToken) -> None:
        self.row = row

    def check_client(self, client: Client) -> bool:
        return bool(self.row.client_id == client.row.pk)

    def get_scope(self) -> str:
        return self.row.scope

    def get_expires_in(self) -> int:
        return int((self.row.expires_at - self.row.issued_at).total_seconds())

    def is_expired(self) -> bool:
        return bool(self.row.expires_at <= timezone.now())

    def is_revoked(self) -> bool:
        return self.row.revoked_at is not None

    def get_user(self) -> Account:
        return self.row.account

    def get_client(self) -> Client:
        return Client(self.row.client)


class Code:
    def __init__(self, row: AuthorizationCode) -> None:
        self.row = row
        self.code_challenge = row.code_challenge
        self.code_challenge_method = row.code_challenge_method

    def get_redirect_uri(self) -> str:
        return self.row.redirect_uri

    def get_scope(self) -> str:
        return self.row.scope

    def get_nonce(self) -> str | None:
        return self.row.nonce or None

    def get_auth_time(self) -> int:
        return self.row.auth_time

    def get_acr(self) -> str:
        return self.row.acr

    def get_amr(self) -> list[str]:
        return list(self.row.amr)


def _revoke_family(family: str) -> None:
    if family:
        OAuthToken.objects.filter(family=family, revoked_at__isnull=True).update(revoked_at=timezone.now())


def _purge_sometimes() -> None:
    """Now and then, drop remembered assertion ids past their expiry and codes past any use."""
    if secrets.randbelow(PURGE_ONE_IN):
        return
    now = timezone.now()
    AssertionJti.objects.filter(expires_at__lt=now - timedelta(minutes=5)).delete()
    AuthorizationCode.objects.filter(expires_at__lt=now - CODE_KEPT).delete()


# --- grants and extensions ----------------------------------------------------------------------------


class S256Challenge(CodeChallenge):  # type: ignore[misc]
    """PKCE is required of every client, with S256 only (``plain`` protects nothing)."""

    SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]

    def validate_code_challenge(self, grant: Any, redirect_uri: str) -> None:
        data = grant.request.payload.data
        if not data.get("code_challenge"):
            raise InvalidRequestError("PKCE is required: send code_challenge.", redirect_uri=redirect_uri)
        if data.get("code_challenge_method") != "S256":
            raise InvalidRequestError("code_challenge_method must be S256.", redirect_uri=redirect_uri)
        super().validate_code_challenge(grant, redirect_uri)


class CodeGrant(AuthorizationCodeGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS

    def save_authorization_code(self, code: str, request: Any) -> None:
        user: SignedIn = request.user
        data = request.payload.data
        insert_row(
            AuthorizationCode,
            code_hash=hash_token(code),
            client_id=request.client.row.pk,
            account_id=user.account.pk,
            redirect_uri=request.payload.redirect_uri,
            scope=request.payload.scope or "",
            nonce=data.get("nonce") or "",
            code_challenge=data.get("code_challenge") or "",
            code_challenge_method=data.get("code_challenge_method") or "",
            acr=user.acr,
            amr=user.amr,
            auth_time=user.auth_time,
            expires_at=timezone.now() + CODE_LIFETIME,
            family="",
        )

    def query_authorization_code(self, code: str, client: Client) -> Code | None:
        row = raw_one(AuthorizationCode, "code_hash = %s AND client_id = %s", [hash_token(code), client.row.pk])
        if row is None:
            return None
        now = timezone.now()
        # Claim the code in one conditional update: of two requests racing with it, exactly one wins.
        # A second use is refused and withdraws what the first obtained (once the first has finished).
        if not execute(_CLAIM_CODE_SQL, [_when(now), row.pk]):
            _revoke_family(row.family)
            return None
        if row.expires_at <= now:
            return None
        account = raw_one(Account, "id = %s", [row.account_id])
        if account is None:
            return None
        row.account = account
        row.client = client.row
        _purge_sometimes()
        return Code(row)

    def delete_authorization_code(self, authorization_code: Code) -> None:
        # Already marked used when claimed; record which tokens it produced.
        AuthorizationCode.objects.filter(pk=authorization_code.row.pk).update(family=self.request.token_family)

    def authenticate_user(self, authorization_code: Code) -> SignedIn | None:
        row = authorization_code.row
        if row.account.status != Account.Status.ACTIVE:
            return None
        self.request.token_family = generate_token(24)
        return SignedIn(
            account=row.account, acr=row.acr, amr=list(row.amr), auth_time=row.auth_time, sector=row.client.sector
        )


class RefreshGrant(RefreshTokenGrant):  # type: ignore[misc]
    TOKEN_ENDPOINT_AUTH_METHODS = AUTH_METHODS
    INCLUDE_NEW_REFRESH_TOKEN = True

    def authenticate_refresh_token(self, refresh_token: str) -> Token | None:
        row = (
            OAuthToken.objects.select_related("account", "client")
            .filter(refresh_hash=hash_token(refresh_token))
            .first()
        )
        if row is None:
            return None
        now = timezone.now()
        if row.refresh_expires_at is None or row.refresh_expires_at <= now:
            return None
        # Rotation claims the old token in one conditional update, so two racing refreshes cannot both
        # succeed; a rotated-out refresh token that comes back means it was copied: end the whole grant.
        if not execute(_CLAIM_REFRESH_SQL, [_when(now), row.pk]):
            _revoke_family(row.family)
            return None
        return Token(row)

    def authenticate_user(self, refresh_token: Token) -> SignedIn | None:
        row = refresh_token.row
        if row.account.status != Account.Status.ACTIVE:
            return None
        self.request.token_family = row.family
        return SignedIn(account=row.account, acr=row.acr, amr=list(row.amr), auth_time=row.auth_time)

    def revoke_old_credential(self, refresh_token: Token) -> None:
        return None  # revoked when it was claimed in authenticate_refresh_token


def _id_token_alg(client: Client) -> str:
    alg = client.row.id_token_signed_response_alg
    return alg if alg in ID_TOKEN_ALGS else oidc_keys.ES256


class IdToken(OpenIDCode):  # type: ignore[misc]
    """ID tokens signed with the algorithm the client registered (ES256 unless it asked for RS256)."""

    def resolve_client_private_key(self, client: Client) -> Any:
        return oidc_keys.signing_key(_id_token_alg(client))[1]

    def get_client_algorithm(self, client: Client) -> str:
        return _id_token_alg(client)

    def get_encode_header(self, client: Client) -> dict[str, str]:
        alg = _id_token_alg(client)
        return {"alg": alg, "kid": oidc_keys.signing_key(alg)[0], "typ": "JWT"}

    def get_client_claims(self, client: Client) -> dict[str, Any]:
        now = int(time.time())
        return {"iss": issuer(), "aud": client.row.client_id, "iat": now, "exp": now + ID_TOKEN_SECONDS}

    def exists_nonce(self, nonce: str, request: Any) -> bool:
        # A replayed authorization request: the same nonce in a code of this client that is still recent.
        client = request.client.row if getattr(request, "client", None) is not None else None
        if client is None:
            return False
        return scalar(_NONCE_SQL, [client.pk, nonce, _when(timezone.now() - NONCE_MEMORY)]) is not None

    def generate_user_info(self, user: SignedIn, scope: str) -> UserInfo:
        # The ID token names the person (pairwise) and how they signed in; claims come from userinfo.
        return UserInfo(sub=subject_for(user.account.pk, user.sector))


class PrivateKeyJwt(JWTBearerClientAssertion):  # type: ignore[misc]
    CLIENT_AUTH_METHOD = "private_key_jwt"

    def get_audiences(self) -> list[str]:
        # The issuer alone, as the OpenID Foundation now advises (and RFC 7523bis requires): an
        # assertion naming an endpoint URL can be replayed by whoever serves that URL, for instance
        # a look-alike provider the client was tricked into using.
        return [issuer()]

    def process_assertion_claims(self, assertion: str, resolve_key: Any) -> Any:
        # Decoded with exactly the algorithms the discovery document advertises: the library's own
        # default ("recommended" algorithms) refused PS256 and EdDSA and let HS256 through.
        try:
            token = jwt.decode(assertion, resolve_key, algorithms=ASSERTION_ALGS)
        except JoseError as error:
            raise InvalidClientError(description=error.description) from error
        if not isinstance(token.claims.get("aud"), str):
            raise InvalidClientError(description="The assertion's aud must be the issuer, as a single string.")
        self.verify_claims(token.claims)
        return token.claims

    def resolve_client_public_key(self, client: Client) -> KeySet:
        if client.row.jwks:
            return KeySet.import_key_set(client.row.jwks)
        raise InvalidRequestError("This client has no registered public keys.")

    def validate_jti(self, claims: Any, jti: str) -> bool:
        exp = int(claims["exp"])
        if exp - int(time.time()) > ASSERTION_MAX_LIFETIME:
            # Short-lived assertions bound how long each jti must be remembered.
            raise InvalidClientError(description="The client assertion must expire within an hour.")
        try:
            with transaction.atomic():
                insert_row(
                    AssertionJti,
                    client_id=str(claims["sub"])[:64],
                    jti=str(jti).replace("\x00", "")[:200],
                    expires_at=datetime.fromtimestamp(exp, tz=UTC),
                )
        except IntegrityError:
            return False
        return True


class Revocation(RevocationEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _token_by_string(token_string, token_type_hint)

    def revoke_token(self, token: Token, request: Any) -> None:
        # Revoking either token of a grant ends the grant: every access and refresh token in its family.
        _revoke_family(token.row.family)
        OAuthToken.objects.filter(pk=token.row.pk).update(revoked_at=timezone.now())


class Introspection(IntrospectionEndpoint):  # type: ignore[misc]
    CLIENT_AUTH_METHODS = AUTH_METHODS

    def query_token(self, token_string: str, token_type_hint: str | None) -> Token | None:
        return _token_by_string(token_string, token_type_hint)

    def check_permission(self, token: Token, client: Client, request: Any) -> bool:
        return bool(token.row.client_id == client.row.pk or client.row.may_introspect)

    def introspect_token(self, token: Token) -> dict[str, Any]:
        row = token.row
        active = row.account.status == Account.Status.ACTIVE and row.client.disabled_at is None
        return {
            "active": active,
            "client_id": row.client.client_id,
            "token_type": "Bearer",
            "scope": row.scope,
            "sub": subject_for(row.account_id, row.client.sector),
            "aud": row.client.client_id,
            "iss": issuer(),
            "exp": int(row.expires_at.timestamp()),
            "iat": int(row.issued_at.timestamp()),
            "acr": row.acr,
        }


class EndSession(EndSessionEndpoint):  # type: ignore[misc]
    def get_server_jwks(self) -> KeySet:
        return oidc_keys.key_set()

    def get_algorithms(self) -> list[str]:
        return ID_TOKEN_ALGS

    def end_session(self, end_session_request: Any) -> None:
        request = end_session_request.request._request
        request.session.flush()


def _token_by_string(token_string: str, hint: str | None) -> Token | None:
    digest = hash_token(token_string)
    rows = OAuthToken.objects.select_related("account", "client")
    row = None
    if hint != "refresh_token":
        row = rows.filter(access_hash=digest).first()
    if row is None:
        row = rows.filter(refresh_hash=digest).first()
    return Token(row) if row is not None else None


class Server(AuthorizationServer):  # type: ignore[misc]
    def __init__(self) -> None:
        super().__init__(RelyingParty, OAuthToken)

    def load_config(self, config: dict[str, Any]) -> None:
        self.config: dict[str, Any] = {}
        self.scopes_supported = SCOPES
        self.register_token_generator(
            "default",
            BearerTokenGenerator(
                access_token_generator=lambda **_: generate_token(43),
                refresh_token_generator=lambda **_: generate_token(48),
                expires_generator=lambda client, grant_type: ACCESS_TOKEN_SECONDS,
            ),
        )

    def query_client(self, client_id: str) -> Client | None:
        if not isinstance(client_id, str) or "\x00" in client_id or len(client_id) > 64:
            return None  # cannot be a registered id (and PostgreSQL refuses NUL in text)
        row = raw_one(RelyingParty, "client_id = %s AND disabled_at IS NULL", [client_id])
        return Client(row) if row is not None else None

    def save_token(self, token: dict[str, Any], request: Any) -> None:
        user: SignedIn = request.user
        now = timezone.now()
        insert_row(
            OAuthToken,
            client_id=request.client.row.pk,
            account_id=user.account.pk,
            family=getattr(request, "token_family", "") or generate_token(24),
            access_hash=hash_token(token["access_token"]),
            refresh_hash=hash_token(token["refresh_token"]) if token.get("refresh_token") else None,
            scope=token.get("scope", ""),
            acr=user.acr,
            amr=user.amr,
            auth_time=user.auth_time,
            issued_at=now,
            expires_at=now + timedelta(seconds=int(token["expires_in"])),
            refresh_expires_at=now + REFRESH_TOKEN_LIFETIME if token.get("refresh_token") else None,
        )

    def send_signal(self, name: str, *args: Any, **kwargs: Any) -> None:
        return None


def _build() -> Server:
    server = Server()
    server.register_client_auth_method(PrivateKeyJwt.CLIENT_AUTH_METHOD, PrivateKeyJwt(leeway=30))
    server.register_grant(CodeGrant, [S256Challenge(required=True), IdToken(require_nonce=False)])
    server.register_grant(RefreshGrant)
    server.register_endpoint(Revocation)
    server.register_endpoint(Introspection)
    server.register_endpoint(EndSession)
    return server


server = _build()


def discovery() -> dict[str, Any]:
    base = issuer()
    return {
        "issuer": base,
        "authorization_endpoint": f"{base}/oidc/authorize",
        "token_endpoint": f"{base}/oidc/token",
        "userinfo_endpoint": f"{base}/oidc/userinfo",
        "jwks_uri": f"{base}/oidc/jwks.json",
        "revocation_endpoint": f"{base}/oidc/revoke",
        "introspection_endpoint": f"{base}/oidc/introspect",
        "end_session_endpoint": f"{base}/oidc/end-session",
        "scopes_supported": SCOPES,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query"],
        "grant_types_supported": ["authorization_code", "refresh_token"],
        "subject_types_supported": ["pairwise"],
        "id_token_signing_alg_values_supported": ID_TOKEN_ALGS,
        "token_endpoint_auth_methods_supported": AUTH_METHODS,
        "token_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "revocation_endpoint_auth_methods_supported": AUTH_METHODS,
        "revocation_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "introspection_endpoint_auth_methods_supported": AUTH_METHODS,
        "introspection_endpoint_auth_signing_alg_values_supported": ASSERTION_ALGS,
        "code_challenge_methods_supported": ["S256"],
        "acr_values_supported": list(levels.ORDER),
        "claims_supported": [
            "sub",
            "acr",
            "amr",
            "auth_time",
            "name",
            "given_name",
            "family_name",
            "birthdate",
            "gender",
            "address",
            "email",
            "email_verified",
            "phone_number",
            "phone_number_verified",
            "uin",
        ],
        # Absent would mean "supported" for request_uri (Discovery §3): each is stated.
        "claims_parameter_supported": False,
        "request_parameter_supported": False,
        "request_uri_parameter_supported": False,
        "ui_locales_supported": ["en"],
    }
