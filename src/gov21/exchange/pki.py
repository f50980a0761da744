"""The instance's certificate authority and a node's keys.

Everything is Ed25519: fast to sign and verify on every message, and accepted by OpenSSL for TLS
1.3 between gateways. Private keys are generated on first use under
``DATA_DIR/keys/exchange/`` (0600) and never leave it; only certificates travel.

* ``ca/``: the instance CA (held by the directory of the instance). It issues authentication
  certificates (TLS between gateways) to nodes and signing certificates to members.
* ``conf/``: the key that signs the instance's published configuration.
* ``node/``: this node's authentication key and its members' signing keys, with the certificates
  the CA issued for them.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Final

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.conf import settings

from gov21.core.crypto import private_file
from gov21.exchange.errors import XRoadError

CERT_DAYS: Final = 730
CA_DAYS: Final = 3650
_FILE_RE: Final = re.compile(r"[A-Za-z0-9._:-]+")


def keys_dir() -> Path:
    return Path(settings.DATA_DIR) / "keys" / "exchange"


def _new_key_pem() -> bytes:
    return Ed25519PrivateKey.generate().private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


_loaded: dict[Path, Ed25519PrivateKey] = {}


def private_key(path: Path) -> Ed25519PrivateKey:
    """The key in ``path``, created on first use; kept in memory once read (signing is per message)."""
    key = _loaded.get(path)
    if key is not None:
        return key
    loaded = serialization.load_pem_private_key(private_file(path, _new_key_pem), password=None)
    if not isinstance(loaded, Ed25519PrivateKey):
        raise XRoadError("Signer.KeyNotFound", f"{path} is not an Ed25519 key")
    _loaded[path] = loaded
    return loaded


def key_file(kind: str, name: str) -> Path:
    if not _FILE_RE.fullmatch(name):
        raise ValueError(f"bad key name {name!r}")
    return keys_dir() / kind / f"{name.replace('/', '_')}.key"


def fingerprint(cert_pem: str) -> str:
    """SHA-256 of the DER certificate, hex: how messages and the configuration name a certificate."""
    return hashlib.sha256(load_cert(cert_pem).public_bytes(serialization.Encoding.DER)).hexdigest()


@functools.lru_cache(maxsize=4096)
def load_cert(cert_pem: str) -> x509.Certificate:
    try:
        return x509.load_pem_x509_certificate(cert_pem.encode("ascii"))
    except ValueError as exc:
        raise XRoadError("IncorrectCertificate", f"Not a certificate: {exc}") from exc


def cert_public_key(cert_pem: str) -> Ed25519PublicKey:
    key = load_cert(cert_pem).public_key()
    if not isinstance(key, Ed25519PublicKey):
        raise XRoadError("UnsupportedAlgorithm", "Certificate key is not Ed25519")
    return key


def _name(common_name: str, instance: str, serial_number: str | None = None) -> x509.Name:
    attrs = [
        x509.NameAttribute(NameOID.COUNTRY_NAME, instance[:2]),
        x509.NameAttribute(NameOID.ORGANIZATION_NAME, f"gov21 exchange {instance}"),
        x509.NameAttribute(NameOID.COMMON_NAME, common_name[:64]),
    ]
    if serial_number:
        attrs.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial_number[:64]))
    return x509.Name(attrs)


@dataclass(frozen=True)
class CertificateAuthority:
    """The CA of one instance; only the directory's deployment holds its key."""

    instance: str

    @property
    def key_path(self) -> Path:
        return keys_dir() / "ca" / f"{self.instance}.key"

    @property
    def cert_path(self) -> Path:
        return keys_dir() / "ca" / f"{self.instance}.pem"

    def cert_pem(self) -> str:
        key = private_key(self.key_path)
        if not self.cert_path.exists():
            now = datetime.now(UTC)
            name = _name(f"gov21 exchange CA {self.instance}", self.instance)
            cert = (
                x509.CertificateBuilder()
                .subject_name(name)
                .issuer_name(name)
                .public_key(key.public_key())
                .serial_number(x509.random_serial_number())
                .not_valid_before(now - timedelta(minutes=5))
                .not_valid_after(now + timedelta(days=CA_DAYS))
                .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
                .add_extension(
                    x509.KeyUsage(
                        digital_signature=False,
                        content_commitment=False,
                        key_encipherment=False,
                        data_encipherment=False,
                        key_agreement=False,
                        key_cert_sign=True,
                        crl_sign=True,
                        encipher_only=False,
                        decipher_only=False,
                    ),
                    critical=True,
                )
                .sign(key, None)
            )
            pem = cert.public_bytes(serialization.Encoding.PEM)
            private_file(self.cert_path, lambda: pem)
        return self.cert_path.read_text(encoding="ascii")

    def issue(
        self, *, public_key_pem: str, common_name: str, serial_number: str, usage: str, names: Sequence[str] = ()
    ) -> str:
        """A certificate for a node (``usage="auth"``: TLS client and server, for the host
        ``names`` of its address) or a member (``usage="sign"``: message signatures)."""
        ca_cert = load_cert(self.cert_pem())
        key = private_key(self.key_path)
        public = serialization.load_pem_public_key(public_key_pem.encode("ascii"))
        if not isinstance(public, Ed25519PublicKey):
            raise ValueError("only Ed25519 keys are accepted")
        now = datetime.now(UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(_name(common_name, self.instance, serial_number))
            .issuer_name(ca_cert.subject)
            .public_key(public)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5))
            .not_valid_after(now + timedelta(days=CERT_DAYS))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        )
        if usage == "auth":
            builder = builder.add_extension(
                x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]),
                critical=False,
            )
            if names:
                # What a peer dialling the node's published address checks the certificate against.
                builder = builder.add_extension(
                    x509.SubjectAlternativeName([_general_name(n) for n in names]), critical=False
                )
        return builder.sign(key, None).public_bytes(serialization.Encoding.PEM).decode("ascii")


