"""Message bodies sealed in the log before the version header existed still open under their entry."""

from __future__ import annotations

import secrets
import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import override_settings

from gov21.core.sealing import HEADER, SealError
from gov21.exchange import bodies


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(DATA_DIR=tmp_path):
        yield tmp_path


def _sealed_the_old_way(key: bytes, request: bytes, response: bytes, *, chain: str, seq: int, digest: str) -> bytes:
    nonce = secrets.token_bytes(12)
    plain = struct.pack(">I", len(request)) + request + response
    binding = f"gov21-log-body\n{chain}\n{seq}\n{digest}".encode()
    return nonce + AESGCM(key).encrypt(nonce, plain, binding)


def test_a_body_sealed_before_the_header_opens_under_its_entry(data_dir: Path) -> None:
    key_file = data_dir / "keys" / "exchange" / "log-bodies.key"
    key_file.parent.mkdir(parents=True)
    key_file.write_bytes(secrets.token_bytes(32))
    old = _sealed_the_old_way(key_file.read_bytes(), b"ask", b"answer", chain="log:n1", seq=4, digest="ab")
    assert bodies.open_sealed(old, chain="log:n1", seq=4, entry_hash="ab") == (b"ask", b"answer")
    with pytest.raises(SealError):
        bodies.open_sealed(old, chain="log:n1", seq=5, entry_hash="ab")


def test_a_body_sealed_today_carries_the_header_and_its_entry(data_dir: Path) -> None:
    sealed = bodies.sealer("log:n1", b"ask", b"answer")(7, "cd")["body"]
    assert sealed.startswith(HEADER)
    assert bodies.open_sealed(sealed, chain="log:n1", seq=7, entry_hash="cd") == (b"ask", b"answer")
    with pytest.raises(SealError):
        bodies.open_sealed(sealed, chain="log:n2", seq=7, entry_hash="cd")
