"""The provider's ID-token signing keys (ES256, P-256) and the secret behind pairwise subjects.

Generated on first use under ``<data dir>/keys/oidc``; never in the repository. Rotation adds a key
and makes it active; retired keys stay published in the JWKS so tokens they signed still verify.
"""

from __future__ import annotations

import json
import secrets
import threading
from pathlib import Path
from typing import Any

from django.conf import settings
from joserfc.jwk import ECKey, KeySet

from gov21.core.crypto import private_file

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _directory() -> Path:
    path = Path(settings.DATA_DIR) / "keys" / "oidc"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def _load() -> dict[str, Any]:
    directory = _directory()
    index_path = directory / "keys.json"
    with _lock:
        if _cache.get("dir") == directory:
            return _cache
        if not index_path.exists():
            _generate(directory)
        index = json.loads(index_path.read_text())
        keys = {kid: ECKey.import_key((directory / f"{kid}.pem").read_bytes()) for kid in index["kids"]}
        pairwise = private_file(directory / "pairwise.secret", lambda: secrets.token_hex(32).encode())
        _cache.clear()
        _cache.update(
            dir=directory,
            active=index["active"],
            keys=keys,
            jwks={"keys": [_public(kid, key) for kid, key in keys.items()]},
            pairwise=bytes.fromhex(pairwise.decode().strip()),
        )
        return _cache


def _public(kid: str, key: ECKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": "ES256"}


def _generate(directory: Path) -> str:
    key = ECKey.generate_key("P-256", private=True)
    kid = key.thumbprint()
    private_file(directory / f"{kid}.pem", lambda: key.as_pem(private=True))
    index_path = directory / "keys.json"
    kids = json.loads(index_path.read_text())["kids"] if index_path.exists() else []
    tmp = directory / "keys.json.tmp"
    tmp.write_text(json.dumps({"active": kid, "kids": [*kids, kid]}))
    tmp.replace(index_path)
    return kid


def rotate() -> str:
    with _lock:
        kid = _generate(_directory())
        _cache.clear()
    return kid


def signing_key() -> tuple[str, ECKey]:
    state = _load()
    return state["active"], state["keys"][state["active"]]


def jwks() -> dict[str, Any]:
    return dict(_load()["jwks"])


def key_set() -> KeySet:
    return KeySet.import_key_set(jwks())  # type: ignore[arg-type]


def pairwise_secret() -> bytes:
    return bytes(_load()["pairwise"])
