"""The directory of an instance (its governance authority): who is a member, which information
systems (subsystems) and services exist, who may call what, which gateway nodes are trusted,
and which partner instances are federated. Every change republishes the signed configuration
in the same transaction, so a node never sees a right that is not yet committed."""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import json
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any, Final
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.db import transaction
from django.utils import timezone

from gov21.core import config
from gov21.core.crypto import (
    hash_token,
    jwk_thumbprint,
    random_token,
    sign_compact,
    unverified_compact,
    verify_compact_key,
)
from gov21.core.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated
from gov21.exchange import pki
from gov21.exchange.errors import XRoadError
from gov21.exchange.ids import MEMBER_CLASSES, ClientId, ServiceId
from gov21.exchange.models import (
    AccessRight,
    EventType,
    Group,
    Member,
    Node,
    NodeInvitation,
    PublishedConf,
    Service,
    SigningCert,
    Subsystem,
    TrustedInstance,
)

CONF_TYP: Final = "gov21-exchange-conf+jwt"
HTTP_METHODS: Final = ("GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")


def _instance() -> str:
    return config.INSTANCE.read()


def conf_key_path(instance: str) -> Any:
    return pki.keys_dir() / "conf" / f"{instance}.key"


def conf_public_key_pem(instance: str | None = None) -> str:
    return pki.public_key_pem(pki.private_key(conf_key_path(instance or _instance())))


def _client(text: str, field: str) -> ClientId:
    try:
        return ClientId.parse(text)
    except Exception as exc:
        raise DomainError("invalid_identifier", f"{text!r} is not a client identifier", field=field) from exc


def member_get(ident: str) -> Member:
    cid = _client(ident, "member")
    member = Member.objects.filter(instance=cid.instance, member_class=cid.member_class, code=cid.member_code).first()
    if member is None:
        raise NotFound("unknown_member", f"No member {cid.member}")
    return member


def subsystem_get(ident: str) -> Subsystem:
    cid = _client(ident, "subsystem")
    if cid.subsystem is None:
        raise DomainError("invalid_identifier", "A subsystem identifier has four parts", field="subsystem")
    sub = Subsystem.objects.filter(
        member__instance=cid.instance,
        member__member_class=cid.member_class,
        member__code=cid.member_code,
        code=cid.subsystem,
    ).first()
    if sub is None:
        raise NotFound("unknown_subsystem", f"No subsystem {cid}")
    return sub


def service_get(ident: str) -> Service:
    try:
        sid = ServiceId.parse(ident)
    except Exception as exc:
        raise DomainError("invalid_identifier", f"{ident!r} is not a service identifier", field="service") from exc
    service = Service.objects.filter(subsystem=subsystem_get(str(sid.provider)), code=sid.code).first()
    if service is None:
        raise NotFound("unknown_service", f"No service {sid}")
    return service


@transaction.atomic
def member_add(*, ident: str, name: str) -> Member:
    cid = _client(ident, "member")
    if cid.subsystem is not None:
        raise DomainError("invalid_identifier", "A member identifier has three parts", field="member")
    if cid.instance != _instance():
        raise DomainError("foreign_instance", f"This directory registers members of {_instance()} only", field="member")
    if cid.member_class not in MEMBER_CLASSES:
        raise DomainError("invalid_member_class", f"Member class must be one of {', '.join(MEMBER_CLASSES)}")
    member, _ = Member.objects.get_or_create(
        instance=cid.instance, member_class=cid.member_class, code=cid.member_code, defaults={"name": name}
    )
    conf_publish()
    return member


@transaction.atomic
def subsystem_add(*, ident: str, name: str = "", node: str = "") -> Subsystem:
    cid = _client(ident, "subsystem")
    if cid.subsystem is None:
        raise DomainError("invalid_identifier", "A subsystem identifier has four parts", field="subsystem")
    member = member_get(str(cid.member))
    sub, created = Subsystem.objects.get_or_create(
        member=member, code=cid.subsystem, defaults={"name": name, "node": node or _default_node()}
    )
    if not created and node and sub.node != node:
        sub.node = node
        sub.save(update_fields=["node"])
    conf_publish()
    return sub


def _default_node() -> str:
    from gov21.exchange.node import this_node

    return this_node().code


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


