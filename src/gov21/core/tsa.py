"""RFC 3161 time-stamping: a client that has a digest countersigned and checks the token, and a
small authority (``gov21 tsa serve``) for a state that runs its own.

A token binds a digest to a time under the authority's signature. gov21 has its logs' tree heads
countersigned so that a head cannot be made later or backdated by someone who holds only the
node's own key or its database. The authority's certificate is pinned (``GOV21_TSA_CERT``): a token
signed by any other key is refused, whatever certificate it carries.

The ASN.1 structures (TimeStampReq, TimeStampResp, TSTInfo, CMS SignedData) come from
``asn1crypto``; only the choice of fields is ours.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import threading
from dataclasses import dataclass
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Final

import httpx2 as httpx
from asn1crypto import algos, cms, tsp
from asn1crypto import core as asn1_core
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from gov21.core import config
from gov21.core.crypto import private_file
from gov21.core.errors import DomainError

logger = logging.getLogger(__name__)

QUERY_TYPE: Final = "application/timestamp-query"
REPLY_TYPE: Final = "application/timestamp-reply"
# gov21's own policy arc under the UUID-derived OID space (X.667): a fixed, unregistered-free OID.
POLICY: Final = "2.25.213847561283490051472339217316407593217"
MAX_QUERY_BYTES: Final = 16 * 1024
TIMEOUT_S: Final = 10.0


class TimestampError(DomainError):
    def __init__(self, detail: str) -> None:
        super().__init__("timestamp_invalid", detail, status=422)


class Reply(asn1_core.Sequence):  # type: ignore[misc]
    """TimeStampResp (RFC 3161 §2.4.2). asn1crypto's own class makes the token mandatory, so it
    cannot read (or write) a rejection, which carries none."""

    _fields = [("status", tsp.PKIStatusInfo), ("time_stamp_token", cms.ContentInfo, {"optional": True})]


@dataclass(frozen=True)
class Stamp:
    """A checked token: when the authority saw the digest, and the token itself (DER)."""

    at: datetime
    serial: int
    token: bytes


def _sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


# --- client -----------------------------------------------------------------------------------------


def query(digest: bytes, *, nonce: int) -> bytes:
    """A TimeStampReq for a SHA-256 digest, asking for the authority's certificate in the token."""
    der: bytes = tsp.TimeStampReq(
        {
            "version": "v1",
            "message_imprint": {"hash_algorithm": {"algorithm": "sha256"}, "hashed_message": digest},
            "nonce": nonce,
            "cert_req": True,
        }
    ).dump()
    return der


def pinned_certificate() -> bytes | None:
    """The authority's certificate (DER) from ``GOV21_TSA_CERT``; None when none is configured."""
    path = config.TSA_CERT.read()
    if not path:
        return None
    try:
        cert = x509.load_pem_x509_certificate(Path(path).read_bytes())
    except (OSError, ValueError) as exc:
        raise TimestampError(f"The timestamping authority's certificate {path} cannot be read ({exc}).") from exc
    return cert.public_bytes(serialization.Encoding.DER)


def stamp(digest: bytes, *, url: str | None = None, cert: bytes | None = None) -> Stamp:
    """Have ``digest`` countersigned by the authority at ``url`` (default ``GOV21_TSA_URL``) and
    check the reply against the pinned certificate before it is kept."""
    url = url or config.TSA_URL.read()
    cert = cert or pinned_certificate()
    if not url or cert is None:
        raise TimestampError("No timestamping authority is configured (GOV21_TSA_URL and GOV21_TSA_CERT).")
    nonce = secrets.randbits(63)
    try:
        answer = httpx.post(
            url, content=query(digest, nonce=nonce), headers={"content-type": QUERY_TYPE}, timeout=TIMEOUT_S
        )
    except httpx.HTTPError as exc:
        raise TimestampError(f"The timestamping authority at {url} did not answer ({exc.__class__.__name__}).") from exc
    if answer.status_code != 200 or answer.headers.get("content-type", "").split(";")[0].strip() != REPLY_TYPE:
        raise TimestampError(f"The timestamping authority at {url} answered {answer.status_code}, not a reply.")
    try:
        reply = Reply.load(answer.content)
        status = reply["status"]["status"].native
        token = reply["time_stamp_token"]
        reply.native  # noqa: B018 - parses the whole reply now, so damage is reported here
    except ValueError as exc:
        raise TimestampError("The timestamping authority's reply is not a TimeStampResp.") from exc
    if status not in ("granted", "granted_with_mods") or token.native is None:
        raise TimestampError(f"The timestamping authority refused the request ({status}).")
    checked = check(token.dump(), digest, cert)
    if _tst_info(cms.ContentInfo.load(checked.token))["nonce"].native != nonce:
        raise TimestampError("The timestamping authority's reply answers another request (nonce).")
    return checked


