"""The gateway: X-Road Message Protocol for REST (r1) on the information systems' side, signed
envelopes between gateways, access rights at the provider, and a log entry at both ends before
any response is released.

Flow of one message::

    consumer IS ──r1──▶ client proxy ──envelope──▶ server proxy ──HTTP/local──▶ provider service
                         (sign, log)   (in process    (verify, rights,
                                        or mTLS)       sign, log, data uses)

The envelope is a compact JWS (Ed25519, the sending member's key, named by its certificate's
fingerprint) over the message's metadata and SHA-512 hashes of its headers and body, followed by
a newline and the body itself. The request hash (§4.3 of the REST protocol) is
``base64(SHA512(SHA512(headers) + SHA512(body)))``, or ``base64(SHA512(headers))`` without a body,
where ``headers`` is the canonical request text documented in ``docs/exchange.md``: the request
line, then every header that travels through the exchange, lower-cased and sorted.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import logging
import ssl
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Final

import urllib3
import urllib3.connection
from django.db import connection, transaction
from django.utils import timezone

from gov21.core import config
from gov21.core.crypto import sign_compact, unverified_compact, verify_compact_key
from gov21.core.errors import DomainError
from gov21.exchange import chain, meta, metrics, node, pki
from gov21.exchange.errors import CLIENT_PROXY, SERVER_PROXY, XRoadError, signature_errors
from gov21.exchange.ids import ClientId, ServiceId, path_check, path_encode

logger = logging.getLogger("gov21.exchange")

ENVELOPE_TYP: Final = "gov21-xroad-msg+jwt"
# An envelope carries the message's metadata and headers, never its body.
ENVELOPE_MAX_CHARS: Final = 1024 * 1024
MAX_CLOCK_SKEW_S: Final = 300
# How long the consumer's gateway waits for the provider's node (which itself waits for its service).
PEER_TIMEOUT_S: Final = 60.0
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


def _body_hash(body: bytes) -> str:
    return base64.b64encode(_sha512(body)).decode("ascii")


def xroad_error(error: XRoadError, *, message_id: str = "") -> Response:
    """An error raised inside the exchange, as the specification shapes it (§4.6)."""
    import orjson

    status = 400 if error.type.startswith("Client.") else 500
    body = orjson.dumps({"type": error.type, "message": error.message, "detail": message_id or str(uuid.uuid4())})
    return Response(
        status=status,
        headers=[("content-type", "application/json;charset=utf-8"), ("x-road-error", error.type)],
        body=body,
        error=error.type,
    )


# --- the consumer side --------------------------------------------------------------------------


def client_proxy(req: Request) -> Response:
    """Handle one r1 request from an information system of this node."""
    started = time.perf_counter()
    this = node.this_node()
    request_id = str(uuid.uuid4())
    rhash = ""
    req_token = ""
    resp_token = ""
    try:
        conf = node.CONFS.own(origin=CLIENT_PROXY)
        if not conf.has_client(req.client) or req.client.instance != this.instance:
            raise XRoadError(
                f"{CLIENT_PROXY}.UnknownMember", f"Client {req.client} is not registered in {this.instance}"
            )
        client_sub = conf.subsystem(req.client)
        if client_sub is not None and client_sub.get("node") != this.code:
            raise XRoadError(f"{CLIENT_PROXY}.ClientNotFound", f"Client {req.client} is not a client of this node")
        provider_conf = node.CONFS.get(req.service.provider.instance, origin=CLIENT_PROXY)
        provider_sub = provider_conf.subsystem(req.service.provider)
        if provider_sub is None:
            raise XRoadError(f"{CLIENT_PROXY}.UnknownMember", f"No provider {req.service.provider}")
        rhash = request_hash(req)
        found = conf.cert_for(req.client, this.code)
        if found is None:
            raise XRoadError(
                f"{CLIENT_PROXY}.CannotSign", f"This node holds no signing certificate for {req.client.member}"
            )
        fingerprint, _ = found
        req_token = request_envelope(req, request_id=request_id, rhash=rhash, fingerprint=fingerprint)
        if provider_conf.instance == this.instance and provider_sub.get("node") == this.code:
            resp_token, body = server_proxy(req_token, req.body)
        else:
            peer = provider_conf.node(str(provider_sub.get("node")))
            if peer is None or not peer.get("address") or not peer.get("auth_cert"):
                raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"No address for the node of {req.service.provider}")
            resp_token, body = _send(
                peer["address"],
                req_token,
                req.body,
                timeout=PEER_TIMEOUT_S,
                pinned_sha256=pki.fingerprint(peer["auth_cert"]),
            )
        response = _accept_response(resp_token, body, req, rhash, provider_conf)
    except XRoadError as exc:
        response = xroad_error(exc.at(CLIENT_PROXY), message_id=req.message_id)
    duration = (time.perf_counter() - started) * 1000
    refusal = _logged_or_refusal(
        this,
        origin=CLIENT_PROXY,
        role="consumer",
        req=req,
        request_id=request_id,
        response=response,
        rhash=rhash,
        req_sig=req_token,
        resp_sig=resp_token,
        duration_ms=duration,
    )
    response = refusal or response
    metrics.observe(str(req.service), response.status, response.error, duration)
    response.headers = [
        *[(k, v) for k, v in response.headers if k not in XROAD_SET or k == "x-road-error"],
        ("x-road-client", str(req.client)),
        ("x-road-service", str(req.service)),
        ("x-road-id", req.message_id),
        ("x-road-request-id", request_id),
    ]
    if rhash and not response.error:
        response.headers.append(("x-road-request-hash", rhash))
    return response


def request_envelope(req: Request, *, request_id: str, rhash: str, fingerprint: str) -> str:
    """The signed envelope of a request, by the client member's key named by its certificate."""
    return sign_compact(
        node.signing_key(req.client),
        {
            "v": 1,
            "id": req.message_id,
            "rid": request_id,
            "client": str(req.client),
            "service": str(req.service),
            "method": req.method,
            "path": req.path,
            "query": req.query,
            "h": req.headers,
            "bh": _body_hash(req.body),
            "rh": rhash,
            "user": req.user_id,
            "issue": req.issue,
            "rep": req.represented_party,
            "iat": int(time.time()),
        },
        typ=ENVELOPE_TYP,
        kid=fingerprint,
    )


