"""Certificates of the instance CA: what ``pki.issued_by`` accepts as issued by a trusted CA."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.x509.oid import NameOID

from gov21.exchange import pki

NOW = datetime.now(UTC)


def _name(text: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, text)])


def _usage(*, cert_sign: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not cert_sign,
        content_commitment=False,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=cert_sign,
        crl_sign=cert_sign,
        encipher_only=False,
        decipher_only=False,
    )


def _cert(
    subject: str,
    key: Ed25519PrivateKey,
    *,
    issuer: str | None = None,
    issuer_key: Ed25519PrivateKey | None = None,
    ca: bool | None = True,
    path_length: int | None = 0,
    cert_sign: bool | None = True,
    days: tuple[int, int] = (-1, 365),
) -> str:
    builder = (
        x509.CertificateBuilder()
        .subject_name(_name(subject))
        .issuer_name(_name(issuer or subject))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW + timedelta(days=days[0]))
        .not_valid_after(NOW + timedelta(days=days[1]))
    )
    if ca is not None:
        builder = builder.add_extension(
            x509.BasicConstraints(ca=ca, path_length=path_length if ca else None), critical=True
        )
    if cert_sign is not None:
        builder = builder.add_extension(_usage(cert_sign=cert_sign), critical=True)
    signed = builder.sign(issuer_key or key, None)
    return signed.public_bytes(serialization.Encoding.PEM).decode("ascii")


def _leaf(ca_name: str, ca_key: Ed25519PrivateKey, *, ca: bool = False) -> str:
    return _cert(
        "XA/GOV/MSD",
        Ed25519PrivateKey.generate(),
        issuer=ca_name,
        issuer_key=ca_key,
        ca=ca,
        path_length=None,
        cert_sign=ca,
    )


def test_a_certificate_from_a_valid_ca_is_accepted() -> None:
    ca_key = Ed25519PrivateKey.generate()
    ca = _cert("CA XA", ca_key)

    assert pki.issued_by(_leaf("CA XA", ca_key), [ca])


def test_the_instance_ca_issues_what_it_accepts(settings: Any, tmp_path: Path) -> None:
    settings.DATA_DIR = tmp_path
    authority = pki.CertificateAuthority("QQ")
    leaf = authority.issue(
        public_key_pem=pki.public_key_pem(Ed25519PrivateKey.generate()),
        common_name="QQ/GOV/MSD",
        serial_number="main",
        usage="sign",
    )

    assert pki.issued_by(leaf, [authority.cert_pem()])


@pytest.mark.parametrize(
    "ca_options",
    [
        pytest.param({"days": (-400, -1)}, id="ca-expired"),
        pytest.param({"days": (1, 365)}, id="ca-not-yet-valid"),
        pytest.param({"ca": False}, id="issuer-is-not-a-ca"),
        pytest.param({"ca": None}, id="issuer-without-basic-constraints"),
        pytest.param({"cert_sign": False}, id="issuer-may-not-sign-certificates"),
        pytest.param({"cert_sign": None}, id="issuer-without-key-usage"),
    ],
)
def test_a_certificate_from_an_issuer_that_may_not_issue_it_is_refused(ca_options: dict[str, object]) -> None:
    ca_key = Ed25519PrivateKey.generate()
    ca = _cert("CA XA", ca_key, **ca_options)  # type: ignore[arg-type]

    assert not pki.issued_by(_leaf("CA XA", ca_key), [ca])


def test_a_sub_ca_under_a_ca_limited_to_end_entities_is_refused() -> None:
    ca_key = Ed25519PrivateKey.generate()
    ca = _cert("CA XA", ca_key, path_length=0)

    assert not pki.issued_by(_leaf("CA XA", ca_key, ca=True), [ca])


def test_a_node_certificate_cannot_serve_as_a_ca() -> None:
    """A node holds the key of its own CA-issued certificate; certificates it signs with that key
    must not count as issued by the instance."""
    ca_key = Ed25519PrivateKey.generate()
    ca = _cert("CA XA", ca_key)
    node_key = Ed25519PrivateKey.generate()
    node_cert = _cert("XA/tax-1", node_key, issuer="CA XA", issuer_key=ca_key, ca=False, cert_sign=False)
    assert pki.issued_by(node_cert, [ca])

    assert not pki.issued_by(_leaf("XA/tax-1", node_key), [ca, node_cert])
