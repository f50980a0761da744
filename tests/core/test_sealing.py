"""The one sealing module: values sealed today and before it existed open, others do not."""

from __future__ import annotations

import base64
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.test import override_settings

from gov21.core.sealing import HEADER, Sealer, SealError


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    with override_settings(DATA_DIR=tmp_path):
        yield tmp_path


def test_a_sealed_value_opens_only_with_its_associated_data(data_dir: Path) -> None:
    sealer = Sealer("test-seal.key")
    sealed = sealer.seal(b"the secret", aad=b"row:1")
    assert sealed.startswith(HEADER) and b"the secret" not in sealed
    assert sealer.open(sealed, aad=b"row:1") == b"the secret"
    with pytest.raises(SealError):
        sealer.open(sealed, aad=b"row:2")
    with pytest.raises(SealError):
        sealer.open(sealed[:-1] + bytes([sealed[-1] ^ 1]), aad=b"row:1")


def test_the_key_file_is_made_once_readable_by_its_owner_only(data_dir: Path) -> None:
    sealer = Sealer("sub/test-seal.key")
    sealed = sealer.seal(b"x", aad=b"")
    path = data_dir / "keys" / "sub" / "test-seal.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and len(path.read_bytes()) == 32
    assert Sealer("sub/test-seal.key").open(sealed, aad=b"") == b"x"
    with pytest.raises(SealError):
        Sealer("other.key").open(sealed, aad=b"")  # another purpose's key


def test_a_key_file_of_the_wrong_size_is_named(data_dir: Path) -> None:
    (data_dir / "keys").mkdir()
    (data_dir / "keys" / "short.key").write_bytes(b"too short")
    with pytest.raises(RuntimeError, match=r"short\.key is not a 32-byte key"):
        Sealer("short.key").seal(b"x", aad=b"")


def test_text_sealed_before_this_module_still_opens(data_dir: Path) -> None:
    sealer = Sealer("identity-seal.key")
    key = sealer.key_path()
    key.parent.mkdir(parents=True)
    key.write_bytes(secrets.token_bytes(32))
    # How identity sealed an authenticator seed before: "v1:" + base64url(nonce + ciphertext).
    nonce = secrets.token_bytes(12)
    ciphertext = AESGCM(key.read_bytes()).encrypt(nonce, b"JBSWY3DP", b"totp:7")
    old = "v1:" + base64.urlsafe_b64encode(nonce + ciphertext).decode()
    assert sealer.open_text(old, aad=b"totp:7") == "JBSWY3DP"
    today = sealer.seal_text("JBSWY3DP", aad=b"totp:7")
    assert today.startswith("v1:") and sealer.open_text(today, aad=b"totp:7") == "JBSWY3DP"


@pytest.mark.parametrize("bad", ["", "JBSWY3DP", "v1:***", "v1:" + base64.urlsafe_b64encode(b"short").decode()])
def test_text_that_is_not_a_sealed_value_is_refused(data_dir: Path, bad: str) -> None:
    with pytest.raises(SealError):
        Sealer("test-seal.key").open_text(bad, aad=b"")


def test_headerless_values_open_only_where_the_caller_allows_them(data_dir: Path) -> None:
    sealer = Sealer("test-seal.key")
    sealer.seal(b"", aad=b"")  # makes the key
    key = sealer.key_path().read_bytes()
    # A nonce that happens to start like the header must not confuse the reader.
    for nonce in (secrets.token_bytes(12), HEADER + secrets.token_bytes(9)):
        old = nonce + AESGCM(key).encrypt(nonce, b"body", b"entry")
        assert sealer.open(old, aad=b"entry", headerless=True) == b"body"
        with pytest.raises(SealError):
            sealer.open(old, aad=b"entry")
