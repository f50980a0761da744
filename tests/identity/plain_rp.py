"""A relying party written from the specifications with nothing but ``urllib`` and ``cryptography``.

It shares no code with the provider (Authlib, joserfc) or with the portal's client, so what it
accepts is what the OpenID Connect and OAuth texts say, not what gov21's own libraries happen to do:
JWS signing and verification (RFC 7515/7518/8037), JWK thumbprints (RFC 7638), ``private_key_jwt``
assertions (RFC 7523, OpenID Connect Core §9), PKCE (RFC 7636) and ID-token validation (Core §3.1.3.7).
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64u_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _int_bytes(value: int, length: int | None = None) -> bytes:
    return value.to_bytes(length or (value.bit_length() + 7) // 8, "big")


def _int(text: str) -> int:
    return int.from_bytes(b64u_decode(text), "big")


# --- HTTP -----------------------------------------------------------------------------------------


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


_opener = urllib.request.build_opener(_NoRedirects)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def http(method: str, url: str, form: dict[str, str] | None = None, headers: dict[str, str] | None = None) -> Answer:
    assert url.startswith(("http://localhost:", "http://127.0.0.1:")), url  # tests stay on loopback
    data = urlencode(form).encode() if form is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers=headers or {})
    if data is not None:
        request.add_header("Content-Type", "application/x-www-form-urlencoded")
    try:
        with _opener.open(request, timeout=10) as response:
            return Answer(response.status, {k.lower(): v for k, v in response.headers.items()}, response.read())
    except urllib.error.HTTPError as error:
        return Answer(error.code, {k.lower(): v for k, v in error.headers.items()}, error.read())


# --- keys and JWS ---------------------------------------------------------------------------------


@dataclass
class Key:
    """A client's signing key for one JWS algorithm."""

    alg: str
    private: Any
    kid: str = ""
    jwk: dict[str, str] = field(default_factory=dict)

    @classmethod
    def generate(cls, alg: str) -> Key:
        private: Any
        if alg == "ES256":
            private = ec.generate_private_key(ec.SECP256R1())
        elif alg in ("RS256", "PS256"):
            private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        elif alg == "EdDSA":
            private = Ed25519PrivateKey.generate()
        else:
            raise ValueError(f"this relying party cannot make a key for {alg}")
        key = cls(alg, private)
        key.jwk = public_jwk(private.public_key())
        key.kid = thumbprint(key.jwk)
        key.jwk = {**key.jwk, "kid": key.kid, "use": "sig", "alg": alg}
        return key


def public_jwk(public: Any) -> dict[str, str]:
    if isinstance(public, ec.EllipticCurvePublicKey):
        numbers = public.public_numbers()
        return {"kty": "EC", "crv": "P-256", "x": b64u(_int_bytes(numbers.x, 32)), "y": b64u(_int_bytes(numbers.y, 32))}
    if isinstance(public, rsa.RSAPublicKey):
        numbers = public.public_numbers()
        return {"kty": "RSA", "n": b64u(_int_bytes(numbers.n)), "e": b64u(_int_bytes(numbers.e))}
    if isinstance(public, Ed25519PublicKey):
        return {"kty": "OKP", "crv": "Ed25519", "x": b64u(public.public_bytes_raw())}
    raise TypeError(type(public))


def thumbprint(jwk: dict[str, str]) -> str:
    """RFC 7638: SHA-256 over the required members, sorted, without whitespace."""
    required = {"EC": ("crv", "kty", "x", "y"), "RSA": ("e", "kty", "n"), "OKP": ("crv", "kty", "x")}[jwk["kty"]]
    canonical = json.dumps({name: jwk[name] for name in required}, separators=(",", ":"), sort_keys=True)
    return b64u(hashlib.sha256(canonical.encode()).digest())


def sign(key: Key, header: dict[str, Any], claims: dict[str, Any]) -> str:
    segments = [b64u(json.dumps(part, separators=(",", ":")).encode()) for part in (header, claims)]
    signing_input = ".".join(segments).encode("ascii")
    alg = header["alg"]
    if alg == "ES256":
        r, s = decode_dss_signature(key.private.sign(signing_input, ec.ECDSA(hashes.SHA256())))
        signature = _int_bytes(r, 32) + _int_bytes(s, 32)  # RFC 7518 §3.4: R || S, not DER
    elif alg == "RS256":
        signature = key.private.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    elif alg == "PS256":
        # RFC 7518 §3.5: MGF1 with SHA-256 and a salt as long as the hash.
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        signature = key.private.sign(signing_input, pss, hashes.SHA256())
    elif alg == "EdDSA":
        signature = key.private.sign(signing_input)
    else:
        raise ValueError(alg)
    return f"{signing_input.decode()}.{b64u(signature)}"


class BadToken(Exception):
    pass


def _public_key(jwk: dict[str, Any]) -> Any:
    if jwk["kty"] == "EC" and jwk.get("crv") == "P-256":
        return ec.EllipticCurvePublicNumbers(_int(jwk["x"]), _int(jwk["y"]), ec.SECP256R1()).public_key()
    if jwk["kty"] == "RSA":
        return rsa.RSAPublicNumbers(_int(jwk["e"]), _int(jwk["n"])).public_key()
    if jwk["kty"] == "OKP" and jwk.get("crv") == "Ed25519":
        return Ed25519PublicKey.from_public_bytes(b64u_decode(jwk["x"]))
    raise BadToken(f"unusable key type {jwk['kty']}")