def _tst_info(info: Any) -> Any:
    signed = info["content"]
    encap = signed["encap_content_info"]
    if encap["content_type"].native != "tst_info":
        raise TimestampError("The token does not hold a TSTInfo.")
    return encap["content"].parsed


def check(token: bytes, digest: bytes, cert: bytes) -> Stamp:
    """Check a TimeStampToken (DER): it countersigns ``digest`` and is signed by ``cert``'s key.
    Raises :class:`TimestampError` naming what does not hold."""
    try:
        info = cms.ContentInfo.load(token)
        if info["content_type"].native != "signed_data":
            raise TimestampError("The token is not CMS SignedData.")
        signed = info["content"]
        tst = _tst_info(info)
        tst_der = signed["encap_content_info"]["content"].contents
        imprint = tst["message_imprint"]
        if imprint["hash_algorithm"]["algorithm"].native != "sha256" or imprint["hashed_message"].native != digest:
            raise TimestampError("The token countersigns another digest.")
        (signer,) = list(signed["signer_infos"])
        attributes = {a["type"].native: a["values"] for a in signer["signed_attrs"]}
        if attributes.get("content_type") is None or attributes["content_type"][0].native != "tst_info":
            raise TimestampError("The token's signed attributes do not name a TSTInfo.")
        if attributes.get("message_digest") is None or attributes["message_digest"][0].native != _sha256(tst_der):
            raise TimestampError("The token's TSTInfo does not match its signature.")
        ids = attributes.get("signing_certificate_v2")
        if ids is None or ids[0]["certs"][0]["cert_hash"].native != _sha256(cert):
            raise TimestampError("The token was not signed by the pinned timestamping authority.")
        # The signature covers the DER SET OF the signed attributes, not their [0] IMPLICIT form.
        signed_attrs = b"\x31" + signer["signed_attrs"].dump()[1:]
        public = x509.load_der_x509_certificate(cert).public_key()
        if not isinstance(public, ec.EllipticCurvePublicKey):
            raise TimestampError("The pinned timestamping authority's key is not an EC key.")
        public.verify(signer["signature"].native, signed_attrs, ec.ECDSA(hashes.SHA256()))
        at = tst["gen_time"].native
        serial = int(tst["serial_number"].native)
    except InvalidSignature as exc:
        raise TimestampError("The token's signature is not valid.") from exc
    except (ValueError, TypeError, KeyError, IndexError) as exc:
        raise TimestampError(f"The token cannot be read ({exc.__class__.__name__}).") from exc
    return Stamp(at=at.astimezone(UTC), serial=serial, token=token)


