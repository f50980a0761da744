"""The asynchronous gateway's HTTP (:mod:`gov21.exchange.agateway`): keep-alive mutual-TLS
connections to other nodes, each pinned to the certificate the signed configuration lists for that
node and checked right after the handshake, before a byte of the request is written; and an
aiohttp client to provider services with the limits of :func:`gov21.exchange.transport.service_send`.

The node-to-node client is a small HTTP/1.1 client over asyncio streams rather than aiohttp's
connector: the only request it sends is one POST of an envelope to one path, and the pin must be
checked between the handshake and the first byte written, a point aiohttp's connector exposes
only through its private classes (see docs/decisions/0033-asynchronous-gateway.md).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import ssl
from collections import deque
from typing import Final
from urllib.parse import urlsplit

import aiohttp
import yarl

from gov21.core import config
from gov21.exchange import node, tls
from gov21.exchange.errors import CLIENT_PROXY, SERVER_PROXY, XRoadError
from gov21.exchange.ids import path_encode
from gov21.exchange.protocol import NODE_PATH, SUBJECTS_HEADER, Request, Response, forwardable, split_envelope
from gov21.exchange.transport import PeerCertificateMismatch

CONNECT_TIMEOUT_S: Final = 5.0
# Idle keep-alive connections kept per peer node; more may be open at once, the rest are closed.
IDLE_PER_PEER: Final = 32
_HEAD_MAX: Final = 64 * 1024


class _Conn:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    def usable(self) -> bool:
        # The loop reads in the background: a peer that closed an idle connection has fed its EOF.
        return not self.writer.is_closing() and not self.reader.at_eof()

    def close(self) -> None:
        self.writer.close()


class PeerPool:
    """Keep-alive connections to one peer node, pinned to one certificate, with this node's TLS
    context (its certificate and the trusted CAs) as it was when the pool was made."""

    def __init__(self, host: str, port: int, *, context: ssl.SSLContext, pinned_sha256: str) -> None:
        self.host = host
        self.port = port
        self.context = context
        self.pinned_sha256 = pinned_sha256
        self._idle: deque[_Conn] = deque()
        self.closed = False

    async def _connect(self) -> _Conn:
        async with asyncio.timeout(CONNECT_TIMEOUT_S):
            reader, writer = await asyncio.open_connection(
                self.host, self.port, ssl=self.context, server_hostname=self.host, limit=_HEAD_MAX
            )
        sslobj = writer.get_extra_info("ssl_object")
        der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
        if not der or hashlib.sha256(der).hexdigest() != self.pinned_sha256:
            writer.close()
            # Raised before a byte of the request is written.
            raise PeerCertificateMismatch(f"{self.host}:{self.port} is not the node the configuration names")
        return _Conn(reader, writer)

    async def post(self, data: bytes, *, timeout: float, limit: int) -> tuple[int, bytes, str]:
        """POST an envelope; the status, body and content type of the answer."""
        conn = None
        while self._idle:
            candidate = self._idle.pop()
            if candidate.usable():
                conn = candidate
                break
            candidate.close()
        if conn is None:
            conn = await self._connect()
        keep = False
        try:
            head = (
                f"POST {NODE_PATH} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n"
                f"Content-Type: application/x-gov21-envelope\r\nContent-Length: {len(data)}\r\n\r\n"
            ).encode("ascii")
            conn.writer.write(head + data)
            async with asyncio.timeout(timeout):
                await conn.writer.drain()
                status, body, content_type, keep = await _read_response(conn.reader, limit)
            return status, body, content_type
        finally:
            # A pool replaced meanwhile (a new configuration) keeps nothing: its connections close.
            if keep and not self.closed and len(self._idle) < IDLE_PER_PEER:
                self._idle.append(conn)
            else:
                conn.close()

    def close(self) -> None:
        self.closed = True
        while self._idle:
            self._idle.pop().close()


async def _read_response(reader: asyncio.StreamReader, limit: int) -> tuple[int, bytes, str, bool]:
    try:
        head = await reader.readuntil(b"\r\n\r\n")
    except asyncio.LimitOverrunError as exc:
        raise ValueError("the response head is too large") from exc
    lines = head.decode("latin-1").split("\r\n")
    version, _, rest = lines[0].partition(" ")
    status = int(rest[:3])
    headers: dict[str, str] = {}
    for line in lines[1:]:
        name, sep, value = line.partition(":")
        if sep:
            headers[name.strip().lower()] = value.strip()
    keep = version == "HTTP/1.1" and headers.get("connection", "").lower() != "close"
    if "chunked" in headers.get("transfer-encoding", "").lower():
        chunks: list[bytes] = []
        size = 0
        while True:
            length = int((await reader.readuntil(b"\r\n")).split(b";", 1)[0], 16)
            if length == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # a trailer, which nothing here uses
                break
            size += length
            if size > limit:
                raise ValueError("the response is too large")
            chunks.append(await reader.readexactly(length))
            await reader.readexactly(2)
        body = b"".join(chunks)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        if length > limit:
            raise ValueError("the response is too large")
        body = await reader.readexactly(length)
    else:
        body = await reader.read(limit + 1)
        if len(body) > limit:
            raise ValueError("the response is too large")
        keep = False
    return status, body, headers.get("content-type", ""), keep


_pools: dict[tuple[str, str, int], PeerPool] = {}


def _peer_pool(address: str, pinned_sha256: str) -> PeerPool:
    """A pool per peer node and certificate, made anew when the configuration (trusted CAs, this
    node's certificate, the peer's) changes. Runs on the loop's thread only: no lock."""
    serial = node.CONFS.own(origin=CLIENT_PROXY).serial
    pool = _pools.get((address, pinned_sha256, serial))
    if pool is None:
        for key in [k for k in _pools if k[0] == address]:
            _pools.pop(key).close()
        parts = urlsplit(address)
        if parts.scheme != "https" or not parts.hostname:
            raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"A node address must be https://host:port, not {address}")
        pool = PeerPool(parts.hostname, parts.port or 443, context=tls.client_context(), pinned_sha256=pinned_sha256)
        _pools[(address, pinned_sha256, serial)] = pool
    return pool


