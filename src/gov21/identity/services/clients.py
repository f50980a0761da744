"""Relying parties: the agency systems that sign people in through the identity provider."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_noop

from gov21.core.crypto import hash_token, random_token
from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.identity.models import (
    OAuthToken,
    RelyingParty,
)

_CLIENT_ID_RE = re.compile(r"[a-z0-9][a-z0-9._-]{2,63}")
_SECTOR_RE = re.compile(r"[a-z0-9][a-z0-9._-]{1,63}")


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    client_id: str
    secret: str | None


# Stored in English, as every relying party's purpose is; the pages that show it translate it.
PORTAL_PURPOSE = gettext_noop("Sign you in to the public services portal and show you your account")


def _check_uri(uri: str, *, field: str) -> str:
    parsed = urlsplit(uri)
    local = parsed.hostname in ("127.0.0.1", "localhost", "::1")
    if parsed.scheme not in ("https", "http") or (parsed.scheme == "http" and not local) or not parsed.netloc:
        raise DomainError("invalid_uri", f"{uri!r} is not an https URL (plain http only on loopback).", field=field)
    if parsed.fragment:
        raise DomainError("invalid_uri", f"{uri!r} must not carry a fragment.", field=field)
    return uri


@transaction.atomic
def client_register(
    *,
    client_id: str,
    name: str,
    agency: str,
    sector: str,
    purpose: str,
    redirect_uris: list[str],
    scopes: list[str],
    auth_method: str,
    jwks: dict[str, Any] | None,
    post_logout_redirect_uris: list[str] | None = None,
    may_introspect: bool = False,
    id_token_signed_response_alg: str = "ES256",  # noqa: S107 - an algorithm name, not a secret
    created_by: str,
) -> RegisteredClient:
    """Register an agency system. ``private_key_jwt`` needs its public keys; ``client_secret_basic``
    (development only) gets a generated secret, shown once."""
    from joserfc.errors import JoseError
    from joserfc.jwk import KeySet

    from gov21.identity.oidc import ID_TOKEN_ALGS, SCOPES

    if not _CLIENT_ID_RE.fullmatch(client_id):
        raise DomainError(
            "invalid_client_id", "Use 3-64 lower-case letters, digits, '.', '_' or '-'.", field="client_id"
        )
    if RelyingParty.objects.filter(client_id=client_id).exists():
        raise Conflict("client_exists", f"A client {client_id!r} is already registered.", field="client_id")
    if not _SECTOR_RE.fullmatch(sector):
        raise DomainError("invalid_sector", "A sector is a short lower-case name such as 'health'.", field="sector")
    if not name.strip() or not agency.strip() or len(purpose.strip()) < 5:
        raise DomainError("missing_fields", "Name, agency and a purpose people can read are required.", field="purpose")
    if not redirect_uris:
        raise DomainError("invalid_uri", "At least one redirect URI is required.", field="redirect_uris")
    if id_token_signed_response_alg not in ID_TOKEN_ALGS:
        raise DomainError(
            "invalid_id_token_alg",
            f"ID tokens are signed with one of {', '.join(ID_TOKEN_ALGS)}.",
            field="id_token_signed_response_alg",
        )
    uris = [_check_uri(u, field="redirect_uris") for u in redirect_uris]
    logout_uris = [_check_uri(u, field="post_logout_redirect_uris") for u in post_logout_redirect_uris or []]
    unknown = sorted(set(scopes) - set(SCOPES))
    if unknown or "openid" not in scopes:
        raise DomainError(
            "invalid_scope", f"Scopes must include openid and come from {', '.join(SCOPES)}.", field="scopes"
        )
    secret: str | None = None
    secret_hash = ""
    if auth_method == RelyingParty.AuthMethod.PRIVATE_KEY_JWT:
        try:
            keys = KeySet.import_key_set(jwks or {})  # type: ignore[arg-type]
        except (JoseError, ValueError, TypeError, KeyError) as error:
            raise DomainError("invalid_jwks", f"The public keys are not a valid JWKS: {error}", field="jwks") from error
        private_members = {"d", "p", "q", "dp", "dq", "qi", "k"}
        raw_keys = (jwks or {}).get("keys") or []
        has_private = any(isinstance(k, dict) and private_members & set(k) for k in raw_keys)
        if not keys.keys or has_private or any(k.is_private for k in keys.keys):
            raise DomainError("invalid_jwks", "Give one or more public keys, never a private key.", field="jwks")
    elif auth_method == RelyingParty.AuthMethod.CLIENT_SECRET_BASIC:
        secret = random_token(32)
        secret_hash = hash_token(secret)
        jwks = None
    else:
        raise DomainError("invalid_auth_method", "Use private_key_jwt (or client_secret_basic for development).")
    RelyingParty.objects.create(
        client_id=client_id,
        name=name.strip(),
        agency=agency.strip(),
        sector=sector,
        purpose=purpose.strip(),
        redirect_uris=uris,
        post_logout_redirect_uris=logout_uris,
        allowed_scopes=[s for s in SCOPES if s in scopes],
        auth_method=auth_method,
        jwks=jwks,
        secret_hash=secret_hash,
        may_introspect=may_introspect,
        id_token_signed_response_alg=id_token_signed_response_alg,
        created_at=timezone.now(),
        created_by=created_by,
    )
    return RegisteredClient(client_id=client_id, secret=secret)


@transaction.atomic
def builtin_client_ensure(
    *, client_id: str, name: str, sector: str, redirect_uri: str, post_logout_uri: str, jwks: dict[str, Any]
) -> None:
    """Keep gov21's own portal registered as a relying party at the one address configuration gives;
    an address of an earlier configuration stops being accepted."""
    row = RelyingParty.objects.select_for_update().filter(client_id=client_id).first()
    if row is None:
        RelyingParty.objects.create(
            client_id=client_id,
            name=name,
            agency=str(getattr(settings, "GOV21_COUNTRY_NAME", "gov21")),
            sector=sector,
            purpose=PORTAL_PURPOSE,
            redirect_uris=[redirect_uri],
            post_logout_redirect_uris=[post_logout_uri],
            allowed_scopes=["openid", "profile"],
            auth_method=RelyingParty.AuthMethod.PRIVATE_KEY_JWT,
            jwks=jwks,
            created_at=timezone.now(),
            created_by="gov21",
        )
        return
    changed = False
    if row.redirect_uris != [redirect_uri]:
        row.redirect_uris = [redirect_uri]
        changed = True
    if row.post_logout_redirect_uris != [post_logout_uri]:
        row.post_logout_redirect_uris = [post_logout_uri]
        changed = True
    if row.jwks != jwks:
        row.jwks = jwks
        changed = True
    if changed:
        row.save(update_fields=["redirect_uris", "post_logout_redirect_uris", "jwks"])


@transaction.atomic
def client_disable(*, client_id: str) -> None:
    """Stop an agency system at once: no new sign-ins, and every token it holds stops working."""
    now = timezone.now()
    client = RelyingParty.objects.select_for_update().filter(client_id=client_id).first()
    if client is None:
        raise NotFound("client_not_found", f"No client {client_id!r}.")
    if client.disabled_at is None:
        client.disabled_at = now
        client.save(update_fields=["disabled_at"])
    OAuthToken.objects.filter(client=client, revoked_at__isnull=True).update(revoked_at=now)
