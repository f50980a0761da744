"""The provider's ID-token signing keys and the secret behind pairwise subjects.

Two keys are active at once: ES256 (P-256), what gov21's own clients use, and RS256 (RSA), which
OpenID Connect Core §15.1 requires every provider to offer and which a client asks for by being
registered with ``id_token_signed_response_alg=RS256``. Generated on first use under
``<data dir>/keys/oidc``; never in the repository. An index written before RS256 was offered gets its
RSA key on first load. Rotation replaces both active keys; retired keys stay published in the JWKS so
tokens they signed still verify.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Final

from django.conf import settings
from joserfc.jwk import ECKey, KeySet, RSAKey

from gov21.core.crypto import private_file

ES256: Final = "ES256"
RS256: Final = "RS256"
ALGORITHMS: Final = (ES256, RS256)
# 3072 bits: NIST SP 800-57 keeps 2048-bit RSA only until 2030, and these keys may outlive that.
RSA_BITS: Final = 3072

# In keys.json, the active key and every key ever used, per algorithm. The ES256 names predate RS256.
_ACTIVE: Final = {ES256: "active", RS256: "rsa_active"}
_KIDS: Final = {ES256: "kids", RS256: "rsa_kids"}

_lock = threading.Lock()
_cache: dict[str, Any] = {}


def _directory() -> Path:
    path = Path(settings.DATA_DIR) / "keys" / "oidc"
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


@contextlib.contextmanager
def _exclusive(directory: Path) -> Iterator[None]:
    """Across processes: every web worker loads keys at its first request, and on an upgrade each
    would otherwise add an RSA key of its own, all but one missing from the index the others read."""
    fd = os.open(directory / ".lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def _read_index(directory: Path) -> dict[str, Any] | None:
    path = directory / "keys.json"
    return json.loads(path.read_text()) if path.exists() else None


def _load() -> dict[str, Any]:
    directory = _directory()
    with _lock:
        if _cache.get("dir") == directory:
            return _cache
        index = _read_index(directory)
        if index is None or any(index.get(_ACTIVE[alg]) is None for alg in ALGORITHMS):
            with _exclusive(directory):
                index = _read_index(directory) or {}
                for alg in ALGORITHMS:
                    if index.get(_ACTIVE[alg]) is None:
                        index = _generate(directory, index, alg)
        keys: dict[str, tuple[str, ECKey | RSAKey]] = {}
        for alg in ALGORITHMS:
            kind = ECKey if alg == ES256 else RSAKey
            for kid in index[_KIDS[alg]]:
                keys[kid] = (alg, kind.import_key((directory / f"{kid}.pem").read_bytes()))
        pairwise = private_file(directory / "pairwise.secret", lambda: secrets.token_hex(32).encode())
        _cache.clear()
        _cache.update(
            dir=directory,
            active={alg: index[_ACTIVE[alg]] for alg in ALGORITHMS},
            keys=keys,
            jwks={"keys": [_public(kid, alg, key) for kid, (alg, key) in keys.items()]},
            pairwise=bytes.fromhex(pairwise.decode().strip()),
        )
        return _cache


def _public(kid: str, alg: str, key: ECKey | RSAKey) -> dict[str, Any]:
    return {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": alg}


def _generate(directory: Path, index: dict[str, Any], alg: str) -> dict[str, Any]:
    """Write a new key for ``alg`` and make it active; the caller holds the directory lock."""
    key: ECKey | RSAKey = ECKey.generate_key("P-256", private=True) if alg == ES256 else RSAKey.generate_key(RSA_BITS)
    kid = key.thumbprint()
    private_file(directory / f"{kid}.pem", lambda: key.as_pem(private=True))
    updated = {**index, _ACTIVE[alg]: kid, _KIDS[alg]: [*index.get(_KIDS[alg], []), kid]}
    tmp = directory / f"keys.json.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(updated))
    tmp.replace(directory / "keys.json")
    return updated


def rotate() -> dict[str, str]:
    """Make a new key active for each algorithm; the new key ids by algorithm."""
    directory = _directory()
    with _lock, _exclusive(directory):
        index = _read_index(directory) or {}
        for alg in ALGORITHMS:
            index = _generate(directory, index, alg)
        _cache.clear()
    return {alg: str(index[_ACTIVE[alg]]) for alg in ALGORITHMS}


def signing_key(alg: str = ES256) -> tuple[str, ECKey | RSAKey]:
    state = _load()
    kid = state["active"][alg]
    return kid, state["keys"][kid][1]


def jwks() -> dict[str, Any]:
    return dict(_load()["jwks"])


def key_set() -> KeySet:
    return KeySet.import_key_set(jwks())  # type: ignore[arg-type]


def pairwise_secret() -> bytes:
    return bytes(_load()["pairwise"])