def _accept_response(token: str, body: bytes, req: Request, rhash: str, provider_conf: node.Conf) -> Response:
    header, _ = read_envelope(token)
    cert = provider_conf.signing_cert(str(header.get("kid", "")))
    if cert is None or cert["member"] != str(req.service.provider.member):
        raise XRoadError(f"{CLIENT_PROXY}.CertValidation", "The response is not signed by the provider's certificate")
    payload = verify_envelope(token, cert["pem"])
    if payload.get("id") != req.message_id:
        raise XRoadError(f"{CLIENT_PROXY}.InconsistentResponse", "The response answers another message")
    if payload.get("bh") != _body_hash(body):
        raise XRoadError(f"{CLIENT_PROXY}.InvalidSignatureValue", "The response body does not match its signature")
    error = str(payload.get("err") or "")
    if not error and payload.get("rh") != rhash:
        raise XRoadError(f"{CLIENT_PROXY}.InconsistentResponse", "The provider hashed a different request")
    headers = [(str(k), str(v)) for k, v in payload.get("h", [])]
    if error:
        headers.append(("x-road-error", error))
    return Response(status=int(payload["status"]), headers=headers, body=body, error=error)


# --- between gateways -----------------------------------------------------------------------------


class PeerCertificateMismatch(Exception):
    """The peer presented a certificate other than the one the configuration lists for its node."""


