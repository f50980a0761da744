"""Compact JWS (RFC 7515) with Ed25519 for the exchange's own documents: signed configuration and
node-to-node message envelopes. Small on purpose: one algorithm, no options to get wrong."""

from __future__ import annotations

import json
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gov21.core.crypto import b64url_decode_canonical, b64url_encode
from gov21.exchange.errors import XRoadError


def sign(key: Ed25519PrivateKey, payload: dict[str, Any], *, typ: str, kid: str) -> str:
    header = b64url_encode(json.dumps({"alg": "EdDSA", "typ": typ, "kid": kid}, separators=(",", ":")).encode())
    body = b64url_encode(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signing_input = f"{header}.{body}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"


def unverified(token: str, *, typ: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload, not yet trusted: the caller looks up the key named by ``kid``."""
    parts = token.split(".")
    if len(parts) != 3:
        raise XRoadError("MalformedSignature", "Signature is not a compact JWS")
    decoded = [b64url_decode_canonical(p) for p in parts]
    if any(d is None for d in decoded):
        raise XRoadError("MalformedSignature", "Signature is not canonical base64url")
    try:
        header = json.loads(decoded[0] or b"")
        payload = json.loads(decoded[1] or b"")
    except ValueError as exc:
        raise XRoadError("MalformedSignature", "Signature header or payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise XRoadError("MalformedSignature", "Signature header or payload is not an object")
    if header.get("alg") != "EdDSA" or header.get("typ") != typ:
        raise XRoadError("UnsupportedAlgorithm", f"Expected an EdDSA {typ} signature")
    return header, payload


def verify(token: str, key: Ed25519PublicKey) -> None:
    header, _, signature = token.rpartition(".")
    raw = b64url_decode_canonical(signature)
    if raw is None:
        raise XRoadError("InvalidSignatureValue", "Signature is not canonical base64url")
    try:
        key.verify(raw, header.encode("ascii"))
    except (InvalidSignature, UnicodeEncodeError) as exc:
        raise XRoadError("InvalidSignatureValue", "Signature does not verify") from exc
