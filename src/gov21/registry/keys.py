from __future__ import annotations

from functools import cache

from django.conf import settings

from gov21.core.crypto import KeyStore


@cache
def registry_keys() -> KeyStore:
    """The civil registry's signing keys, generated on first use under the data directory."""
    return KeyStore(settings.DATA_DIR / "keys", purpose="registry")
