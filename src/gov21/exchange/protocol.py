"""The exchange's message protocol: X-Road Message Protocol for REST (r1) on the information
systems' side, signed envelopes between gateways.

Flow of one message::

    consumer IS ──r1──▶ client proxy ──envelope──▶ server proxy ──HTTP/local──▶ provider service
                         (sign, log)   (in process    (verify, rights,
                                        or mTLS)       sign, log, data uses)

The client proxy is :mod:`gov21.exchange.consumer`, the server proxy and its dispatch to services
:mod:`gov21.exchange.provider`, the HTTP between them and to services :mod:`gov21.exchange.transport`,
and the message log written at both ends :mod:`gov21.exchange.log`. This module holds what they
share: the request and response, the envelope and the hashes.

The envelope is a compact JWS (Ed25519, the sending member's key, named by its certificate's
fingerprint) over the message's metadata and SHA-512 hashes of its headers and body, followed by
a newline and the body itself. The request hash (§4.3 of the REST protocol) is
``base64(SHA512(SHA512(headers) + SHA512(body)))``, or ``base64(SHA512(headers))`` without a body,
where ``headers`` is the canonical request text documented in ``docs/exchange.md``: the request
line, then every header that travels through the exchange, lower-cased and sorted.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from dataclasses import dataclass, field
from typing import Any, Final

import orjson

from gov21.core.crypto import unverified_compact, verify_compact_key
from gov21.exchange import pki
from gov21.exchange.errors import XRoadError, signature_errors
from gov21.exchange.ids import ClientId, ServiceId

ENVELOPE_TYP: Final = "gov21-xroad-msg+jwt"
# An envelope carries the message's metadata and headers, never its body.
ENVELOPE_MAX_CHARS: Final = 1024 * 1024
MAX_CLOCK_SKEW_S: Final = 300
# Hop-by-hop headers and those that would leak the origin host (§4.3, "Filtered headers").
FILTERED: Final = frozenset(
    {
        "connection",
        "keep-alive",
        "proxy-authenticate",
        "proxy-authorization",
        "te",
        "trailer",
        "transfer-encoding",
        "upgrade",
        "host",
        "user-agent",
        "server",
        "content-length",
        "expect",
        "date",
    }
)
XROAD_SET: Final = frozenset(
    {
        "x-road-client",
        "x-road-service",
        "x-road-id",
        "x-road-request-id",
        "x-road-request-hash",
        "x-road-error",
        "x-road-security-server",
    }
)
SUBJECTS_HEADER: Final = "x-gov21-data-subjects"
# The node interface's one path: where gateways send each other signed envelopes.
NODE_PATH: Final = "/exchange/v1/message"

Headers = list[tuple[str, str]]


@dataclass
class Request:
    method: str
    service: ServiceId
    path: str  # after the service identifier, decoded once and checked (ids.path_check), "" or "/..."
    query: str  # raw query string without "?"
    headers: Headers  # what travels: filtered, without the X-Road ones the gateway sets itself
    body: bytes
    client: ClientId
    message_id: str
    user_id: str = ""
    issue: str = ""
    represented_party: str = ""

    @property
    def target(self) -> str:
        return f"{self.path or '/'}{'?' + self.query if self.query else ''}"


@dataclass
class Response:
    status: int
    headers: Headers
    body: bytes
    error: str = ""
    subjects: list[str] = field(default_factory=list)


def forwardable(headers: Headers) -> Headers:
    return [(k.lower(), v) for k, v in headers if k.lower() not in FILTERED and k.lower() not in XROAD_SET]


def read_envelope(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """An envelope's header and claims, not yet trusted: ``kid`` names the signing certificate."""
    with signature_errors():
        return unverified_compact(token, typ=ENVELOPE_TYP, max_length=ENVELOPE_MAX_CHARS)


def verify_envelope(token: str, cert_pem: str) -> dict[str, Any]:
    """The envelope's claims, once its signature verifies with the certificate's key."""
    with signature_errors():
        return verify_compact_key(token, pki.cert_public_key(cert_pem), typ=ENVELOPE_TYP, max_length=ENVELOPE_MAX_CHARS)


def _sha512(data: bytes) -> bytes:
    return hashlib.sha512(data).digest()


def canonical_request(req: Request) -> bytes:
    lines = [f"{req.method} {req.target}"]
    xroad = [
        ("x-road-client", str(req.client)),
        ("x-road-id", req.message_id),
        ("x-road-service", str(req.service)),
    ]
    for name, value in sorted([*req.headers, *xroad], key=lambda kv: kv[0]):
        lines.append(f"{name}: {value}")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


def request_hash(req: Request) -> str:
    headers = _sha512(canonical_request(req))
    digest = _sha512(headers + _sha512(req.body)) if req.body else headers
    return base64.b64encode(digest).decode("ascii")


def body_hash(body: bytes) -> str:
    return base64.b64encode(_sha512(body)).decode("ascii")


def xroad_error(error: XRoadError, *, message_id: str = "") -> Response:
    """An error raised inside the exchange, as the specification shapes it (§4.6)."""
    status = 400 if error.type.startswith("Client.") else 500
    body = orjson.dumps({"type": error.type, "message": error.message, "detail": message_id or str(uuid.uuid4())})
    return Response(
        status=status,
        headers=[("content-type", "application/json;charset=utf-8"), ("x-road-error", error.type)],
        body=body,
        error=error.type,
    )


def split_envelope(data: bytes) -> tuple[str, bytes]:
    token, sep, body = data.partition(b"\n")
    if not sep:
        raise XRoadError("InvalidMessage", "Not an exchange envelope")
    try:
        return token.decode("ascii"), body
    except UnicodeDecodeError as exc:
        raise XRoadError("InvalidMessage", "Not an exchange envelope") from exc
