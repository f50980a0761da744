"""The asynchronous gateway: the listeners of ``gov21 exchange node serve`` in one event loop per
process, one process per core (``--workers``), every process binding the same ports with
``SO_REUSEPORT`` so the kernel spreads connections among them.

* The client interface (X-Road REST r1 for the agency's information systems, plain HTTP, and HTTPS
  with optional client certificates) and the node interface (signed envelopes over mutual TLS) are
  aiohttp's low-level servers; the protocol is the one implementation the WSGI faces use
  (:mod:`gov21.exchange.wsgi`, :mod:`gov21.exchange.consumer`, :mod:`gov21.exchange.provider`),
  run step by step with the waiting done here.
* Nothing on the path of a message that crosses nodes waits for the database on the loop: the
  replay record and the log entries go to writer threads that commit many at once and resolve the
  waiting futures after the commit (:class:`gov21.core.groupcommit.ThreadWriter`); configuration,
  client rules, service addresses and TLS contexts are refreshed by a thread of their own every
  second, and a message reads the copies in memory.
* Sync Django code that a message needs anyway runs in a bounded thread pool (``--threads``): a
  ``local:`` service handler of this process, metaservices, the first read of a client's rule or a
  service's address, ``/listClients`` and ``/metrics``.
* Past ``GOV21_EXCHANGE_MAX_INFLIGHT`` messages in one process, a listener refuses at once (503
  with ``Retry-After``, counted as :func:`gov21.core.monitoring.refusal_count` counts the gates of
  :mod:`gov21.core.capacity`) rather than queue without end. Not a :class:`~gov21.core.capacity.Gate`:
  its queue waits on a thread's condition, which would stop the event loop.

See docs/decisions/0033-asynchronous-gateway.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import logging
import signal
import ssl
import sys
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Final, TypeVar

from aiohttp import web
from multidict import CIMultiDict

from gov21.core import chain as core
from gov21.core import config
from gov21.core.monitoring import refusal_count
from gov21.exchange import atransport, chain, consumer, log, metrics, node, protocol, provider, tls, wsgi
from gov21.exchange.errors import CLIENT_PROXY, SERVER_PROXY, XRoadError
from gov21.exchange.protocol import NODE_PATH, Request, Response

logger = logging.getLogger("gov21.exchange")

T = TypeVar("T")
Handler = Callable[[web.BaseRequest], Awaitable[web.StreamResponse]]
# An address, its handler, and which TLS context it listens with ("" for plain HTTP).
Listener = tuple[str, Handler, str]
REFRESH_S: Final = 1.0
# An idle connection is kept as long as gov21 up keeps one, longer than a client pauses.
KEEPALIVE_S: Final = 75.0
SWITCH_INTERVAL_S: Final = 0.0005


def _recycle() -> None:
    """What Django does around each request, for a pool thread: drop broken or expired connections."""
    from django.db import close_old_connections, connection

    if connection.get_autocommit():
        close_old_connections()


def _reply(response: Response, *, retry_after: str = "") -> web.Response:
    headers: CIMultiDict[str] = CIMultiDict((k, v) for k, v in response.headers if k != "content-length")
    if retry_after:
        headers["retry-after"] = retry_after
    return web.Response(status=response.status, body=response.body, headers=headers)


def _busy(origin: str) -> Response:
    response = protocol.xroad_error(
        XRoadError(f"{origin}.OutOfCapacity", "The gateway is handling as many messages as it can; try again shortly")
    )
    response.status = 503
    return response


def _peer_der(request: web.BaseRequest) -> bytes | None:
    transport = request.transport
    sslobj = transport.get_extra_info("ssl_object") if transport is not None else None
    der = sslobj.getpeercert(binary_form=True) if sslobj is not None else None
    return bytes(der) if der else None


def _remote(request: web.BaseRequest) -> str:
    transport = request.transport
    peer = transport.get_extra_info("peername") if transport is not None else None
    return str(peer[0]) if isinstance(peer, tuple) and peer else ""


def _headers(request: web.BaseRequest) -> list[tuple[str, str]]:
    """The request's headers as the WSGI faces see them: lower-case names, repeated ones joined,
    no Content-Length, and a Content-Type only with a body."""
    result: list[tuple[str, str]] = []
    for name in dict.fromkeys(k.lower() for k in request.headers):
        if name in ("content-type", "content-length"):
            continue
        result.append((name, ",".join(request.headers.getall(name))))
    has_body = (request.content_length or 0) > 0 or "chunked" in request.headers.get("transfer-encoding", "").lower()
    if has_body and request.headers.get("content-type"):
        result.append(("content-type", request.headers["content-type"]))
    return result


async def _read_body(request: web.BaseRequest) -> bytes:
    limit = config.EXCHANGE_MAX_BODY_BYTES.read()
    n = wsgi.declared_length(request.headers.get("content-length", ""), limit)
    if n is not None:
        return await request.content.readexactly(n) if n else b""
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_any():
        size += len(chunk)
        if size > limit:
            raise wsgi.body_too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


class _Contexts:
    """The TLS contexts of the node interface and of the HTTPS client interface, made anew when
    their files change (a newly trusted partner, a new client certificate) and swapped into each new
    handshake by the listening context's SNI callback, so no listener restarts."""

    def __init__(self) -> None:
        self.node: ssl.SSLContext | None = None
        self.clients: ssl.SSLContext | None = None
        self._seen: dict[str, bytes] = {}

    def refresh(self) -> None:
        cert, key, bundle = tls.server_files()
        seen = cert.read_bytes() + bundle.read_bytes()
        if seen != self._seen.get("node"):
            self.node = tls.server_context(str(cert), str(key), str(bundle))
            self._seen["node"] = seen
        clients = tls.clients_bundle()
        seen = cert.read_bytes() + clients.read_bytes()
        if seen != self._seen.get("clients"):
            context = tls.server_context(str(cert), str(key), str(clients))
            # Optional at the handshake, so the gateway can answer a missing one with X-Road's error.
            context.verify_mode = ssl.CERT_OPTIONAL
            self.clients = context
            self._seen["clients"] = seen

    def listening(self, which: str) -> ssl.SSLContext:
        """A context for a listener: the current one, which hands each handshake the newest."""
        first = getattr(self, which)
        assert isinstance(first, ssl.SSLContext)

        def newest(sslobj: ssl.SSLObject, server_name: str | None, context: ssl.SSLContext) -> None:
            current = getattr(self, which)
            if current is not None and current is not context:
                sslobj.context = current

        first.sni_callback = newest
        return first