def _general_name(host: str) -> x509.GeneralName:
    try:
        return x509.IPAddress(ipaddress.ip_address(host))
    except ValueError:
        return x509.DNSName(host)


def public_key_pem(key: Ed25519PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode("ascii")
    )


def issued_by(cert_pem: str, ca_pems: list[str]) -> bool:
    """Whether ``cert_pem`` is an end-entity certificate within its validity, signed by one of the
    CA certificates while that CA is within its own validity and allowed to issue it."""
    cert = load_cert(cert_pem)
    now = datetime.now(UTC)
    if not _valid_at(cert, now) or _is_ca(cert):
        # Certificates the exchange checks this way (signing, node authentication) are never CAs;
        # one that says it is would be an attempt to extend the chain below the instance CA.
        return False
    for ca_pem in ca_pems:
        ca = load_cert(ca_pem)
        if ca.subject != cert.issuer or not _may_issue(ca, now):
            continue
        ca_key = ca.public_key()
        if not isinstance(ca_key, Ed25519PublicKey):
            continue
        try:
            ca_key.verify(cert.signature, cert.tbs_certificate_bytes)
        except InvalidSignature:
            continue
        return True
    return False


def _valid_at(cert: x509.Certificate, now: datetime) -> bool:
    return cert.not_valid_before_utc <= now <= cert.not_valid_after_utc


def _is_ca(cert: x509.Certificate) -> bool:
    try:
        return bool(cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca)
    except x509.ExtensionNotFound:
        return False


def _may_issue(ca: x509.Certificate, now: datetime) -> bool:
    """RFC 5280 §4.2.1.3 and §4.2.1.9: a certificate signs others only if it is a CA (basic
    constraints), its key usage includes keyCertSign, and it is valid now. Without these any node,
    whose own certificate the CA signed, could issue certificates naming it as issuer. Path
    length: only end-entity certificates are accepted below a CA (``issued_by`` refuses a CA
    certificate), which every path length, 0 included, allows."""
    if not _valid_at(ca, now):
        return False
    try:
        constraints = ca.extensions.get_extension_for_class(x509.BasicConstraints).value
        usage = ca.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        return False
    return bool(constraints.ca and usage.key_cert_sign)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


__all__ = [
    "CertificateAuthority",
    "cert_public_key",
    "fingerprint",
    "hashes",
    "issued_by",
    "key_file",
    "load_cert",
    "private_key",
    "public_key_pem",
]
