"""Full message bodies in the log, when an operator turns that on: AES-256-GCM under a key kept in
the data directory, so a copy of the database alone does not reveal what was exchanged.

Each sealed body is bound to its log entry: the chain, the entry's sequence number and its hash
are the AEAD's associated data, so a body moved to another entry (or an entry's body replaced by
another's) no longer opens, and verification names the entry."""

from __future__ import annotations

import os
import struct
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from gov21.core.crypto import private_file
from gov21.exchange import pki


def _key() -> bytes:
    return private_file(pki.keys_dir() / "log-bodies.key", lambda: os.urandom(32))


def _binding(chain: str, seq: int, entry_hash: str) -> bytes:
    return f"gov21-log-body\n{chain}\n{seq}\n{entry_hash}".encode()


def seal(request_body: bytes, response_body: bytes, *, chain: str, seq: int, entry_hash: str) -> bytes:
    nonce = os.urandom(12)
    plain = struct.pack(">I", len(request_body)) + request_body + response_body
    return nonce + AESGCM(_key()).encrypt(nonce, plain, _binding(chain, seq, entry_hash))


def sealer(chain: str, request_body: bytes, response_body: bytes) -> Callable[[int, str], dict[str, Any]]:
    """The ``body`` column of a log entry, sealed once the entry's place in ``chain`` is known."""

    def bound(seq: int, entry_hash: str) -> dict[str, Any]:
        return {"body": seal(request_body, response_body, chain=chain, seq=seq, entry_hash=entry_hash)}

    return bound


def open_sealed(blob: bytes, *, chain: str, seq: int, entry_hash: str) -> tuple[bytes, bytes]:
    """The request and response bodies of entry ``seq`` of ``chain``; ``InvalidTag`` if the blob
    was sealed for another entry or changed."""
    plain = AESGCM(_key()).decrypt(blob[:12], blob[12:], _binding(chain, seq, entry_hash))
    (n,) = struct.unpack(">I", plain[:4])
    return plain[4 : 4 + n], plain[4 + n :]
