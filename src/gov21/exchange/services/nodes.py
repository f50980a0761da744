"""Writes of the instance's gateway nodes: invitations, join requests, approval with certificates
from the instance CA, a new address, revocation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Final
from urllib.parse import urlsplit

from django.db import transaction
from django.utils import timezone

from gov21.core.crypto import hash_token, random_token
from gov21.core.errors import Conflict, DomainError, Forbidden, NotFound, Unauthenticated
from gov21.exchange import pki
from gov21.exchange.directory import client_parse, conf_publish, instance_code
from gov21.exchange.models import Node, NodeInvitation, SigningCert
from gov21.exchange.selectors import member_get

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
    if Node.objects.filter(instance=instance_code(), code=code).exists():
        raise Conflict("node_exists", f"A node named {code} exists or existed; choose another code")
    member = member_get(owner)
    if member.instance != instance_code():
        raise DomainError("foreign_instance", f"Nodes of {instance_code()} are run by its members", field="owner")
    NodeInvitation.objects.filter(instance=instance_code(), code=code, used_at__isnull=True).delete()
    secret = random_token()
    while secret.startswith("-"):  # an operator pastes it after --secret; a leading dash reads as an option
        secret = random_token()
    invitation = NodeInvitation.objects.create(
        instance=instance_code(),
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
        .filter(instance=instance_code(), secret_hash=hash_token(secret))
        .first()
    )
    if invitation is None or invitation.code != code:
        raise Forbidden("invalid_join_secret", f"This secret does not invite a node named {code}.")
    if invitation.used_at is not None:
        raise Forbidden("join_secret_used", "This invitation was used already; ask the directory for a new one.")
    if invitation.expires_at <= timezone.now():
        raise Forbidden("join_secret_expired", "This invitation has expired; ask the directory for a new one.")
    if str(invitation.owner) != str(client_parse(owner, "owner").member):
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
    if Node.objects.filter(instance=instance_code(), code=code).exists():
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
        instance=instance_code(), code=code, owner=member, address=address, auth_key_pem=auth_public_key
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
    return pki.CertificateAuthority(instance_code()).issue(
        public_key_pem=node.auth_key_pem,
        common_name=f"{node.instance}/{node.code}",
        serial_number=node.code,
        usage="auth",
        names=_address_names(node.address) if node.address else [],
    )


@transaction.atomic
def node_approve(*, code: str, by: str) -> Node:
    node = Node.objects.select_for_update().filter(instance=instance_code(), code=code, status=Node.PENDING).first()
    if node is None:
        raise NotFound("unknown_node", f"No node {code} waiting for approval")
    ca = pki.CertificateAuthority(instance_code())
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
    node = (
        Node.objects.select_for_update()
        .filter(instance=instance_code(), code=code)
        .exclude(status=Node.REVOKED)
        .first()
    )
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
    node = Node.objects.filter(instance=instance_code(), code=code).first()
    if node is None:
        raise NotFound("unknown_node", f"No node {code}")
    node.status, node.decided_at, node.decided_by = Node.REVOKED, timezone.now(), by
    node.save()
    node.signing_certs.update(status=Node.REVOKED)
    conf_publish()
    return node