class _PinnedConnection(urllib3.connection.HTTPSConnection):
    """A connection to a provider's node: besides a chain to a trusted CA and the host name of its
    address (both checked by the TLS context), the certificate must be the very one the signed
    configuration lists for that node, so another node's genuine certificate does not pass."""

    def __init__(self, *args: Any, pinned_sha256: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.pinned_sha256 = pinned_sha256

    def connect(self) -> None:
        super().connect()
        sock = self.sock
        der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
        if not der or hashlib.sha256(der).hexdigest() != self.pinned_sha256:
            self.close()
            # Raised before a byte of the request is written.
            raise PeerCertificateMismatch(f"{self.host}:{self.port} is not the node the configuration names")


class _PeerPool(urllib3.HTTPSConnectionPool):
    ConnectionCls = _PinnedConnection


_pools: dict[tuple[str, str, int], urllib3.HTTPSConnectionPool] = {}
_pools_lock = threading.Lock()


def _peer_pool(address: str, pinned_sha256: str) -> urllib3.HTTPSConnectionPool:
    """A keep-alive mutual-TLS connection pool per peer node and certificate, rebuilt when the
    configuration (trusted CAs, this node's certificate, the peer's) changes."""
    serial = node.CONFS.own(origin=CLIENT_PROXY).serial
    with _pools_lock:
        pool = _pools.get((address, pinned_sha256, serial))
        if pool is None:
            from urllib.parse import urlsplit

            from gov21.exchange import tls

            for key in [k for k in _pools if k[0] == address]:
                _pools.pop(key).close()
            parts = urlsplit(address)
            if parts.scheme != "https" or not parts.hostname:
                raise XRoadError(
                    f"{CLIENT_PROXY}.NetworkError", f"A node address must be https://host:port, not {address}"
                )
            pool = _PeerPool(
                parts.hostname,
                parts.port or 443,
                ssl_context=tls.client_context(),
                maxsize=32,
                block=False,
                retries=False,
                pinned_sha256=pinned_sha256,
            )
            _pools[(address, pinned_sha256, serial)] = pool
        return pool


def _send(address: str, token: str, body: bytes, *, timeout: float, pinned_sha256: str) -> tuple[str, bytes]:
    try:
        response = _peer_pool(address, pinned_sha256).request(
            "POST",
            "/exchange/v1/message",
            body=token.encode("ascii") + b"\n" + body,
            headers={"content-type": "application/x-gov21-envelope"},
            timeout=urllib3.Timeout(connect=5.0, read=timeout),
            redirect=False,
        )
    except PeerCertificateMismatch as exc:
        raise XRoadError(
            f"{CLIENT_PROXY}.SslAuthenticationFailed",
            f"The provider's node presented a certificate other than the one its configuration lists: {exc}",
        ) from exc
    except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout errors in urllib3
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"Cannot reach the provider's node: {exc}") from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"The provider's node did not answer in time: {exc}") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"Cannot reach the provider's node: {exc}") from exc
    if response.status == 502:
        # The provider's node could not sign (it does not know the provider): its error, unsigned.
        try:
            problem = response.json()
            raise XRoadError(str(problem["type"]), str(problem["message"]))
        except (ValueError, KeyError, TypeError):
            pass
    if response.status != 200:
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"The provider's node answered {response.status}")
    return split_envelope(response.data)


def split_envelope(data: bytes) -> tuple[str, bytes]:
    token, sep, body = data.partition(b"\n")
    if not sep:
        raise XRoadError("InvalidMessage", "Not an exchange envelope")
    try:
        return token.decode("ascii"), body
    except UnicodeDecodeError as exc:
        raise XRoadError("InvalidMessage", "Not an exchange envelope") from exc


# --- the provider side ------------------------------------------------------------------------


