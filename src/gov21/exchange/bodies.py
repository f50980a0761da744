"""Full message bodies in the log, when an operator turns that on: AES-256-GCM under a key kept in
the data directory, so a copy of the database alone does not reveal what was exchanged."""

from __future__ import annotations

import os
import struct

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gov21.core.crypto import private_file
from gov21.exchange import pki


def _key() -> bytes:
    return private_file(pki.keys_dir() / "log-bodies.key", lambda: os.urandom(32))


def seal(request_body: bytes, response_body: bytes) -> bytes:
    nonce = os.urandom(12)
    plain = struct.pack(">I", len(request_body)) + request_body + response_body
    return nonce + AESGCM(_key()).encrypt(nonce, plain, b"gov21-log-body")


def open_sealed(blob: bytes) -> tuple[bytes, bytes]:
    plain = AESGCM(_key()).decrypt(blob[:12], blob[12:], b"gov21-log-body")
    (n,) = struct.unpack(">I", plain[:4])
    return plain[4 : 4 + n], plain[4 + n :]