@transaction.atomic
def service_add(
    *, ident: str, base_url: str, openapi: dict[str, Any] | None = None, title: str = "", timeout_s: int = 30
) -> Service:
    try:
        sid = ServiceId.parse(ident)
    except Exception as exc:
        raise DomainError("invalid_identifier", f"{ident!r} is not a service identifier", field="service") from exc
    # Empty: the service is served by another node, whose own mapping (LocalService) says where.
    if base_url and not base_url.startswith(("http://", "https://", "local:")):
        raise DomainError("invalid_url", "The service address must be http(s)://… or local:<name>", field="base_url")
    if openapi is not None and not isinstance(openapi.get("paths"), dict):
        raise DomainError("invalid_openapi", "The OpenAPI 3 document has no paths", field="openapi")
    sub = subsystem_get(str(sid.provider))
    service, created = Service.objects.get_or_create(
        subsystem=sub,
        code=sid.code,
        defaults={"base_url": base_url, "openapi": openapi or {}, "title": title, "timeout_s": timeout_s},
    )
    if not created:
        service.base_url, service.title, service.timeout_s = base_url, title or service.title, timeout_s
        if openapi is not None:
            service.openapi = openapi
        service.save()
    conf_publish()
    return service


def _subject(text: str) -> str:
    if text.startswith("group:"):
        inner = _client(text.removeprefix("group:") + "/x", "subject")  # group:XA/code
        Group.objects.get_or_create(instance=inner.instance, code=inner.member_class)
        return text
    return str(_client(text, "subject"))


@transaction.atomic
def right_grant(*, service: str, subject: str, method: str = "*", path: str = "/**", by: str = "") -> AccessRight:
    method = method.upper()
    if method != "*" and method not in HTTP_METHODS:
        raise DomainError("invalid_method", f"Unknown HTTP method {method!r}", field="method")
    if not path.startswith("/") or len(path) > 300:
        raise DomainError("invalid_path", "An endpoint path starts with /", field="path")
    right, _ = AccessRight.objects.get_or_create(
        service=service_get(service), subject=_subject(subject), method=method, path=path, defaults={"granted_by": by}
    )
    conf_publish()
    return right


@transaction.atomic
def right_revoke(*, service: str, subject: str, method: str = "*", path: str = "/**") -> int:
    deleted, _ = AccessRight.objects.filter(
        service=service_get(service), subject=_subject(subject), method=method.upper(), path=path
    ).delete()
    if not deleted:
        raise NotFound("unknown_right", "No such access right")
    conf_publish()
    return deleted


@transaction.atomic
def group_set(*, ident: str, members: list[str], description: str = "") -> Group:
    instance, _, code = ident.removeprefix("group:").partition("/")
    if instance != _instance() or not code:
        raise DomainError("invalid_identifier", "A group is named group:<instance>/<code>", field="group")
    group, _ = Group.objects.get_or_create(instance=instance, code=code)
    group.members = sorted({str(_client(m, "members")) for m in members})
    group.description = description or group.description
    group.save()
    conf_publish()
    return group


# --- nodes and certificates -------------------------------------------------------------------


INVITATION_HOURS: Final = 72


@transaction.atomic
def node_invite(*, code: str, owner: str, by: str, valid_hours: int = INVITATION_HOURS) -> tuple[NodeInvitation, str]:
    """Expect a node: its code, the member running it, and a one-time secret (returned only here,
    stored hashed) that its operator gives ``gov21 exchange node join``. A new invitation for the
    same code replaces one not yet used."""
    if not _NODE_CODE_RE.fullmatch(code):
        raise DomainError("invalid_node_code", "A node code is 1-64 letters, digits, dots, dashes", field="code")
    if not 1 <= valid_hours <= 24 * 30:
        raise DomainError("invalid_validity", "An invitation is valid for 1 hour to 30 days", field="valid_hours")
    if Node.objects.filter(instance=_instance(), code=code).exists():
        raise Conflict("node_exists", f"A node named {code} exists or existed; choose another code")
    member = member_get(owner)
    if member.instance != _instance():
        raise DomainError("foreign_instance", f"Nodes of {_instance()} are run by its members", field="owner")
    NodeInvitation.objects.filter(instance=_instance(), code=code, used_at__isnull=True).delete()
    secret = random_token()
    invitation = NodeInvitation.objects.create(
        instance=_instance(),
        code=code,
        owner=member,
        secret_hash=hash_token(secret),
        created_by=by,
        expires_at=timezone.now() + timedelta(hours=valid_hours),
    )
    return invitation, secret