def server_proxy(token: str, body: bytes, *, peer_cert: bytes | None = None) -> tuple[str, bytes]:
    """Handle one signed request from a consumer's gateway; the signed response envelope and body.

    ``peer_cert`` is the DER certificate the sending node presented in the TLS handshake (None in
    process): the signing member's certificate must belong to that very node, so a node cannot
    relay messages signed with keys another node holds. Errors are answered with a signed envelope
    too (when the provider is known), so the consumer's gateway can tell a forged error from a real
    one."""
    started = time.perf_counter()
    this = node.this_node()
    conf: node.Conf | None = None
    req: Request | None = None
    request_id = ""
    rhash = ""
    provider_member: ClientId | None = None
    try:
        conf = node.CONFS.own(origin=SERVER_PROXY)
        header, payload = read_envelope(token)
        req, request_id = _request_from(payload, body)
        provider_member = req.service.provider.member
        client_conf = node.CONFS.get(req.client.instance, origin=SERVER_PROXY)
        cert = client_conf.signing_cert(str(header.get("kid", "")))
        if cert is None or cert["member"] != str(req.client.member):
            raise XRoadError(
                f"{SERVER_PROXY}.CertValidation",
                "The request is not signed with a valid certificate of the client's member issued by its instance CA",
            )
        payload = verify_envelope(token, cert["pem"])
        if peer_cert is not None and client_conf.node_by_auth_cert(peer_cert) != cert["node"]:
            raise XRoadError(
                f"{SERVER_PROXY}.SslAuthenticationFailed",
                "The TLS certificate is not that of the node holding the client's signing key",
            )
        if abs(time.time() - int(payload.get("iat", 0))) > MAX_CLOCK_SKEW_S:
            raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", "The request is too old or from the future")
        if payload.get("bh") != _body_hash(body):
            raise XRoadError(f"{SERVER_PROXY}.InvalidSignatureValue", "The request body does not match its signature")
        rhash = request_hash(req)
        if payload.get("rh") != rhash:
            raise XRoadError(f"{SERVER_PROXY}.InvalidSignatureValue", "The request does not match its signed hash")
        if not 0 < len(request_id) <= 64:
            raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", "The envelope has no valid request id")
        if not _first_receipt(this, request_id):
            # The consumer's gateway gives every request a fresh id inside the signature, so the
            # same id twice is a captured envelope sent again (a client's own retry gets a new one).
            raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", "This signed request was already received")
        # The consumer's gateway checked the path, but rights are granted here, on this very path:
        # check it again rather than trust another node's parsing.
        path_check(req.path)
        if req.service.provider.instance != this.instance:
            raise XRoadError(f"{SERVER_PROXY}.UnknownService", f"This node serves instance {this.instance} only")
        sub = conf.subsystem(req.service.provider)
        if req.service.code in meta.METASERVICES and sub is not None and sub.get("node") == this.code:
            response = _metaservice(conf, req)
            return _respond(this, conf, req, request_id, rhash, provider_member, token, response, started)
        if conf.service(req.service) is None or sub is None:
            raise XRoadError(f"{SERVER_PROXY}.UnknownService", f"Unknown service {req.service}")
        if sub.get("node") != this.code:
            raise XRoadError(f"{SERVER_PROXY}.UnknownService", f"{req.service.provider} is not served by this node")
        if not conf.allowed(req.client, req.service, req.method, req.path or "/"):
            raise XRoadError(
                f"{SERVER_PROXY}.AccessDenied",
                f"Request is not allowed: {req.client} has no right to {req.method} {req.path or '/'} on {req.service}",
            )
        response = _call_service(req)
    except XRoadError as exc:
        response = xroad_error(exc.at(SERVER_PROXY), message_id=req.message_id if req else "")
    return _respond(this, conf, req, request_id, rhash, provider_member, token, response, started)


_pruned_at: dict[str, float] = {}


def _first_receipt(this: node.ThisNode, request_id: str) -> bool:
    """Record ``request_id`` as received; False if it already was (a replay). The database's
    unique constraint decides, so concurrent copies of one request cannot both pass."""
    from datetime import timedelta

    from django.db import IntegrityError

    from gov21.exchange.models import ReceivedRequest

    now = timezone.now()
    try:
        # A savepoint of its own: the caller may hold a transaction (a call inside this process),
        # and a refused insert must not break it.
        with _log_writer(), transaction.atomic():
            ReceivedRequest.objects.create(chain=this.log_chain, request_id=request_id, received_at=now)
    except IntegrityError:
        return False
    if time.monotonic() - _pruned_at.get(this.log_chain, 0.0) > 60:
        _pruned_at[this.log_chain] = time.monotonic()
        # A request is refused once its iat is MAX_CLOCK_SKEW_S old, and may be dated that far in
        # the future: after three times the skew nobody can replay it anyway.
        ReceivedRequest.objects.filter(
            chain=this.log_chain, received_at__lt=now - timedelta(seconds=3 * MAX_CLOCK_SKEW_S)
        ).delete()
    return True


