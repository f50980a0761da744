"""The asynchronous gateway's own parts: the writer threads, which release nothing before its
commit, and the pinned client to other nodes, which writes no byte to a node other than the one the
configuration names. The gateway as a whole is exercised by tests/exchange/test_nodes.py, whose
nodes it serves."""

from __future__ import annotations

import asyncio
import hashlib
import ipaddress
import socket
import ssl
import threading
from collections.abc import Coroutine, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat
from cryptography.x509.oid import NameOID
from django.db import connection, connections

from gov21.core import groupcommit
from gov21.core.groupcommit import NotCommitted, ThreadWriter
from gov21.exchange import atransport
from gov21.exchange.transport import PeerCertificateMismatch

T = TypeVar("T")


def _run(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` in an event loop of its own thread: a browser test earlier in the same
    worker may have left an event loop running in this one, where ``asyncio.run`` refuses."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["result"] = asyncio.run(coroutine)
        except BaseException as error:  # handed to the test's thread
            outcome["error"] = error

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["result"]  # type: ignore[no-any-return]


# --- the writer threads ------------------------------------------------------------------------------


def _visible(request_id: str) -> bool:
    """Whether another connection sees the receipt: only a committed row can be seen there."""
    from gov21.exchange.models import ReceivedRequest

    seen: list[bool] = []

    def look() -> None:
        try:
            seen.append(ReceivedRequest.objects.filter(request_id=request_id).exists())
        finally:
            connections.close_all()

    thread = threading.Thread(target=look)
    thread.start()
    thread.join(30)
    return seen[0]


@pytest.mark.django_db(transaction=True)
def test_the_writer_thread_resolves_no_future_before_its_batch_has_committed() -> None:
    from gov21.exchange.provider import receipts_write

    entered, release = threading.Event(), threading.Event()

    def write(items: Sequence[tuple[str, str]], after: groupcommit.After) -> list[bool]:
        firsts = receipts_write(items, after)  # the rows are in the open transaction
        entered.set()
        assert release.wait(30)
        return firsts

    writer: ThreadWriter[tuple[str, str], bool] = ThreadWriter(write, name="test-receipts")
    postgres = connection.vendor == "postgresql"

    async def scenario() -> tuple[bool, bool, bool]:
        future = asyncio.ensure_future(writer.submit(("log:test", "held-1")))
        assert await asyncio.to_thread(entered.wait, 30)
        await asyncio.sleep(0.2)  # time enough for a premature resolution to show
        done_while_open = future.done()
        # SQLite's shared in-memory test database locks a table being written: only PostgreSQL can
        # show that another connection does not see the row yet.
        seen_while_open = await asyncio.to_thread(_visible, "held-1") if postgres else False
        release.set()
        first = await future
        # Resolved only after the commit: another connection sees the row from that moment on.
        assert await asyncio.to_thread(_visible, "held-1")
        return done_while_open, seen_while_open, first

    done_while_open, seen_while_open, first = _run(scenario())

    assert not done_while_open
    assert not seen_while_open
    assert first is True


@pytest.mark.django_db(transaction=True)
def test_two_copies_of_one_request_in_one_batch_are_received_once() -> None:
    from gov21.exchange.provider import RECEIPTS

    async def both() -> list[bool]:
        return list(
            await asyncio.gather(RECEIPTS.submit(("log:test", "twice-9")), RECEIPTS.submit(("log:test", "twice-9")))
        )

    assert sorted(_run(both())) == [False, True]


@pytest.mark.django_db(transaction=True)
def test_a_batch_the_database_refuses_releases_its_waiters_with_an_error() -> None:
    def write(items: Sequence[int], after: groupcommit.After) -> list[int]:
        raise RuntimeError("the disk is full")

    writer: ThreadWriter[int, int] = ThreadWriter(write, name="test-failing")

    async def three() -> list[object]:
        return list(await asyncio.gather(*(writer.submit(i) for i in range(3)), return_exceptions=True))

    outcomes = _run(three())
    assert len(outcomes) == 3 and all(isinstance(o, NotCommitted) for o in outcomes)


# --- the pinned client to other nodes -------------------------------------------------------------------


def _certificate(folder: Path, name: str) -> tuple[Path, Path, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / f"{name}.pem", folder / f"{name}.key"
    cert_path.write_bytes(cert.public_bytes(Encoding.PEM))
    key_path.write_bytes(key.private_bytes(Encoding.PEM, PrivateFormat.PKCS8, NoEncryption()))
    return cert_path, key_path, hashlib.sha256(cert.public_bytes(Encoding.DER)).hexdigest()


class _Node:
    """A TLS server standing in for a node: records every byte a client writes after the handshake
    and answers one envelope."""

    def __init__(self, cert: Path, key: Path) -> None:
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.context.minimum_version = ssl.TLSVersion.TLSv1_3
        self.context.load_cert_chain(str(cert), str(key))
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.received = bytearray()
        self.closed = threading.Event()
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        raw, _ = self.listener.accept()
        try:
            with self.context.wrap_socket(raw, server_side=True) as conn:
                while True:
                    data = conn.recv(65536)
                    if not data:
                        break
                    self.received += data
                    if b"\r\n\r\n" in self.received and self.received.endswith(b"\nbody"):
                        answer = b"token\nanswer"
                        conn.sendall(
                            b"HTTP/1.1 200 OK\r\nContent-Type: application/x-gov21-envelope\r\n"
                            + f"Content-Length: {len(answer)}\r\n\r\n".encode()
                            + answer
                        )
        except (ssl.SSLError, OSError):
            pass
        finally:
            self.closed.set()


@pytest.fixture
def node_certificates(tmp_path: Path) -> Iterator[tuple[Path, Path, str, str]]:
    cert, key, pinned = _certificate(tmp_path, "provider-node")
    _other_cert, _other_key, other = _certificate(tmp_path, "another-node")
    yield cert, key, pinned, other


def _post(node: _Node, cert: Path, pinned: str) -> tuple[int, bytes, str]:
    context = ssl.create_default_context(cafile=str(cert))
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    pool = atransport.PeerPool("127.0.0.1", node.port, context=context, pinned_sha256=pinned)

    async def post() -> tuple[int, bytes, str]:
        try:
            return await pool.post(b"token\nbody", timeout=10, limit=1024)
        finally:
            pool.close()

    return _run(post())


def test_the_node_the_configuration_names_receives_the_envelope(node_certificates: tuple[Path, Path, str, str]) -> None:
    cert, key, pinned, _ = node_certificates
    node = _Node(cert, key)

    assert _post(node, cert, pinned) == (200, b"token\nanswer", "application/x-gov21-envelope")
    assert node.closed.wait(10)
    assert node.received.startswith(b"POST /exchange/v1/message HTTP/1.1\r\n")


def test_a_node_with_another_certificate_gets_no_byte_of_the_request(
    node_certificates: tuple[Path, Path, str, str],
) -> None:
    cert, key, _, other = node_certificates
    node = _Node(cert, key)  # a genuine certificate the client trusts, but not the one pinned

    with pytest.raises(PeerCertificateMismatch):
        _post(node, cert, other)

    assert node.closed.wait(10)
    assert bytes(node.received) == b""