def verify(token: str, jwks: dict[str, Any], alg: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Check a compact JWS signed with ``alg`` by a key of ``jwks``; the header and the claims."""
    head, body, signature_text = token.split(".")
    header = json.loads(b64u_decode(head))
    if header.get("alg") != alg:
        raise BadToken(f"signed with {header.get('alg')}, expected {alg}")
    kty = {"ES256": "EC", "RS256": "RSA", "PS256": "RSA", "EdDSA": "OKP"}[alg]
    candidates = [k for k in jwks["keys"] if k.get("kid") == header.get("kid") and k["kty"] == kty]
    if len(candidates) != 1:
        raise BadToken(f"no single {kty} key with kid {header.get('kid')!r} in the JWKS")
    jwk = candidates[0]
    if jwk.get("use", "sig") != "sig" or jwk.get("alg", alg) != alg:
        raise BadToken(f"the key {jwk.get('kid')} is not published for {alg} signatures")
    public = _public_key(jwk)
    signing_input = f"{head}.{body}".encode("ascii")
    signature = b64u_decode(signature_text)
    try:
        if alg == "ES256":
            if len(signature) != 64:
                raise BadToken("an ES256 signature is 64 bytes")
            der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
            public.verify(der, signing_input, ec.ECDSA(hashes.SHA256()))
        elif alg == "RS256":
            public.verify(signature, signing_input, padding.PKCS1v15(), hashes.SHA256())
        elif alg == "PS256":
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            public.verify(signature, signing_input, pss, hashes.SHA256())
        else:
            public.verify(signature, signing_input)
    except Exception as error:  # cryptography's InvalidSignature
        raise BadToken(f"bad signature: {error!r}") from error
    return header, json.loads(b64u_decode(body))


# --- the relying party ----------------------------------------------------------------------------


@dataclass
class PlainRP:
    """One registered client: its id, redirect URI, assertion key and expected ID-token algorithm."""

    client_id: str
    redirect_uri: str
    key: Key
    id_token_alg: str
    meta: dict[str, Any]

    def assertion(self, *, aud: Any = None, alg: str | None = None, lifetime: int = 60) -> str:
        """A ``private_key_jwt`` client assertion (RFC 7523 §3, Core §9), audience the issuer."""
        now = int(time.time())
        claims = {
            "iss": self.client_id,
            "sub": self.client_id,
            "aud": self.meta["issuer"] if aud is None else aud,
            "jti": secrets.token_urlsafe(16),
            "iat": now,
            "exp": now + lifetime,
        }
        return sign(self.key, {"alg": alg or self.key.alg, "kid": self.key.kid, "typ": "JWT"}, claims)

    def start(self, **extra: str) -> Flow:
        verifier = b64u(os.urandom(32))
        flow = Flow(verifier=verifier, state=secrets.token_urlsafe(16), nonce=secrets.token_urlsafe(16))
        params = {
            "response_type": "code",
            "client_id": self.client_id,
            "redirect_uri": self.redirect_uri,
            "scope": "openid profile",
            "state": flow.state,
            "nonce": flow.nonce,
            "code_challenge": b64u(hashlib.sha256(verifier.encode("ascii")).digest()),
            "code_challenge_method": "S256",
            **extra,
        }
        flow.url = f"{self.meta['authorization_endpoint']}?{urlencode(params)}"
        flow.max_age = extra.get("max_age")
        return flow

    def redeem(self, flow: Flow, code: str, **assertion: Any) -> Answer:
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": self.redirect_uri,
            "code_verifier": flow.verifier,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": self.assertion(**assertion),
        }
        return http("POST", self.meta["token_endpoint"], form)

    def validate_id_token(self, raw: str, flow: Flow, access_token: str) -> dict[str, Any]:
        """OpenID Connect Core §3.1.3.7 and §3.1.3.8, step by step."""
        jwks = http("GET", self.meta["jwks_uri"]).json()
        header, claims = verify(raw, jwks, self.id_token_alg)  # steps 6-8: the registered algorithm
        assert claims["iss"] == self.meta["issuer"]  # step 2
        audiences = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
        assert self.client_id in audiences  # step 3
        if len(audiences) > 1 or "azp" in claims:
            assert claims.get("azp") == self.client_id  # steps 4-5
        now = time.time()
        assert claims["exp"] > now  # step 9
        assert abs(claims["iat"] - now) < 120  # step 10
        assert claims.get("nonce") == flow.nonce  # step 11
        if flow.max_age is not None:  # step 13
            assert isinstance(claims.get("auth_time"), int)
            assert claims["auth_time"] + int(flow.max_age) >= now - 5
        if "at_hash" in claims:  # §3.1.3.8: the left half of the hash the alg names (SHA-256 for all of ours)
            assert claims["at_hash"] == b64u(hashlib.sha256(access_token.encode("ascii")).digest()[:16])
        assert isinstance(claims["sub"], str) and claims["sub"]
        claims["_header"] = header
        return claims


@dataclass
class Flow:
    verifier: str
    state: str
    nonce: str
    url: str = ""
    max_age: str | None = None