def _respond(
    this: node.ThisNode,
    conf: node.Conf | None,
    req: Request | None,
    request_id: str,
    rhash: str,
    provider_member: ClientId | None,
    req_token: str,
    response: Response,
    started: float,
) -> tuple[str, bytes]:
    resp_token = ""
    headers = [(k, v) for k, v in response.headers if k not in XROAD_SET and k != SUBJECTS_HEADER]
    found = conf.cert_for(provider_member, this.code) if conf is not None and provider_member is not None else None
    if found is None:
        # Nobody to sign as: an unsigned error the consumer's gateway reports as the provider side's.
        err = response.error or f"{SERVER_PROXY}.InternalError"
        return "", _unsigned_error(err, response.body)
    assert provider_member is not None
    resp_token = sign_compact(
        node.signing_key(provider_member),
        {
            "v": 1,
            "id": req.message_id if req else "",
            "rid": request_id,
            "rh": rhash,
            "status": response.status,
            "h": headers,
            "bh": _body_hash(response.body),
            "err": response.error,
            "iat": int(time.time()),
        },
        typ=ENVELOPE_TYP,
        kid=found[0],
    )
    duration = (time.perf_counter() - started) * 1000
    if req is not None:
        refusal = _logged_or_refusal(
            this,
            origin=SERVER_PROXY,
            role="provider",
            req=req,
            request_id=request_id,
            response=response,
            rhash=rhash,
            req_sig=req_token,
            resp_sig=resp_token,
            duration_ms=duration,
        )
        if refusal is not None:
            return _respond(this, conf, None, request_id, "", provider_member, "", refusal, started)
        metrics.observe(str(req.service), response.status, response.error, duration)
    return resp_token, response.body


def _unsigned_error(error: str, body: bytes) -> bytes:
    import orjson

    try:
        message = str(orjson.loads(body)["message"])
    except (orjson.JSONDecodeError, KeyError, TypeError):
        message = body.decode("utf-8", "replace")[:300]
    raise XRoadError(error, message)


