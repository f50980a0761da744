"""The directory's signed configuration: what it holds for each node (members, subsystems, services,
rights, groups, nodes, trusted partner instances), its publication in the transaction of every change
(``gov21.exchange.services``), so a node never sees a right that is not yet committed, who may read
it, the trust anchor a partner instance is given, and how an access right's pattern matches a call."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
from collections.abc import Iterator, Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any, Final

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.db import transaction
from django.utils import timezone

from gov21.core import config
from gov21.core.crypto import jwk_thumbprint, sign_compact, unverified_compact, verify_compact_key
from gov21.core.errors import DomainError, Forbidden, Unauthenticated
from gov21.exchange import pki
from gov21.exchange.errors import XRoadError
from gov21.exchange.ids import ClientId
from gov21.exchange.models import (
    AccessRight,
    EventType,
    Group,
    Member,
    Node,
    PublishedConf,
    Service,
    SigningCert,
    Subsystem,
    TrustedInstance,
)

CONF_TYP: Final = "gov21-exchange-conf+jwt"
HTTP_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def instance_code() -> str:
    """The code of the instance this directory governs."""
    return config.INSTANCE.read()


def conf_key_path(instance: str) -> Path:
    return pki.keys_dir() / "conf" / f"{instance}.key"


def conf_public_key_pem(instance: str | None = None) -> str:
    return pki.public_key_pem(pki.private_key(conf_key_path(instance or instance_code())))


def client_parse(text: str, field: str) -> ClientId:
    """The client identifier in ``text``, or a ``DomainError`` on ``field``."""
    try:
        return ClientId.parse(text)
    except Exception as exc:
        raise DomainError("invalid_identifier", f"{text!r} is not a client identifier", field=field) from exc


def endpoints_of(openapi: dict[str, Any]) -> list[dict[str, str]]:
    """The service's endpoints as X-Road lists them: each OpenAPI path with ``{param}`` as ``*``."""
    result = []
    for path, item in sorted((openapi.get("paths") or {}).items()):
        if not isinstance(item, dict):
            continue
        xpath = "/".join("*" if part.startswith("{") and part.endswith("}") else part for part in path.split("/"))
        for method in HTTP_METHODS:
            if method.lower() in item:
                result.append({"method": method, "path": xpath})
    return result


def anchor_export(*, directory_url: str) -> dict[str, Any]:
    """What a partner needs to trust this instance: its CA, the key that signs its configuration,
    and where to fetch it. Exchanged out of band; compare the fingerprint by phone."""
    instance = instance_code()
    anchor = {
        "instance": instance,
        "directory": directory_url.rstrip("/"),
        "ca": pki.CertificateAuthority(instance).cert_pem(),
        "conf_key": conf_public_key_pem(instance),
    }
    return {**anchor, "fingerprint": anchor_fingerprint(anchor)}


