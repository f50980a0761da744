"""The access log as a chain: which table, which fields are hashed, and the key its heads are
signed with (``DATA_DIR/keys/audit/access-log.key``, backed up with the node's other keys)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Final

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.conf import settings

from gov21.audit.models import AccessChainHead, AccessRecord, AccessTreeHead
from gov21.core import chain as core
from gov21.core.crypto import private_file

CHAIN: Final = "access"
FIELDS: Final = ("at", "actor", "actor_kind", "action", "subject", "purpose", "detail")
KIND: Final = core.Kind(AccessRecord, FIELDS, AccessChainHead, AccessTreeHead, json_fields=("detail",))

_keys: dict[Path, Ed25519PrivateKey] = {}
_lock = threading.Lock()


def _key() -> Ed25519PrivateKey:
    path = Path(settings.DATA_DIR) / "keys" / "audit" / "access-log.key"
    with _lock:
        key = _keys.get(path)
        if key is None:
            path.parent.mkdir(parents=True, exist_ok=True)
            raw = private_file(path, lambda: Ed25519PrivateKey.generate().private_bytes_raw())
            key = _keys[path] = Ed25519PrivateKey.from_private_bytes(raw)
    return key


def sign(message: bytes) -> bytes:
    return _key().sign(message)


def verify_signature(message: bytes, signature: bytes) -> bool:
    try:
        _key().public_key().verify(signature, message)
    except InvalidSignature:
        return False
    return True
