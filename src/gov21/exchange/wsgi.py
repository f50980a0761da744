"""The gateway's HTTP faces, as lean WSGI callables, each served on its own listener.

* :func:`clients_application` is the information systems' side of this node (``/r1/...``,
  ``/listClients``, ``/metrics``), for the internal listeners of ``gov21 exchange node serve``
  (``--listen``, and ``--client-tls-listen`` for HTTPS). It is never part of the platform's public
  application: the platform's own apps reach the exchange in process (``exchange_call``).
* :func:`node_application` is the node interface (``/exchange/v1/message``) for the mutual-TLS
  listener; it answers nothing else.

They bypass Django's middleware (sessions, CSRF, templates), which a machine-to-machine protocol
does not use, and which would cost more than the gateway's own work per message.
"""

from __future__ import annotations

import functools
import hashlib
import ipaddress
import re
import ssl
import time
import uuid
from typing import TYPE_CHECKING, Final
from urllib.parse import quote

import orjson
from django.db import close_old_connections, connection

from gov21.core import config
from gov21.exchange import consumer, meta, metrics, node, protocol, provider
from gov21.exchange.errors import XRoadError
from gov21.exchange.ids import ClientId, split_service_path
from gov21.exchange.protocol import NODE_PATH, Request, Response

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIEnvironment


def _recycle_connections() -> None:
    """What Django does around each request: drop broken or expired database connections. Never
    inside a transaction (a test client's request runs inside the test's)."""
    if connection.get_autocommit():
        close_old_connections()


