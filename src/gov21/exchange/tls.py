"""Mutual TLS between gateway nodes: each presents the authentication certificate its instance CA
issued, and accepts only peers whose certificate chains to its own CA or a trusted partner's."""

from __future__ import annotations

import os
import secrets
import ssl
from pathlib import Path

from gov21.exchange import node, pki
from gov21.exchange.errors import XRoadError


def _files() -> tuple[Path, Path, Path]:
    this = node.this_node()
    conf = node.CONFS.own(origin="Server.ClientProxy")
    entry = conf.node(this.code)
    if entry is None or not entry.get("auth_cert"):
        raise XRoadError("Server.ClientProxy.SslAuthenticationFailed", f"Node {this.ident} has no approved certificate")
    folder = node.exchange_dir() / "tls"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    cert = folder / f"{this.code}.pem"
    _replace(cert, entry["auth_cert"])
    bundle = folder / "trusted-ca.pem"
    cas = list(conf.payload["ca"]) + [a["ca"] for a in conf.payload["trusted"].values()]
    _replace(bundle, "".join(cas))
    key = pki.key_file("node", f"{this.code}-auth")
    node.auth_key()  # created if missing
    return cert, key, bundle


def _replace(path: Path, text: str) -> None:
    """Write only on change, and atomically: the TLS listener reads these files per connection."""
    if path.exists() and path.read_text(encoding="ascii") == text:
        return
    # Several processes of a node (the listeners, their workers) may rewrite the same file at once:
    # each writes its own temporary file, and the last rename wins with identical content.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    tmp.write_text(text, encoding="ascii")
    os.replace(tmp, path)


def server_files() -> tuple[Path, Path, Path]:
    """Certificate, key and CA bundle for the node interface's TLS listener. The gateway's processes
    rewrite them every second and make a new TLS context when they change, which the next handshake
    uses (:mod:`gov21.exchange.agateway`): a newly trusted partner is admitted without a restart."""
    return _files()


def client_context() -> ssl.SSLContext:
    cert, key, bundle = _files()
    context = ssl.create_default_context(ssl.Purpose.SERVER_AUTH, cafile=str(bundle))
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(str(cert), str(key))
    return context


def server_context(cert: str, key: str, bundle: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_3
    context.load_cert_chain(cert, key)
    context.load_verify_locations(cafile=bundle)
    context.verify_mode = ssl.CERT_REQUIRED
    return context


def clients_bundle() -> Path:
    """The certificates this node's information systems may present on the TLS client interface,
    as that listener's trust store (each a self-signed certificate or one from the agency's own CA)."""
    from gov21.exchange.models import LocalClient

    folder = node.exchange_dir() / "tls"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = folder / "clients-ca.pem"
    pems = sorted({pem for row in LocalClient.objects.values_list("certificates", flat=True) for pem in row})
    if not pems:
        # OpenSSL refuses an empty trust store; the instance CA stands in. A node certificate that
        # passes the handshake is still no client's: the gateway matches registered fingerprints.
        conf = node.CONFS.own(origin="Server.ClientProxy")
        pems = list(conf.payload["ca"])
    _replace(path, "".join(pems))
    return path