def _request_from(payload: dict[str, Any], body: bytes) -> tuple[Request, str]:
    try:
        req = Request(
            method=str(payload["method"]),
            service=ServiceId.parse(str(payload["service"])),
            path=str(payload["path"]),
            query=str(payload["query"]),
            headers=[(str(k).lower(), str(v)) for k, v in payload["h"]],
            body=body,
            client=ClientId.parse(str(payload["client"])),
            message_id=str(payload["id"]),
            user_id=str(payload.get("user", "")),
            issue=str(payload.get("issue", "")),
            represented_party=str(payload.get("rep", "")),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", f"Malformed envelope: {exc}") from exc
    return req, str(payload.get("rid", ""))


def _metaservice(conf: node.Conf, req: Request) -> Response:
    from urllib.parse import parse_qs

    status, body, content_type = meta.answer(
        conf, req.client, req.service.provider, req.service.code, parse_qs(req.query), _openapi_of
    )
    return Response(status=status, headers=[("content-type", content_type)], body=body)


def _openapi_of(sid: ServiceId) -> dict[str, Any]:
    from gov21.exchange.models import LocalService

    local = LocalService.objects.filter(service_id=str(sid)).values_list("openapi", flat=True).first()
    if local:
        return dict(local)
    row = _service_row(sid, "openapi")
    return dict(row[0] or {}) if row else {}


# Handlers of services that live in this process (``local:<name>``), registered by the apps that own them.
LocalHandler = Callable[["ServiceRequest"], "ServiceResponse"]
LOCAL_HANDLERS: dict[str, LocalHandler] = {}


@dataclass(frozen=True)
class ServiceRequest:
    """What a provider service sees of a request that came through the exchange."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes
    client: str
    service: str
    message_id: str
    user_id: str
    issue: str


@dataclass
class ServiceResponse:
    status: int
    body: bytes
    content_type: str = "application/json"
    subjects: list[str] = field(default_factory=list)  # UINs of the persons whose data is returned


def problem_response(error: DomainError) -> ServiceResponse:
    """A provider service's refusal as RFC 9457 problem details, the platform's error shape."""
    import orjson

    body: dict[str, Any] = {
        "type": error.code,
        "title": error.title,
        "status": error.status,
        "detail": error.detail,
        "code": error.code,
    }
    if error.field:
        body["field"] = error.field
    return ServiceResponse(status=error.status, body=orjson.dumps(body), content_type="application/problem+json")


def _service_row(sid: ServiceId, *fields: str) -> tuple[Any, ...] | None:
    """Columns of the directory's own row for a service (a node sharing the directory's database)."""
    from gov21.exchange.models import Service

    row: tuple[Any, ...] | None = (
        Service.objects.filter(
            subsystem__member__instance=sid.provider.instance,
            subsystem__member__member_class=sid.provider.member_class,
            subsystem__member__code=sid.provider.member_code,
            subsystem__code=sid.provider.subsystem,
            code=sid.code,
        )
        .values_list(*fields)
        .first()
    )
    return row


def _service_address(req: Request) -> tuple[str, float]:
    from gov21.exchange.models import LocalService

    key = str(req.service)
    local = LocalService.objects.filter(service_id=key).values_list("base_url", "timeout_s").first()
    if local is not None:
        return local[0], float(local[1])
    row = _service_row(req.service, "base_url", "timeout_s")
    if row is None or not row[0]:
        raise XRoadError(f"{SERVER_PROXY}.ServiceMissingUrl", f"No address is configured for {req.service}")
    return row[0], float(row[1])


_address_cache: dict[str, tuple[float, str, float]] = {}


def _cached_address(req: Request) -> tuple[str, float]:
    key = str(req.service)
    hit = _address_cache.get(key)
    now = time.monotonic()
    if hit is not None and now - hit[0] < 5:
        return hit[1], hit[2]
    url, timeout = _service_address(req)
    _address_cache[key] = (now, url, timeout)
    return url, timeout


def _call_service(req: Request) -> Response:
    url, timeout = _cached_address(req)
    if url.startswith("local:"):
        return _call_local(url.removeprefix("local:"), req)
    return _call_http(url, timeout, req)


def _call_local(name: str, req: Request) -> Response:
    from urllib.parse import parse_qs

    handler = LOCAL_HANDLERS.get(name)
    if handler is None:
        raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"Service handler {name} is not available")
    sreq = ServiceRequest(
        method=req.method,
        path=req.path or "/",
        query=parse_qs(req.query, keep_blank_values=True),
        headers=dict(req.headers),
        body=req.body,
        client=str(req.client),
        service=str(req.service),
        message_id=req.message_id,
        user_id=req.user_id,
        issue=req.issue,
    )
    try:
        with transaction.atomic():
            result = handler(sreq)
    except XRoadError:
        raise
    except Exception as exc:
        logger.exception("local service %s failed", name)
        raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"The service failed: {type(exc).__name__}") from exc
    return Response(
        status=result.status,
        headers=[("content-type", result.content_type)],
        body=result.body,
        subjects=list(result.subjects),
    )


_services_pool = urllib3.PoolManager(num_pools=64, maxsize=32, block=False, retries=False)


def _call_http(base_url: str, timeout: float, req: Request) -> Response:
    url = base_url.rstrip("/") + path_encode(req.path) + (f"?{req.query}" if req.query else "")
    limit = config.EXCHANGE_MAX_BODY_BYTES.read()
    try:
        response = _services_pool.request(
            req.method,
            url,
            body=req.body or None,
            headers=dict(req.headers),
            timeout=urllib3.Timeout(connect=min(5.0, timeout), read=timeout),
            redirect=False,
            preload_content=False,
        )
        try:
            chunks: list[bytes] = []
            size = 0
            for chunk in response.stream(65536):
                size += len(chunk)
                if size > limit:
                    raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"The service answered more than {limit} bytes")
                chunks.append(chunk)
        finally:
            response.release_conn()
    except urllib3.exceptions.NewConnectionError as exc:  # a subclass of the timeout errors in urllib3
        raise XRoadError(f"{SERVER_PROXY}.NetworkError", f"Cannot reach the service: {exc}") from exc
    except urllib3.exceptions.TimeoutError as exc:
        raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"The service did not answer within {timeout:g} s") from exc
    except (urllib3.exceptions.HTTPError, OSError) as exc:
        raise XRoadError(f"{SERVER_PROXY}.NetworkError", f"Cannot reach the service: {exc}") from exc
    headers = forwardable(list(response.headers.items()))
    subjects = [s.strip() for s in response.headers.get(SUBJECTS_HEADER, "").split(",") if s.strip()]
    return Response(response.status, headers, b"".join(chunks), subjects=subjects)


# --- the log ------------------------------------------------------------------------------------


_sqlite_writer = threading.Lock()


@contextlib.contextmanager
def _log_writer() -> Iterator[None]:
    """On SQLite, threads of one process take turns here before asking for the database's write
    lock: waiting on a Python lock wakes at once, while SQLite's busy handler sleeps in steps of up
    to 100 ms, which is what made the tail latency under load. PostgreSQL's row lock needs no help.
    Inside a caller's transaction the write lock is already held; nothing to order."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _sqlite_writer:
        yield