async def peer_send(address: str, token: str, body: bytes, *, timeout: float, pinned_sha256: str) -> tuple[str, bytes]:
    """Send a signed request to the provider's node; its signed response envelope and body
    (the errors of :func:`gov21.exchange.transport.peer_send`)."""
    limit = config.EXCHANGE_MAX_BODY_BYTES.read() + 64 * 1024
    try:
        status, data, content_type = await _peer_pool(address, pinned_sha256).post(
            token.encode("ascii") + b"\n" + body, timeout=timeout, limit=limit
        )
    except PeerCertificateMismatch as exc:
        raise XRoadError(
            f"{CLIENT_PROXY}.SslAuthenticationFailed",
            f"The provider's node presented a certificate other than the one its configuration lists: {exc}",
        ) from exc
    except TimeoutError as exc:
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"The provider's node did not answer in time: {exc}") from exc
    except (OSError, ValueError, asyncio.IncompleteReadError, ssl.SSLError) as exc:
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"Cannot reach the provider's node: {exc}") from exc
    if status == 502 and content_type.startswith("application/json"):
        # The provider's node could not sign (it does not know the provider): its error, unsigned.
        import orjson

        with contextlib.suppress(orjson.JSONDecodeError, KeyError, TypeError):
            problem = orjson.loads(data)
            raise XRoadError(str(problem["type"]), str(problem["message"]))
    if status != 200:
        raise XRoadError(f"{CLIENT_PROXY}.NetworkError", f"The provider's node answered {status}")
    return split_envelope(data)


_session: aiohttp.ClientSession | None = None


def _services() -> aiohttp.ClientSession:
    global _session
    if _session is None or _session.closed:
        _session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, limit_per_host=32, enable_cleanup_closed=False),
            # The body travels as the service sent it, compressed or not, as its headers say.
            auto_decompress=False,
            skip_auto_headers=("User-Agent", "Accept-Encoding"),
        )
    return _session


async def service_send(base_url: str, timeout: float, req: Request) -> Response:
    """Pass a request on to the provider service at ``base_url`` (as
    :func:`gov21.exchange.transport.service_send`, without blocking the loop)."""
    url = base_url.rstrip("/") + path_encode(req.path) + (f"?{req.query}" if req.query else "")
    limit = config.EXCHANGE_MAX_BODY_BYTES.read()
    try:
        async with _services().request(
            req.method,
            yarl.URL(url, encoded=True),
            data=req.body or None,
            headers=dict(req.headers),
            allow_redirects=False,
            timeout=aiohttp.ClientTimeout(total=None, sock_connect=min(CONNECT_TIMEOUT_S, timeout), sock_read=timeout),
        ) as response:
            chunks: list[bytes] = []
            size = 0
            async for chunk in response.content.iter_any():
                size += len(chunk)
                if size > limit:
                    raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"The service answered more than {limit} bytes")
                chunks.append(chunk)
            status = response.status
            raw_headers = [(k, v) for k, v in response.headers.items()]
    except aiohttp.ClientConnectorError as exc:
        raise XRoadError(f"{SERVER_PROXY}.NetworkError", f"Cannot reach the service: {exc}") from exc
    except TimeoutError as exc:
        raise XRoadError(f"{SERVER_PROXY}.ServiceFailed", f"The service did not answer within {timeout:g} s") from exc
    except (aiohttp.ClientError, OSError, ValueError) as exc:
        raise XRoadError(f"{SERVER_PROXY}.NetworkError", f"Cannot reach the service: {exc}") from exc
    headers = forwardable(raw_headers)
    named = dict(headers)
    subjects = [s.strip() for s in named.get(SUBJECTS_HEADER, "").split(",") if s.strip()]
    return Response(status, headers, b"".join(chunks), subjects=subjects)


async def close() -> None:
    for pool in _pools.values():
        pool.close()
    _pools.clear()
    if _session is not None:
        await _session.close()
