"""Verifiers of the signed codes printed on documents, by prefix: the civil registry's certificates
are checked by the registry, other agencies' documents by the app that issued them. The public
/verify page asks this table, so it does not need to know every issuer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

VERIFIERS: dict[str, Callable[[str], Any]] = {}


def verifier_register(prefix: str, verify: Callable[[str], Any]) -> None:
    VERIFIERS[prefix.upper()] = verify


def verifier_for(payload: str) -> Callable[[str], Any] | None:
    head = payload.strip()[:16].upper()
    for prefix, verify in VERIFIERS.items():
        if head.startswith(prefix):
            return verify
    return None


# Other issuers' public keys, published beside the registry's at /.well-known/jwks.json so one
# download lets an offline verifier check every document.
JWKS_SOURCES: list[Callable[[], dict[str, Any]]] = []


def jwks_source_register(source: Callable[[], dict[str, Any]]) -> None:
    if source not in JWKS_SOURCES:
        JWKS_SOURCES.append(source)


def other_keys() -> list[dict[str, Any]]:
    return [key for source in JWKS_SOURCES for key in source().get("keys", [])]