def _logged_or_refusal(this: node.ThisNode, *, origin: str, **entry: Any) -> Response | None:
    """Write the message's log entry; if it cannot be written, the error that replaces the
    response (fail closed: nothing else is released)."""
    try:
        _log(this, **entry)
    except Exception:
        logger.exception("message log write failed")
        return xroad_error(XRoadError(f"{origin}.LoggingFailed", "The message log could not be written"))
    return None


def _log(
    this: node.ThisNode,
    *,
    role: str,
    req: Request,
    request_id: str,
    response: Response,
    rhash: str,
    req_sig: str,
    resp_sig: str,
    duration_ms: float,
) -> None:
    """Write the message's log entry (and, at the provider, its data uses) in one transaction.
    Raises if it cannot: the caller then answers LoggingFailed and releases nothing else."""
    now = timezone.now()
    values = {
        "at": now,
        "role": role,
        "message_id": req.message_id[:100],
        "request_id": request_id,
        "client": str(req.client),
        "service": str(req.service),
        "method": req.method,
        "path": req.target[:2000],
        "status": response.status,
        "error": response.error[:100],
        "user_id": req.user_id[:100],
        "issue": req.issue[:300],
        "represented_party": req.represented_party[:300],
        "request_hash": rhash,
        "response_hash": _body_hash(response.body),
        "request_sig": req_sig,
        "response_sig": resp_sig,
        "subjects": ",".join(response.subjects)[:2000],
    }
    extra: dict[str, Any] = {"duration_ms": round(duration_ms, 3)}
    bound = None
    if config.EXCHANGE_LOG_BODIES.read():
        from gov21.exchange import bodies

        # Sealed to the entry's place in the chain, so it cannot be moved to another entry.
        bound = bodies.sealer(this.log_chain, req.body, response.body)
    with _log_writer(), transaction.atomic():
        chain.append(this.log_chain, values, signer=node.sign_bytes, extra=extra, bound=bound)
        if role == "provider" and response.subjects and response.status < 400:
            for subject in dict.fromkeys(response.subjects):
                chain.append(
                    this.uses_chain,
                    {
                        "at": now,
                        "subject": subject[:40],
                        "client": str(req.client),
                        "service": str(req.service),
                        "method": req.method,
                        "path": (req.path or "/")[:500],
                        "user_id": req.user_id[:100],
                        "issue": req.issue[:300],
                        "message_id": req.message_id[:100],
                    },
                    signer=node.sign_bytes,
                )
