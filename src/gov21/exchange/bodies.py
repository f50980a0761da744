"""Full message bodies in the log, when an operator turns that on: sealed (``core.sealing``) under
``keys/exchange/log-bodies.key``, so a copy of the database alone does not reveal what was exchanged.

Each sealed body is bound to its log entry: the chain, the entry's sequence number and its hash
are the AEAD's associated data, so a body moved to another entry (or an entry's body replaced by
another's) no longer opens, and verification names the entry. Bodies sealed before the version
header existed still open."""

from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any, Final

from gov21.core.sealing import Sealer

BODY_SEAL: Final = Sealer("exchange/log-bodies.key")


def _binding(chain: str, seq: int, entry_hash: str) -> bytes:
    return f"gov21-log-body\n{chain}\n{seq}\n{entry_hash}".encode()


def seal(request_body: bytes, response_body: bytes, *, chain: str, seq: int, entry_hash: str) -> bytes:
    plain = struct.pack(">I", len(request_body)) + request_body + response_body
    return BODY_SEAL.seal(plain, aad=_binding(chain, seq, entry_hash))


def sealer(chain: str, request_body: bytes, response_body: bytes) -> Callable[[int, str], dict[str, Any]]:
    """The ``body`` column of a log entry, sealed once the entry's place in ``chain`` is known."""

    def bound(seq: int, entry_hash: str) -> dict[str, Any]:
        return {"body": seal(request_body, response_body, chain=chain, seq=seq, entry_hash=entry_hash)}

    return bound


def open_sealed(blob: bytes, *, chain: str, seq: int, entry_hash: str) -> tuple[bytes, bytes]:
    """The request and response bodies of entry ``seq`` of ``chain``; ``SealError`` if the blob
    was sealed for another entry or changed."""
    plain = BODY_SEAL.open(blob, aad=_binding(chain, seq, entry_hash), headerless=True)
    (n,) = struct.unpack(">I", plain[:4])
    return plain[4 : 4 + n], plain[4 + n :]