class Gateway:
    """One process's listeners, thread pool and refresher."""

    def __init__(self, *, threads: int) -> None:
        self.pool = ThreadPoolExecutor(max_workers=max(1, threads), thread_name_prefix="gov21-gateway")
        self.contexts = _Contexts()
        self.inflight = {"clients": 0, "node": 0}
        self.limit = config.EXCHANGE_MAX_INFLIGHT.read()
        self._stop = threading.Event()

    # --- off the loop ------------------------------------------------------------------------------

    async def sync(self, fn: Callable[[], T]) -> T:
        """Run sync Django code in the bounded pool."""

        def run() -> T:
            _recycle()
            try:
                return fn()
            finally:
                _recycle()

        return await asyncio.get_running_loop().run_in_executor(self.pool, run)

    def refresh(self) -> None:
        """Bring the in-memory copies up to date (a thread's work, never the loop's)."""
        try:
            node.CONFS.refresh()
            wsgi.client_rules_refresh()
            provider.addresses_refresh()
            self.contexts.refresh()
        except XRoadError:
            pass  # an expired configuration: messages are refused with its error anyway
        except Exception:
            # A busy database or an unreachable directory must not take the node down: the copies
            # in memory stay, and the next round tries again.
            logger.exception("could not refresh the gateway's configuration")
        finally:
            _recycle()

    def _refresher(self) -> None:
        while not self._stop.wait(REFRESH_S):
            self.refresh()

    # --- the client interface ------------------------------------------------------------------------

    async def clients(self, request: web.BaseRequest) -> web.StreamResponse:
        path = request.path
        if path == "/metrics":
            return _reply(await self.sync(functools.partial(wsgi.metrics_response, _remote(request))))
        raw_path, _, query = request.raw_path.partition("?")
        if path.rstrip("/") == "/listClients":
            answer = functools.partial(wsgi.list_clients, query, request.headers.get("accept", ""))
            return _reply(await self.sync(answer))
        if not wsgi.is_protocol_path(path):
            return _reply(wsgi.NOT_FOUND)
        if self.inflight["clients"] >= self.limit:
            refusal_count("gateway-clients")
            return _reply(_busy(CLIENT_PROXY), retry_after="1")
        self.inflight["clients"] += 1
        try:
            return _reply(await self._r1(request, path, raw_path, query))
        except Exception:
            logger.exception("the client interface failed on a message")
            return _reply(protocol.xroad_error(XRoadError(f"{CLIENT_PROXY}.InternalError", "The gateway failed")))
        finally:
            self.inflight["clients"] -= 1

    async def _r1(self, request: web.BaseRequest, path: str, raw_path: str, query: str) -> Response:
        try:
            wsgi.protocol_version_check(path)
            req = wsgi.r1_head(method=request.method, path=raw_path, query=query, headers=_headers(request))
            req.body = await _read_body(request)
        except XRoadError as exc:
            response = protocol.xroad_error(exc)
            metrics.observe("", response.status, response.error, 0.0)
            return response
        try:
            client = str(req.client)
            rule = wsgi.client_rule_cached(client)
            if rule is None:
                rule = await self.sync(functools.partial(wsgi._client_rule, client))
            wsgi.authenticate_client(req, remote_addr=_remote(request), peer_der=_peer_der(request), rule=rule)
        except XRoadError as exc:
            response = protocol.xroad_error(exc, message_id=req.message_id)
            metrics.observe(str(req.service), response.status, response.error, 0.0)
            return response
        return await self.client_proxy(req)

    async def client_proxy(self, req: Request) -> Response:
        """:func:`gov21.exchange.consumer.client_proxy`, waiting without blocking the loop."""
        out = consumer.Outbound(req, node.this_node())
        deferred: list[core.Entry] = []
        try:
            consumer.prepare(out)
            if out.local:
                # The provider is this node: its sync path, in the pool, its entries written with ours.
                local = functools.partial(provider.server_proxy, out.req_token, req.body, deferred=deferred)
                out.resp_token, body = await self.sync(local)
            else:
                out.resp_token, body = await atransport.peer_send(
                    out.address,
                    out.req_token,
                    req.body,
                    timeout=consumer.PEER_TIMEOUT_S,
                    pinned_sha256=out.pinned_sha256,
                )
            response = consumer.accept(out, body)
        except XRoadError as exc:
            response = consumer.error_response(out, exc)
        except Exception:
            # The provider answered (and may have acted): its entries are written whatever failed here.
            with contextlib.suppress(Exception):
                await chain.append_all_async(deferred)
            raise
        entry = consumer.log_entry(out, response)
        refusal = await log.logged_or_refusal_async(out.this, origin=CLIENT_PROXY, before=deferred, **entry)
        return consumer.finish(out, refusal or response)

    # --- the node interface ----------------------------------------------------------------------------

    async def node(self, request: web.BaseRequest) -> web.StreamResponse:
        if request.path != NODE_PATH or request.method != "POST":
            return _reply(wsgi.NOT_FOUND)
        if self.inflight["node"] >= self.limit:
            refusal_count("gateway-node")
            return _reply(wsgi.node_error(XRoadError("OutOfCapacity", "The node is busy")), retry_after="1")
        self.inflight["node"] += 1
        try:
            length = request.content_length or 0
            if length > wsgi.node_body_limit():
                raise XRoadError(f"{SERVER_PROXY}.InvalidMessage", "The message is too large")
            data = await request.content.readexactly(length) if length else b""
            token, body = protocol.split_envelope(data)
            peer_cert = wsgi.node_peer_cert(_peer_der(request))
            resp_token, resp_body = await self.server_proxy(token, body, peer_cert)
        except XRoadError as exc:
            return _reply(wsgi.node_error(exc))
        except Exception:
            logger.exception("the node interface failed on a message")
            return _reply(wsgi.node_error(XRoadError("InternalError", "The provider's gateway failed")))
        finally:
            self.inflight["node"] -= 1
        return _reply(wsgi.node_answer(resp_token, resp_body))

    async def server_proxy(self, token: str, body: bytes, peer_cert: bytes) -> tuple[str, bytes]:
        """:func:`gov21.exchange.provider.server_proxy`, waiting without blocking the loop."""
        inb = provider.Inbound(node.this_node(), token)
        try:
            provider.verify(inb, body, peer_cert)
            if not await provider.first_receipt_async(inb.this, inb.request_id):
                raise provider.replayed()
            conf, req = inb.conf, inb.req
            assert conf is not None and req is not None
            if provider.route(inb) == "meta":
                response = await self.sync(functools.partial(provider.metaservice, conf, req))
            else:
                response = await self.call_service(req)
        except XRoadError as exc:
            response = provider.error_response(inb, exc)
        return await provider.respond_async(inb, response)

    async def call_service(self, req: Request) -> Response:
        address = provider.address_cached(req.service)
        if address is None:
            address = await self.sync(functools.partial(provider.address_read, req.service))
        url, timeout = address
        if url.startswith("local:"):
            return await self.sync(functools.partial(provider.call_local, url, req))
        return await atransport.service_send(url, timeout, req)

    # --- the process ----------------------------------------------------------------------------------

    async def serve(
        self, listeners: list[tuple[str, Callable[[web.BaseRequest], Awaitable[web.StreamResponse]], str]]
    ) -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        servers: list[tuple[web.Server, asyncio.base_events.Server]] = []
        for address, handler, tls_which in listeners:
            host, _, port = address.rpartition(":")
            server = web.Server(handler, access_log=None, keepalive_timeout=KEEPALIVE_S)
            context = self.contexts.listening(tls_which) if tls_which else None
            listening = await loop.create_server(
                server, host.strip("[]") or None, int(port), ssl=context, reuse_port=True, backlog=2048
            )
            servers.append((server, listening))
        refresher = threading.Thread(target=self._refresher, name="gov21-gateway-refresh", daemon=True)
        refresher.start()
        try:
            await stop.wait()
        finally:
            self._stop.set()
            for server, listening in servers:
                listening.close()
                await server.shutdown(5.0)
            await atransport.close()
            self.pool.shutdown(wait=False, cancel_futures=True)


