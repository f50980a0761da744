"""The pairwise pseudonym of a person in one process: HMAC-SHA256 of the UIN under a 256-bit key of
that process alone, kept in a private file under the data directory (and copied by backups: without
it a voter could not change their ballot). The UIN itself is never stored."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
from pathlib import Path

from django.conf import settings

from gov21.core.crypto import private_file

DIRECTORY = "participation/keys"

_lock = threading.Lock()
_keys: dict[tuple[str, str], bytes] = {}


def process_key(key_id: str) -> bytes:
    where = (str(settings.DATA_DIR), key_id)
    key = _keys.get(where)
    if key is None:
        path = Path(settings.DATA_DIR) / DIRECTORY / f"{key_id}.key"
        key = private_file(path, lambda: secrets.token_bytes(32))
        with _lock:
            _keys[where] = key
    return key


def pseudonym(*, key_id: str, uin: str) -> str:
    return hmac.new(process_key(key_id), uin.encode("ascii"), hashlib.sha256).hexdigest()