def anchor_fingerprint(anchor: Mapping[str, object]) -> str:
    body = {k: anchor[k] for k in ("instance", "directory", "ca", "conf_key")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


CONF_REQUEST_TYP: Final = "gov21-exchange-conf-request+jwt"


CONF_REQUEST_SCHEME: Final = "Gov21-Node"


# A signed request is good for this long: enough for clock skew between machines, too short to be
# worth capturing.
CONF_REQUEST_MAX_S: Final = 300


# A request carries at most one certificate.
CONF_REQUEST_MAX_CHARS: Final = 16 * 1024


# What a partner instance's nodes do not get: the rights on our services and who is in our groups
# (our own gateways enforce them), our services' descriptions (a consumer asks the provider's node,
# listMethods), our other partners, our events. X-Road calls the rest "shared parameters".
PRIVATE_PARTS: Final = ("services", "rights", "groups", "trusted", "event_types")


def conf_for(*, authorization: str) -> str:
    """The signed configuration for the node that signed ``authorization`` (``Gov21-Node <JWS>``):
    the whole configuration for an approved node of this instance, the shared part for a node
    certified by a trusted partner's CA. Nobody else reads it."""
    scheme, _, token = authorization.strip().partition(" ")
    token = token.strip()
    if scheme != CONF_REQUEST_SCHEME or not token:
        raise Unauthenticated(
            "node_signature_missing",
            f"The configuration is given to gateway nodes only: sign the request ({CONF_REQUEST_SCHEME} <JWS>).",
        )
    instance = instance_code()
    try:
        _, claims = unverified_compact(token, typ=CONF_REQUEST_TYP, max_length=CONF_REQUEST_MAX_CHARS)
        issuer = str(claims.get("iss", ""))
        node_instance, _, code = issuer.partition("/")
        if claims.get("aud") != instance or not code:
            raise Unauthenticated(
                "node_signature_invalid", f"The request is not addressed to the directory of {instance}."
            )
        if node_instance == instance:
            key = _own_node_key(code)
            verified = verify_compact_key(token, key, typ=CONF_REQUEST_TYP, max_length=CONF_REQUEST_MAX_CHARS)
            shared = False
        else:
            cert_pem = _partner_node_cert(node_instance, issuer, claims.get("cert"))
            verified = verify_compact_key(
                token, pki.cert_public_key(cert_pem), typ=CONF_REQUEST_TYP, max_length=CONF_REQUEST_MAX_CHARS
            )
            shared = True
    except XRoadError as error:  # a certificate that cannot be read or holds another kind of key
        raise Forbidden("node_not_certified", f"The certificate sent cannot be used: {error.message}") from error
    except DomainError as error:
        if error.status in (401, 403):
            raise
        raise Unauthenticated("node_signature_invalid", f"The node's signature is not valid: {error.detail}") from error
    _fresh_request(verified)
    return conf_shared() if shared else conf_current()


def _own_node_key(code: str) -> Ed25519PublicKey:
    row = Node.objects.filter(instance=instance_code(), code=code).values_list("status", "auth_key_pem").first()
    if row is None or row[0] != Node.APPROVED:
        raise Forbidden("node_not_approved", f"Node {instance_code()}/{code} is not an approved node of this instance.")
    key = serialization.load_pem_public_key(row[1].encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise Forbidden("node_not_approved", f"Node {instance_code()}/{code} has no usable key.")
    return key


def _partner_node_cert(instance: str, issuer: str, cert_pem: object) -> str:
    """The authentication certificate a partner's node sent, if its instance's CA (from the anchor
    we trust) issued it to that very node."""
    trusted = TrustedInstance.objects.filter(instance=instance).values_list("anchor", flat=True).first()
    if trusted is None:
        raise Forbidden("instance_not_trusted", f"Instance {instance} is not federated with {instance_code()}.")
    if not isinstance(cert_pem, str) or not pki.issued_by(cert_pem, [str(trusted["ca"])]):
        raise Forbidden("node_not_certified", f"{issuer} sent no certificate issued by the CA of {instance}.")
    cert = pki.load_cert(cert_pem)
    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if not names or names[0].value != issuer:
        raise Forbidden("node_not_certified", f"The certificate sent is not that of {issuer}.")
    try:
        # A node's authentication certificate, not a member's signing certificate.
        usages = cert.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        usages = x509.ExtendedKeyUsage([])
    if ExtendedKeyUsageOID.CLIENT_AUTH not in usages:
        raise Forbidden("node_not_certified", "The certificate sent is not a node's authentication certificate.")
    return cert_pem


def _fresh_request(claims: Mapping[str, object]) -> None:
    now = timezone.now().timestamp()
    issued, expires = claims.get("iat"), claims.get("exp")
    if not isinstance(issued, int) or not isinstance(expires, int):
        raise Unauthenticated("node_signature_invalid", "The signed request has no iat and exp.")
    if expires - issued > CONF_REQUEST_MAX_S or issued > now + CONF_REQUEST_MAX_S:
        raise Unauthenticated(
            "node_signature_invalid", f"A signed request is valid for {CONF_REQUEST_MAX_S} seconds at most."
        )


def conf_request_token(*, key: Ed25519PrivateKey, node_ident: str, instance: str, cert_pem: str = "") -> str:
    """What a node sends to read ``instance``'s configuration: a short-lived request signed with
    its authentication key (with its certificate when ``instance`` is a partner's)."""
    now = int(timezone.now().timestamp())
    claims: dict[str, object] = {"iss": node_ident, "aud": instance, "iat": now, "exp": now + 60}
    if cert_pem:
        claims["cert"] = cert_pem
    return sign_compact(key, claims, typ=CONF_REQUEST_TYP, kid=jwk_thumbprint(key.public_key()))


_shared_cache: dict[tuple[str, int], str] = {}


def conf_shared() -> str:
    """The current configuration without its private parts, signed with the same key: what a
    partner instance's nodes need to call our services and to accept our nodes' calls."""
    instance = instance_code()
    token = conf_current()
    payload = verify_compact_key(
        token, pki.private_key(conf_key_path(instance)).public_key(), typ=CONF_TYP, max_length=2**31
    )
    key = (instance, int(payload["serial"]))
    cached = _shared_cache.get(key)
    if cached is None:
        shared = {**payload, **{part: {} for part in PRIVATE_PARTS}, "scope": "shared"}
        cached = sign_compact(pki.private_key(conf_key_path(instance)), shared, typ=CONF_TYP, kid=f"conf:{instance}")
        _shared_cache.clear()
        _shared_cache[key] = cached
    return cached


def conf_payload(*, serial: int, lifetime_s: int) -> dict[str, Any]:
    instance = instance_code()
    now = timezone.now()
    members = {str(m): m.name for m in Member.objects.filter(instance=instance)}
    subsystems = {
        str(s): {"name": s.name, "node": s.node}
        for s in Subsystem.objects.filter(member__instance=instance).select_related("member")
    }
    services: dict[str, Any] = {}
    for svc in Service.objects.filter(subsystem__member__instance=instance, disabled=False).select_related(
        "subsystem__member"
    ):
        services[str(svc)] = {
            "title": svc.title,
            "endpoints": endpoints_of(svc.openapi),
            "openapi": bool(svc.openapi),
            "openapi_sha256": hashlib.sha256(
                json.dumps(svc.openapi, sort_keys=True, separators=(",", ":")).encode()
            ).hexdigest(),
        }
    rights: dict[str, list[list[str]]] = {}
    for right in AccessRight.objects.filter(service__subsystem__member__instance=instance).select_related(
        "service__subsystem__member"
    ):
        rights.setdefault(str(right.service), []).append([right.subject, right.method, right.path])
    nodes = {
        n.code: {"owner": str(n.owner), "address": n.address, "auth_cert": n.auth_cert_pem}
        for n in Node.objects.filter(instance=instance, status=Node.APPROVED).select_related("owner")
    }
    certs = {
        c.fingerprint: {"member": str(c.member), "node": c.node.code, "pem": c.cert_pem}
        for c in SigningCert.objects.filter(status=Node.APPROVED, member__instance=instance).select_related(
            "member", "node"
        )
    }
    revoked = sorted(
        SigningCert.objects.filter(status=Node.REVOKED).exclude(fingerprint="").values_list("fingerprint", flat=True)
    )
    return {
        "v": 1,
        "instance": instance,
        "serial": serial,
        "issued_at": int(now.timestamp()),
        "expires_at": int((now + timedelta(seconds=lifetime_s)).timestamp()),
        "ca": [pki.CertificateAuthority(instance).cert_pem()],
        "members": members,
        "subsystems": subsystems,
        "services": services,
        "rights": rights,
        "groups": {str(g): g.members for g in Group.objects.filter(instance=instance)},
        "nodes": nodes,
        "certs": certs,
        "revoked": revoked,
        "trusted": {t.instance: t.anchor for t in TrustedInstance.objects.all()},
        "event_types": {e.code: e.publisher for e in EventType.objects.all()},
    }


_deferred: contextvars.ContextVar[list[bool] | None] = contextvars.ContextVar("conf_deferred", default=None)


@contextlib.contextmanager
def publishing_deferred() -> Iterator[None]:
    """Many directory changes, one configuration: inside, changes only mark it stale; it is
    published once on the way out (in the same transaction when the caller holds one)."""
    if _deferred.get() is not None:
        yield
        return
    token = _deferred.set([])
    try:
        yield
        pending = bool(_deferred.get())
    finally:
        _deferred.reset(token)
    if pending:
        conf_publish()


def conf_publish() -> PublishedConf | None:
    """Sign and store a new configuration. Called inside every directory change's transaction."""
    waiting = _deferred.get()
    if waiting is not None:
        waiting.append(True)
        return None
    instance = instance_code()
    lifetime = config.EXCHANGE_CONF_LIFETIME_S.read()
    with transaction.atomic():
        last = PublishedConf.objects.select_for_update().filter(instance=instance).order_by("-serial").first()
        serial = (last.serial if last else 0) + 1
        payload = conf_payload(serial=serial, lifetime_s=lifetime)
        key = pki.private_key(conf_key_path(instance))
        token = sign_compact(key, payload, typ=CONF_TYP, kid=f"conf:{instance}")
        published = PublishedConf.objects.create(
            instance=instance,
            serial=serial,
            issued_at=timezone.now(),
            expires_at=timezone.now() + timedelta(seconds=lifetime),
            token=token,
        )
        # Old configurations are of no use to anyone; keep a few for forensics.
        PublishedConf.objects.filter(instance=instance, serial__lt=serial - 20).delete()
    return published


def conf_current() -> str:
    """The newest signed configuration, re-signed when half its lifetime has passed."""
    instance = instance_code()
    latest = PublishedConf.objects.filter(instance=instance).order_by("-serial").first()
    lifetime = config.EXCHANGE_CONF_LIFETIME_S.read()
    if latest is None or (timezone.now() - latest.issued_at).total_seconds() > lifetime / 2:
        latest = conf_publish()
        if latest is None:  # inside publishing_deferred: sign what there is now
            with _deferred_off():
                latest = conf_publish()
    assert latest is not None
    return latest.token


@contextlib.contextmanager
def _deferred_off() -> Iterator[None]:
    token = _deferred.set(None)
    try:
        yield
    finally:
        _deferred.reset(token)


def right_matches(pattern_method: str, pattern_path: str, method: str, path: str) -> bool:
    """Whether a right's method and path pattern cover a request. ``path`` is the decoded, checked
    path the service will receive (``ids.path_check``), matched segment by segment as it is: no
    slash is stripped or added, so what is matched is what is served."""
    if pattern_method not in ("*", method):
        return False
    path = path or "/"
    if pattern_path in ("/**", "**"):
        return True
    return _segments_match(tuple(pattern_path.split("/")[1:]), tuple(path.split("/")[1:]))


def _segments_match(wanted: tuple[str, ...], parts: tuple[str, ...]) -> bool:
    # X-Road endpoint wildcards: "*" is one non-empty segment, "**" any number of segments.
    if not wanted:
        return not parts
    head, rest = wanted[0], wanted[1:]
    if head == "**":
        return any(_segments_match(rest, parts[i:]) for i in range(len(parts) + 1))
    if not parts:
        return False
    matched = bool(parts[0]) if head == "*" else head == parts[0]
    return matched and _segments_match(rest, parts[1:])
