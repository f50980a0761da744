"""The directory's admission of nodes: invitations with a one-time secret, certificates for the
invited owner only, node certificates naming the node's address."""

from __future__ import annotations

import ipaddress
from datetime import timedelta
from typing import Any

import orjson
import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from gov21.exchange import pki
from gov21.exchange.models import Node, SigningCert
from gov21.exchange.services import node_approve, node_request

pytestmark = pytest.mark.usefixtures("exchange")

LTA = "XA/GOV/LTA"


def _pem() -> str:
    return pki.public_key_pem(Ed25519PrivateKey.generate())


def _join(client: Client, **body: Any) -> Any:
    request = {
        "code": "far",
        "owner": LTA,
        "address": "https://far.example:5500",
        "auth_public_key": _pem(),
        "signing_keys": {LTA: _pem()},
        **body,
    }
    return client.post("/exchange/directory/join", orjson.dumps(request), content_type="application/json")


def _invite(code: str = "far", owner: str = LTA) -> str:
    """The secret ``gov21 exchange node invite`` prints for the node's operator."""
    from io import StringIO

    out = StringIO()
    call_command("exchange", "node", "invite", code, "--owner", owner, stdout=out)
    printed = out.getvalue()
    assert "expires" in printed
    return next(line.split()[-1] for line in printed.splitlines() if line.startswith("Join secret"))


def test_a_join_request_without_an_invitation_is_refused_and_takes_no_code() -> None:
    anonymous = _join(Client())
    guessed = _join(Client(), secret="not-the-secret")

    assert anonymous.status_code == 401
    assert anonymous["content-type"] == "application/problem+json"
    assert guessed.status_code == 403
    assert guessed.json()["type"].endswith("invalid-join-secret")
    assert not Node.objects.filter(code="far").exists()


def test_an_invited_node_joins_once_and_only_under_its_code_and_owner() -> None:
    secret = _invite()

    other_code = _join(Client(), secret=secret, code="squat")
    other_owner = _join(Client(), secret=secret, owner="XA/GOV/CRO", signing_keys={"XA/GOV/CRO": _pem()})
    joined = _join(Client(), secret=secret)
    again = _join(Client(), secret=secret, code="far-2")

    assert other_code.status_code == 403
    assert other_owner.status_code == 403
    assert joined.status_code == 202, joined.content
    assert again.status_code == 403
    assert Node.objects.get(code="far").status == Node.PENDING
    assert not Node.objects.filter(code__in=["squat", "far-2"]).exists()


def test_an_expired_invitation_admits_nobody() -> None:
    from gov21.exchange.models import NodeInvitation

    secret = _invite()
    NodeInvitation.objects.filter(code="far").update(expires_at=timezone.now() - timedelta(seconds=1))

    answer = _join(Client(), secret=secret)

    assert answer.status_code == 403
    assert "expired" in answer.json()["detail"]


def test_approval_issues_signing_certificates_for_the_invited_owner_only() -> None:
    secret = _invite()
    listed_other = _join(Client(), secret=secret, signing_keys={LTA: _pem(), "XA/GOV/CRO": _pem()})
    assert listed_other.status_code == 422
    assert "XA/GOV/CRO" in listed_other.json()["detail"]

    assert _join(Client(), secret=secret).status_code == 202
    node_approve(code="far", by="test")

    issued = SigningCert.objects.filter(node__code="far", status=Node.APPROVED).select_related("member")
    assert [str(c.member) for c in issued] == [LTA]


def test_a_node_certificate_names_the_node_address_and_nothing_else() -> None:
    secret = _invite()
    assert _join(Client(), secret=secret, address="https://far.example:5500").status_code == 202
    node_approve(code="far", by="test")
    node_request(code="near", owner=LTA, address="https://10.1.2.3:5500", auth_public_key=_pem(), signing_keys={})
    node_approve(code="near", by="test")

    def names(code: str) -> list[Any]:
        cert = pki.load_cert(Node.objects.get(code=code).auth_cert_pem)
        return list(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value)

    assert names("far") == [x509.DNSName("far.example")]
    assert names("near") == [x509.IPAddress(ipaddress.ip_address("10.1.2.3"))]