# --- the authority ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Authority:
    key: ec.EllipticCurvePrivateKey
    cert: x509.Certificate

    @property
    def cert_der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @classmethod
    def load(cls, directory: Path, *, name: str = "gov21 timestamping authority") -> Authority:
        """The authority kept in ``directory`` (``tsa.key``, ``tsa.pem``), made on first use."""
        directory.mkdir(parents=True, exist_ok=True)
        key_pem = private_file(
            directory / "tsa.key",
            lambda: ec.generate_private_key(ec.SECP256R1()).private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        key = serialization.load_pem_private_key(key_pem, password=None)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        cert_path = directory / "tsa.pem"
        if cert_path.exists():
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        else:
            cert = _self_signed(key, name)
            cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
        return cls(key=key, cert=cert)

    def reply(self, query_der: bytes) -> bytes:
        """The TimeStampResp to a TimeStampReq: a granted token, or a rejection saying why."""
        try:
            request = tsp.TimeStampReq.load(query_der)
            imprint = request["message_imprint"]
            algorithm = imprint["hash_algorithm"]["algorithm"].native
            hashed = imprint["hashed_message"].native
        except ValueError:
            return _rejection("bad_data_format", "not a TimeStampReq")
        if algorithm not in ("sha256", "sha384", "sha512") or len(hashed) != hashlib.new(algorithm).digest_size:
            return _rejection("bad_alg", "SHA-256, SHA-384 or SHA-512 imprints only")
        now = datetime.now(UTC).replace(microsecond=0)
        fields: dict[str, Any] = {
            "version": "v1",
            "policy": POLICY,
            "message_imprint": {"hash_algorithm": {"algorithm": algorithm}, "hashed_message": hashed},
            "serial_number": secrets.randbits(127),
            "gen_time": now,
            "accuracy": {"seconds": 1},
        }
        if request["nonce"].native is not None:
            fields["nonce"] = request["nonce"].native
        tst = tsp.TSTInfo(fields)
        token = self._sign(tst, with_cert=bool(request["cert_req"].native))
        der: bytes = Reply({"status": {"status": "granted"}, "time_stamp_token": token}).dump()
        return der

    def _sign(self, tst: Any, *, with_cert: bool) -> Any:
        attributes = [
            cms.CMSAttribute({"type": "content_type", "values": ["tst_info"]}),
            cms.CMSAttribute({"type": "message_digest", "values": [_sha256(tst.dump())]}),
            cms.CMSAttribute(
                {
                    "type": "signing_certificate_v2",
                    "values": [
                        {
                            "certs": [
                                {
                                    "hash_algorithm": {"algorithm": "sha256"},
                                    "cert_hash": _sha256(self.cert_der),
                                }
                            ]
                        }
                    ],
                }
            ),
        ]
        # DER orders a SET OF by its members' encodings; verifiers re-encode before checking.
        signed_attrs = cms.CMSAttributes(sorted(attributes, key=lambda a: a.dump()))
        signature = self.key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
        asn1_cert = asn1_x509.Certificate.load(self.cert_der)
        signer = cms.SignerInfo(
            {
                "version": "v1",
                "sid": cms.SignerIdentifier(
                    {
                        "issuer_and_serial_number": {
                            "issuer": asn1_cert.issuer,
                            "serial_number": asn1_cert.serial_number,
                        }
                    }
                ),
                "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
                "signed_attrs": signed_attrs,
                "signature_algorithm": {"algorithm": "sha256_ecdsa"},
                "signature": signature,
            }
        )
        body: dict[str, Any] = {
            "version": "v3",
            "digest_algorithms": [{"algorithm": "sha256"}],
            "encap_content_info": {"content_type": "tst_info", "content": tst},
            "signer_infos": [signer],
        }
        if with_cert:
            body["certificates"] = [asn1_cert]
        return cms.ContentInfo({"content_type": "signed_data", "content": cms.SignedData(body)})


def _rejection(failure: str, text: str) -> bytes:
    der: bytes = Reply({"status": {"status": "rejection", "status_string": [text], "fail_info": {failure}}}).dump()
    return der


def _self_signed(key: ec.EllipticCurvePrivateKey, name: str) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now.replace(year=now.year + 20))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.TIME_STAMPING]), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .sign(key, hashes.SHA256())
    )


def _handler(authority: Authority) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            kind = self.headers.get("content-type", "").split(";")[0].strip()
            length = int(self.headers.get("content-length") or 0)
            if kind != QUERY_TYPE or not 0 < length <= MAX_QUERY_BYTES:
                self._answer(415 if kind != QUERY_TYPE else 413, b"", "text/plain")
                return
            self._answer(200, authority.reply(self.rfile.read(length)), REPLY_TYPE)

        def _answer(self, status: int, body: bytes, kind: str) -> None:
            self.send_response(status)
            self.send_header("content-type", kind)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            logger.info("tsa: " + format, *args)

    return Handler


def serve(authority: Authority, *, host: str = "127.0.0.1", port: int = 0) -> ThreadingHTTPServer:
    """Start the authority on ``host:port`` in a background thread; ``server.shutdown()`` stops it.
    Port 0 picks a free one (``server.server_address[1]``)."""
    server = ThreadingHTTPServer((host, port), _handler(authority))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="gov21-tsa", daemon=True).start()
    return server