@transaction.atomic
def node_join(
    *, code: str, secret: str, owner: str, address: str, auth_public_key: str, signing_keys: dict[str, str]
) -> Node:
    """A node's join request over HTTP: admitted to wait for approval only with the secret of an
    unused, unexpired invitation for this very code and owner. The invitation is spent."""
    if not secret:
        raise Unauthenticated("join_secret_missing", "A join request carries the secret of the node's invitation.")
    invitation = (
        NodeInvitation.objects.select_for_update()
        .select_related("owner")
        .filter(instance=_instance(), secret_hash=hash_token(secret))
        .first()
    )
    if invitation is None or invitation.code != code:
        raise Forbidden("invalid_join_secret", f"This secret does not invite a node named {code}.")
    if invitation.used_at is not None:
        raise Forbidden("join_secret_used", "This invitation was used already; ask the directory for a new one.")
    if invitation.expires_at <= timezone.now():
        raise Forbidden("join_secret_expired", "This invitation has expired; ask the directory for a new one.")
    if str(invitation.owner) != str(_client(owner, "owner").member):
        raise Forbidden("invalid_join_secret", f"This invitation is for a node of {invitation.owner}, not {owner}.")
    node = node_request(
        code=code, owner=owner, address=address, auth_public_key=auth_public_key, signing_keys=signing_keys
    )
    invitation.used_at = timezone.now()
    invitation.save(update_fields=["used_at"])
    return node


@transaction.atomic
def node_request(*, code: str, owner: str, address: str, auth_public_key: str, signing_keys: dict[str, str]) -> Node:
    """A node waiting for approval (``node_approve``), with the signing key of its owner member.
    Trusts its caller: over HTTP, only ``node_join`` leads here."""
    if not _NODE_CODE_RE.fullmatch(code):
        raise DomainError("invalid_node_code", "A node code is 1-64 letters, digits, dots, dashes", field="code")
    if Node.objects.filter(instance=_instance(), code=code).exists():
        # Revoked codes stay taken: log entries and certificates name nodes by their code.
        raise Conflict("node_exists", f"A node named {code} exists or existed; choose another code")
    if address:
        _address_names(address)
    member = member_get(owner)
    others = sorted(set(signing_keys) - {str(member)})
    if others:
        # A node signs for the member that runs it (and so for that member's subsystems); any other
        # member's key would let its operator speak for that member.
        raise DomainError(
            "foreign_signing_key",
            f"A node of {member} holds signing keys of {member} only, not of {', '.join(others)}",
            field="signing_keys",
        )
    node = Node.objects.create(
        instance=_instance(), code=code, owner=member, address=address, auth_key_pem=auth_public_key
    )
    for public_pem in signing_keys.values():
        SigningCert.objects.create(member=member, node=node, public_key_pem=public_pem)
    return node


_NODE_CODE_RE: Final = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")


def _address_names(address: str) -> list[str]:
    """The host of a node address (``https://host:port``), which its certificate must name."""
    parts = urlsplit(address)
    try:
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise DomainError("invalid_url", "A node's address is https://host:port", field="address") from exc
    if parts.scheme != "https" or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise DomainError("invalid_url", "A node's address is https://host:port", field="address")
    return [parts.hostname]


def _auth_cert(node: Node) -> str:
    return pki.CertificateAuthority(_instance()).issue(
        public_key_pem=node.auth_key_pem,
        common_name=f"{node.instance}/{node.code}",
        serial_number=node.code,
        usage="auth",
        names=_address_names(node.address) if node.address else [],
    )


@transaction.atomic
def node_approve(*, code: str, by: str) -> Node:
    node = Node.objects.select_for_update().filter(instance=_instance(), code=code, status=Node.PENDING).first()
    if node is None:
        raise NotFound("unknown_node", f"No node {code} waiting for approval")
    ca = pki.CertificateAuthority(_instance())
    node.auth_cert_pem = _auth_cert(node)
    node.status, node.decided_at, node.decided_by = Node.APPROVED, timezone.now(), by
    node.save()
    # Only the owner's key is ever requested (node_request); the filter keeps it so for requests
    # stored before that rule.
    for cert in node.signing_certs.filter(status=Node.PENDING, member=node.owner).select_related("member"):
        cert.cert_pem = ca.issue(
            public_key_pem=cert.public_key_pem, common_name=str(cert.member), serial_number=node.code, usage="sign"
        )
        cert.fingerprint = pki.fingerprint(cert.cert_pem)
        cert.status = Node.APPROVED
        cert.save()
    conf_publish()
    return node


