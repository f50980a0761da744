"""The directory's HTTP endpoints: who may read the signed configuration, and what each gets."""

from __future__ import annotations

import time
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from gov21.core.crypto import jwk_thumbprint, sign_compact
from gov21.exchange import directory, node, pki
from gov21.exchange.models import Node
from gov21.exchange.services import node_approve, node_request, node_revoke, trust_add

pytestmark = pytest.mark.usefixtures("exchange")

REQUEST_TYP = "gov21-exchange-conf-request+jwt"


def _signed(key: Ed25519PrivateKey, **claims: Any) -> str:
    now = int(time.time())
    body = {"aud": "XA", "iat": now, "exp": now + 60, **claims}
    return sign_compact(key, body, typ=REQUEST_TYP, kid=jwk_thumbprint(key.public_key()))


def _get(token: str | None) -> Any:
    headers = {} if token is None else {"HTTP_AUTHORIZATION": f"Gov21-Node {token}"}
    return Client().get("/exchange/conf", **headers)


def _node(code: str) -> Ed25519PrivateKey:
    key = Ed25519PrivateKey.generate()
    node_request(code=code, owner="XA/GOV/MSD", address="", auth_public_key=pki.public_key_pem(key), signing_keys={})
    node_approve(code=code, by="test")
    return key


def _conf(response: Any) -> dict[str, Any]:
    return node._verified(response.content.decode(), directory.conf_public_key_pem(), "XA").payload


def test_the_configuration_is_not_given_to_anonymous_callers() -> None:
    anonymous = _get(None)

    assert anonymous.status_code == 401
    assert anonymous["content-type"] == "application/problem+json"
    assert anonymous["www-authenticate"] == "Gov21-Node"


def test_an_approved_node_reads_the_whole_configuration_a_revoked_one_nothing() -> None:
    key = _node("north")

    answer = _get(_signed(key, iss="XA/north"))

    assert answer.status_code == 200
    conf = _conf(answer)
    assert conf["rights"] and conf["services"] and "north" in conf["nodes"]
    assert _get(_signed(key, iss="XA/main")).status_code == 401  # main's name, north's key
    node_revoke(code="north", by="test")
    assert _get(_signed(key, iss="XA/north")).status_code == 403


@pytest.mark.parametrize(
    "claims",
    [
        pytest.param({"aud": "XB"}, id="addressed-to-another-directory"),
        pytest.param({"exp": int(time.time()) + 86400}, id="long-lived"),
        pytest.param({"iat": int(time.time()) - 600, "exp": int(time.time()) - 540}, id="expired"),
    ],
)
def test_a_signed_request_that_is_not_fresh_or_not_for_us_is_refused(claims: dict[str, Any]) -> None:
    key = _node("north")

    assert _get(_signed(key, iss="XA/north", **claims)).status_code == 401


def test_a_partner_node_reads_the_shared_part_only() -> None:
    partner_ca = pki.CertificateAuthority("XB")
    trust_add(
        anchor={
            "instance": "XB",
            "directory": "http://xb.example",
            "ca": partner_ca.cert_pem(),
            "conf_key": directory.conf_public_key_pem("XB"),
        }
    )
    key = Ed25519PrivateKey.generate()
    cert = partner_ca.issue(
        public_key_pem=pki.public_key_pem(key), common_name="XB/main", serial_number="main", usage="auth"
    )
    stranger_ca = pki.CertificateAuthority("ZZ")
    stranger_key = Ed25519PrivateKey.generate()
    stranger_cert = stranger_ca.issue(
        public_key_pem=pki.public_key_pem(stranger_key), common_name="XB/main", serial_number="main", usage="auth"
    )

    answer = _get(_signed(key, iss="XB/main", cert=cert))
    forged = _get(_signed(stranger_key, iss="XB/main", cert=stranger_cert))
    other_name = _get(_signed(key, iss="XB/other", cert=cert))
    signing_cert = partner_ca.issue(
        public_key_pem=pki.public_key_pem(key), common_name="XB/GOV/CRO", serial_number="main", usage="sign"
    )
    member_not_node = _get(_signed(key, iss="XB/GOV/CRO", cert=signing_cert))
    not_a_certificate = _get(_signed(key, iss="XB/main", cert="-----BEGIN CERTIFICATE-----\nAAAA\n"))

    assert answer.status_code == 200
    shared = _conf(answer)
    assert shared["subsystems"] and shared["nodes"] and shared["certs"] and shared["ca"]
    assert shared["rights"] == {} and shared["services"] == {} and shared["groups"] == {}
    assert shared["trusted"] == {}
    assert forged.status_code == 403
    assert other_name.status_code == 403
    assert not_a_certificate.status_code == 403
    assert member_not_node.status_code == 403
    assert Node.objects.filter(instance="XB").count() == 0
