"""The exchange's HTTP: keep-alive mutual-TLS pools to other nodes, each pinned to the certificate
the signed configuration lists for that node, and the pool to provider services reached over HTTP."""

from __future__ import annotations

import hashlib
import ssl
import threading
from typing import Any
from urllib.parse import urlsplit

import urllib3
import urllib3.connection

from gov21.core import config
from gov21.exchange import node, tls
from gov21.exchange.errors import CLIENT_PROXY, SERVER_PROXY, XRoadError
from gov21.exchange.ids import path_encode
from gov21.exchange.protocol import SUBJECTS_HEADER, Request, Response, forwardable, split_envelope


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


def peer_send(address: str, token: str, body: bytes, *, timeout: float, pinned_sha256: str) -> tuple[str, bytes]:
    """Send a signed request to the provider's node; its signed response envelope and body."""
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


_services_pool = urllib3.PoolManager(num_pools=64, maxsize=32, block=False, retries=False)


def service_send(base_url: str, timeout: float, req: Request) -> Response:
    """Pass a request on to the provider service at ``base_url``; its answer, no larger than the
    exchange accepts, with the persons it concerns from its data-subjects header."""
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
