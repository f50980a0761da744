"""Secrets the provider must read back (authenticator-app seeds) are sealed with AES-256-GCM under a
key kept in the data directory, so a copy of the database alone (a backup held in another country,
say) does not let anyone compute a person's codes. The row's id is bound in as associated data, so
a sealed value cannot be moved to another account."""

from __future__ import annotations

import base64
import secrets
import threading
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings

from gov21.core.crypto import private_file

PREFIX = "v1:"
_lock = threading.Lock()
_keys: dict[Path, bytes] = {}


def _key() -> bytes:
    path = Path(settings.DATA_DIR) / "keys" / "identity-seal.key"
    with _lock:
        if path not in _keys:
            key = private_file(path, lambda: secrets.token_bytes(32))
            if len(key) != 32:
                raise RuntimeError(f"{path} is not a 32-byte key; restore it from the key backup.")
            _keys[path] = key
        return _keys[path]


def seal(value: str, *, bound_to: str) -> str:
    nonce = secrets.token_bytes(12)
    sealed = AESGCM(_key()).encrypt(nonce, value.encode(), bound_to.encode())
    return PREFIX + base64.urlsafe_b64encode(nonce + sealed).decode()


def unseal(value: str, *, bound_to: str) -> str:
    if not value.startswith(PREFIX):
        raise ValueError("not a sealed value")
    raw = base64.urlsafe_b64decode(value[len(PREFIX) :])
    try:
        return AESGCM(_key()).decrypt(raw[:12], raw[12:], bound_to.encode()).decode()
    except InvalidTag as error:
        raise ValueError("sealed with another key or for another account") from error