@transaction.atomic
def node_address_set(*, code: str, address: str) -> Node:
    """A node's new address, with a new authentication certificate (same key) naming it."""
    node = Node.objects.select_for_update().filter(instance=_instance(), code=code).exclude(status=Node.REVOKED).first()
    if node is None:
        raise NotFound("unknown_node", f"No node {code}")
    if address:
        _address_names(address)
    node.address = address
    if node.status == Node.APPROVED:
        node.auth_cert_pem = _auth_cert(node)
    node.save(update_fields=["address", "auth_cert_pem"])
    conf_publish()
    return node


@transaction.atomic
def node_revoke(*, code: str, by: str) -> Node:
    node = Node.objects.filter(instance=_instance(), code=code).first()
    if node is None:
        raise NotFound("unknown_node", f"No node {code}")
    node.status, node.decided_at, node.decided_by = Node.REVOKED, timezone.now(), by
    node.save()
    node.signing_certs.update(status=Node.REVOKED)
    conf_publish()
    return node


# --- federation -------------------------------------------------------------------------------


def anchor_export(*, directory_url: str) -> dict[str, Any]:
    """What a partner needs to trust this instance: its CA, the key that signs its configuration,
    and where to fetch it. Exchanged out of band; compare the fingerprint by phone."""
    instance = _instance()
    anchor = {
        "instance": instance,
        "directory": directory_url.rstrip("/"),
        "ca": pki.CertificateAuthority(instance).cert_pem(),
        "conf_key": conf_public_key_pem(instance),
    }
    return {**anchor, "fingerprint": anchor_fingerprint(anchor)}


def anchor_fingerprint(anchor: dict[str, Any]) -> str:
    body = {k: anchor[k] for k in ("instance", "directory", "ca", "conf_key")}
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


@transaction.atomic
def trust_add(*, anchor: dict[str, Any]) -> TrustedInstance:
    try:
        body = {k: str(anchor[k]) for k in ("instance", "directory", "ca", "conf_key")}
    except KeyError as exc:
        raise DomainError("invalid_anchor", f"The anchor lacks {exc.args[0]}", field="anchor") from exc
    if body["instance"] == _instance():
        raise DomainError("invalid_anchor", "An instance does not federate with itself", field="anchor")
    pki.load_cert(body["ca"])
    trusted, _ = TrustedInstance.objects.update_or_create(
        instance=body["instance"], defaults={"anchor": {**body, "fingerprint": anchor_fingerprint(body)}}
    )
    conf_publish()
    return trusted


# --- who may read the configuration ---------------------------------------------------------------

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
    instance = _instance()
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
    row = Node.objects.filter(instance=_instance(), code=code).values_list("status", "auth_key_pem").first()
    if row is None or row[0] != Node.APPROVED:
        raise Forbidden("node_not_approved", f"Node {_instance()}/{code} is not an approved node of this instance.")
    key = serialization.load_pem_public_key(row[1].encode("ascii"))
    if not isinstance(key, Ed25519PublicKey):
        raise Forbidden("node_not_approved", f"Node {_instance()}/{code} has no usable key.")
    return key


def _partner_node_cert(instance: str, issuer: str, cert_pem: object) -> str:
    """The authentication certificate a partner's node sent, if its instance's CA (from the anchor
    we trust) issued it to that very node."""
    trusted = TrustedInstance.objects.filter(instance=instance).values_list("anchor", flat=True).first()
    if trusted is None:
        raise Forbidden("instance_not_trusted", f"Instance {instance} is not federated with {_instance()}.")
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


def _fresh_request(claims: dict[str, Any]) -> None:
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
    claims: dict[str, Any] = {"iss": node_ident, "aud": instance, "iat": now, "exp": now + 60}
    if cert_pem:
        claims["cert"] = cert_pem
    return sign_compact(key, claims, typ=CONF_REQUEST_TYP, kid=jwk_thumbprint(key.public_key()))


_shared_cache: dict[tuple[str, int], str] = {}


def conf_shared() -> str:
    """The current configuration without its private parts, signed with the same key: what a
    partner instance's nodes need to call our services and to accept our nodes' calls."""
    instance = _instance()
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


# --- publishing the configuration ---------------------------------------------------------------


def conf_payload(*, serial: int, lifetime_s: int) -> dict[str, Any]:
    instance = _instance()
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
    instance = _instance()
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
    instance = _instance()
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