MAX_URI: Final = 2000
_MESSAGE_ID_RE: Final = re.compile(r"[\x21-\x7e]{1,100}")
_REASONS: Final = {
    200: "OK",
    201: "Created",
    204: "No Content",
    400: "Bad Request",
    403: "Forbidden",
    404: "Not Found",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def _reply(start_response: StartResponse, response: Response) -> list[bytes]:
    reason = _REASONS.get(response.status, "Status")
    headers = [(k, v) for k, v in response.headers if k != "content-length"]
    headers.append(("content-length", str(len(response.body))))
    start_response(f"{response.status} {reason}", headers)
    return [response.body]


def _headers(environ: WSGIEnvironment) -> list[tuple[str, str]]:
    result = []
    for key, value in environ.items():
        if key.startswith("HTTP_"):
            result.append((key[5:].replace("_", "-").lower(), value))
    # Servers such as wsgiref invent "text/plain" for a request without a body: only a body has a type.
    if environ.get("CONTENT_TYPE") and (
        environ.get("CONTENT_LENGTH") not in (None, "", "0") or "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "")
    ):
        result.append(("content-type", environ["CONTENT_TYPE"]))
    return result


def body_too_large(limit: int) -> XRoadError:
    return XRoadError("Client.BadRequest", f"The request body is larger than {limit} bytes", status=400)


def declared_length(length: str, limit: int) -> int | None:
    """The body's declared length (None without Content-Length), refused past ``limit``."""
    if not length:
        return None
    try:
        n = int(length)
    except ValueError as exc:
        raise XRoadError("Client.BadRequest", "Content-Length is not a number", status=400) from exc
    if n > limit:
        raise body_too_large(limit)
    return n


def _read_body(environ: WSGIEnvironment) -> bytes:
    limit = config.EXCHANGE_MAX_BODY_BYTES.read()
    stream = environ["wsgi.input"]
    n = declared_length(environ.get("CONTENT_LENGTH") or "", limit)
    if n is not None:
        return bytes(stream.read(n)) if n else b""
    if "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower():
        data = stream.read(limit + 1)
        if len(data) > limit:
            raise body_too_large(limit)
        return bytes(data)
    return b""


def _raw_path(environ: WSGIEnvironment) -> str:
    raw = environ.get("RAW_URI") or environ.get("REQUEST_URI")
    if raw:
        return str(raw).split("?", 1)[0]
    # Without the raw URI (test clients), re-encode what the server decoded.
    return quote(environ.get("PATH_INFO", "").encode("latin-1").decode("utf-8", "replace"), safe="/:@!$&'()*+,;=-._~")


def parse_r1(environ: WSGIEnvironment) -> Request:
    req = r1_head(
        method=environ["REQUEST_METHOD"],
        path=_raw_path(environ),
        query=environ.get("QUERY_STRING", ""),
        headers=_headers(environ),
    )
    req.body = _read_body(environ)
    return req


def r1_head(*, method: str, path: str, query: str, headers: list[tuple[str, str]]) -> Request:
    """An r1 request from its request line and headers (lower-cased names), every check made
    before its body is read; the body is the caller's to read (synchronously or not)."""
    if len(path) + len(query) > MAX_URI:
        raise XRoadError("Client.BadRequest", f"The request URI is longer than {MAX_URI} characters", status=400)
    named = dict(headers)
    client_text = named.get("x-road-client", "").strip()
    if not client_text:
        raise XRoadError("Client.BadRequest", "The X-Road-Client header is missing", status=400)
    client = ClientId.parse(client_text, error="Client.InvalidClientIdentifier")
    service, rest = split_service_path(path.removeprefix("/r1/"))
    message_id = named.get("x-road-id", "").strip() or str(uuid.uuid4())
    if not _MESSAGE_ID_RE.fullmatch(message_id):
        raise XRoadError("Client.BadRequest", "X-Road-Id must be 1-100 printable characters", status=400)
    return Request(
        method=method.upper(),
        service=service,
        path=rest,
        query=query,
        headers=protocol.forwardable(headers),
        body=b"",
        client=client,
        message_id=message_id,
        user_id=named.get("x-road-userid", "")[:100],
        issue=named.get("x-road-issue", "")[:300],
        represented_party=named.get("x-road-represented-party", "")[:300],
    )


def clients_application(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """The information systems' listener: X-Road REST r1, ``listClients`` and ``metrics``; nothing
    else (the platform's pages and APIs are not served here, and this is not served there)."""
    _recycle_connections()
    try:
        path = environ.get("PATH_INFO", "")
        if path == "/metrics":
            return _reply(start_response, metrics_response(str(environ.get("REMOTE_ADDR") or "")))
        if path.rstrip("/") == "/listClients":
            return _reply(start_response, list_clients(environ.get("QUERY_STRING", ""), environ.get("HTTP_ACCEPT", "")))
        if not is_protocol_path(path):
            return _reply(start_response, NOT_FOUND)
        try:
            protocol_version_check(path)
            req = parse_r1(environ)
        except XRoadError as exc:
            response = protocol.xroad_error(exc)
            metrics.observe("", response.status, response.error, 0.0)
            return _reply(start_response, response)
        try:
            authenticate_client(
                req,
                remote_addr=str(environ.get("REMOTE_ADDR") or ""),
                peer_der=_socket_cert(environ),
                rule=_client_rule(str(req.client)),
            )
        except XRoadError as exc:
            response = protocol.xroad_error(exc, message_id=req.message_id)
            metrics.observe(str(req.service), response.status, response.error, 0.0)
            return _reply(start_response, response)
        return _reply(start_response, consumer.client_proxy(req))
    finally:
        _recycle_connections()


NOT_FOUND: Final = Response(404, [("content-type", "text/plain")], b"not found\n")


def is_protocol_path(path: str) -> bool:
    """Whether ``path`` is X-Road REST's (``/r<version>/...``); anything else is not found."""
    return path.startswith("/r") and path[2:3].isdigit()


def protocol_version_check(path: str) -> None:
    if not path.startswith("/r1/"):
        raise XRoadError(
            "Client.InvalidProtocolVersion", "Only version r1 of the X-Road REST protocol is served", status=400
        )


def _socket_cert(environ: WSGIEnvironment) -> bytes | None:
    """The certificate the peer presented in the TLS handshake (gunicorn passes its socket)."""
    sock = environ.get("gunicorn.socket")
    der = sock.getpeercert(binary_form=True) if isinstance(sock, ssl.SSLSocket) else None
    return bytes(der) if der else None


@functools.lru_cache(maxsize=8)
def _networks(setting: str, entries: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    try:
        return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)
    except ValueError as exc:
        raise XRoadError(
            "Server.ClientProxy.InternalError", f"{setting} is not a comma-separated list of networks: {exc}"
        ) from exc


def _peer_allowed(remote_addr: str, setting: config.Setting[list[str]]) -> bool:
    """Whether the listener's own peer (its socket's address, never a forwarding header: nothing may
    stand between an information system and this listener) is loopback or in ``setting``'s networks."""
    try:
        peer = ipaddress.ip_address(remote_addr.split("%", 1)[0])
    except ValueError:
        return False  # a Unix socket or no address: nothing to check, so no plain HTTP
    if isinstance(peer, ipaddress.IPv6Address) and peer.ipv4_mapped is not None:
        peer = peer.ipv4_mapped
    if peer.is_loopback:
        return True
    return any(peer in network for network in _networks(setting.name, tuple(setting.read())))


def metrics_response(remote_addr: str) -> Response:
    try:
        allowed = _peer_allowed(remote_addr, config.EXCHANGE_METRICS_NETWORKS)
    except XRoadError as exc:
        return protocol.xroad_error(exc)
    if not allowed:
        body = b"metrics are served to loopback and GOV21_EXCHANGE_METRICS_NETWORKS only\n"
        return Response(403, [("content-type", "text/plain")], body)
    return Response(200, [("content-type", "text/plain; version=0.0.4")], metrics.render().encode())


_client_rules: dict[str, tuple[float, str, frozenset[str]]] = {}


def _client_rule(client: str) -> tuple[str, frozenset[str]]:
    """(connection type, certificate fingerprints) of a client of this node, cached a few seconds.
    A client the operator did not register gets the default connection type (https), and no
    certificate of its own, so it cannot get in."""
    hit = _client_rules.get(client)
    now = time.monotonic()
    if hit is not None and now - hit[0] < 5:
        return hit[1], hit[2]
    return _client_rule_read(client)


def client_rule_cached(client: str) -> tuple[str, frozenset[str]] | None:
    """The rule in memory, however old (the asynchronous gateway's refresher keeps it current)."""
    hit = _client_rules.get(client)
    return None if hit is None else (hit[1], hit[2])


def client_rules_refresh() -> None:
    """Read again every rule in memory: the asynchronous gateway's refresher, off its event loop."""
    for client in list(_client_rules):
        _client_rule_read(client)


def _client_rule_read(client: str) -> tuple[str, frozenset[str]]:
    from gov21.exchange import pki
    from gov21.exchange.models import LocalClient

    now = time.monotonic()
    row = LocalClient.objects.filter(client_id=client).values_list("connection", "certificates").first()
    connection_type = row[0] if row else config.EXCHANGE_CLIENT_CONNECTION.read()
    fingerprints = frozenset(pki.fingerprint(pem) for pem in (row[1] if row else []))
    _client_rules[client] = (now, connection_type, fingerprints)
    return connection_type, fingerprints


def authenticate_client(
    req: Request, *, remote_addr: str, peer_der: bytes | None, rule: tuple[str, frozenset[str]]
) -> None:
    """X-Road's connection types on the internal side. ``X-Road-Client`` only names who the caller
    claims to be; what lets it act as that client is a registered TLS certificate (https), or, for
    a client the operator registered for plain http, a call from loopback or an allowed network."""
    connection_type, fingerprints = rule
    if connection_type == "http":
        if _peer_allowed(remote_addr, config.EXCHANGE_HTTP_CLIENT_NETWORKS):
            return
        raise XRoadError(
            "Server.ClientProxy.SslAuthenticationFailed",
            f"Client ({req.client}) may use plain HTTP only from loopback or GOV21_EXCHANGE_HTTP_CLIENT_NETWORKS; "
            "call from there, or over HTTPS with a registered certificate",
        )
    if not peer_der:
        raise XRoadError(
            "Server.ClientProxy.SslAuthenticationFailed",
            f"Client ({req.client}) specifies HTTPS but did not supply a TLS certificate",
        )
    if hashlib.sha256(peer_der).hexdigest() not in fingerprints:
        raise XRoadError(
            "Server.ClientProxy.SslAuthenticationFailed",
            f"The TLS certificate presented is not one registered for {req.client}",
        )


def list_clients(query: str, accept: str) -> Response:
    from urllib.parse import parse_qs

    try:
        own = node.CONFS.own(origin="Server.ClientProxy")
        wanted = (parse_qs(query).get("xRoadInstance") or [own.instance])[0]
        conf = node.CONFS.get(wanted, origin="Server.ClientProxy")
    except XRoadError as exc:
        return protocol.xroad_error(exc)
    as_json = "application/json" in accept
    body, content_type = meta.list_clients([conf], as_json=as_json)
    return Response(200, [("content-type", content_type)], body)


def node_peer_cert(der: bytes | None) -> bytes:
    """The certificate the sending node presented, which the node interface requires."""
    if not der:
        raise XRoadError(
            "Server.ServerProxy.SslAuthenticationFailed", "The node interface requires a TLS client certificate"
        )
    return der


def node_body_limit() -> int:
    """The largest envelope the node interface reads: the largest body and room for its envelope."""
    return config.EXCHANGE_MAX_BODY_BYTES.read() + 64 * 1024


def node_error(exc: XRoadError) -> Response:
    """The node interface's unsigned error (a 502 the consumer's gateway reports as the provider's)."""
    problem = orjson.dumps({"type": exc.at("Server.ServerProxy").type, "message": exc.message})
    return Response(502, [("content-type", "application/json")], problem)


def node_answer(token: str, body: bytes) -> Response:
    return Response(200, [("content-type", "application/x-gov21-envelope")], token.encode("ascii") + b"\n" + body)


def node_application(environ: WSGIEnvironment, start_response: StartResponse) -> list[bytes]:
    """The node interface: signed envelopes from other gateways, over mutual TLS only."""
    _recycle_connections()
    try:
        if environ.get("PATH_INFO") != NODE_PATH or environ.get("REQUEST_METHOD") != "POST":
            return _reply(start_response, NOT_FOUND)
        try:
            length = int(environ.get("CONTENT_LENGTH") or 0)
            if length > node_body_limit():
                raise XRoadError("Server.ServerProxy.InvalidMessage", "The message is too large")
            token, body = protocol.split_envelope(environ["wsgi.input"].read(length))
            resp_token, resp_body = provider.server_proxy(token, body, peer_cert=node_peer_cert(_socket_cert(environ)))
        except XRoadError as exc:
            return _reply(start_response, node_error(exc))
        return _reply(start_response, node_answer(resp_token, resp_body))
    finally:
        _recycle_connections()