def run_worker(*, listen: str, node_listen: str, client_tls_listen: str, threads: int) -> None:
    """One process of the gateway: its listeners on the shared ports, until SIGTERM."""
    # The loop and the writer threads are both busy under load: with CPython's default 5 ms, a
    # writer coming back from each SQL statement waits up to 5 ms for the GIL, and a batch for tens
    # of them (5,000 queued writes: 1.13 s at 5 ms, 0.31 s at 0.5 ms; docs/performance.md).
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    node.CONFS.held = True
    gateway = Gateway(threads=threads)
    gateway.refresh()  # before the first message: configuration and TLS contexts in memory
    node.CONFS.own(origin=CLIENT_PROXY)
    listeners: list[Listener] = [
        (listen, gateway.clients, ""),
        (node_listen, gateway.node, "node"),
    ]
    if client_tls_listen:
        listeners.append((client_tls_listen, gateway.clients, "clients"))
    asyncio.run(gateway.serve(listeners))


def command(*, listen: str, node_listen: str, client_tls_listen: str, threads: int, python: str) -> list[str]:
    """The command line of one process (``gov21 exchange node serve`` starts one per worker)."""
    # Django is set up before this module is imported: its models need the app registry.
    start = "import django; django.setup(); from gov21.exchange.agateway import main; main()"
    return [
        python,
        "-c",
        start,
        "--listen",
        listen,
        "--node-listen",
        node_listen,
        "--client-tls-listen",
        client_tls_listen,
        "--threads",
        str(threads),
    ]


def main() -> None:
    parser = argparse.ArgumentParser(prog="gov21.exchange.agateway", description=__doc__)
    parser.add_argument("--listen", required=True)
    parser.add_argument("--node-listen", required=True)
    parser.add_argument("--client-tls-listen", default="")
    parser.add_argument("--threads", type=int, default=4)
    args = parser.parse_args()
    run_worker(
        listen=args.listen, node_listen=args.node_listen, client_tls_listen=args.client_tls_listen, threads=args.threads
    )
