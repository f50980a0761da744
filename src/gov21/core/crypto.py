"""Signing keys and compact signed credentials that anyone can verify offline.

A credential is a compact JWS (RFC 7515) signed with Ed25519 (``alg`` "EdDSA", RFC 8037). The
public half of every key ever used, active or retired, is published as a JWKS, so a verifier
needs nothing but that JWKS and :func:`verify_compact` (or any JOSE library).

Credentials end up in QR codes printed on paper, where every byte costs module density, so:

* claims are serialised without whitespace and with raw UTF-8 (``\\u`` escapes triple the size
  of accented names);
* callers should use short claim names. Registered JWT names keep their RFC 7519 meaning
  (``iss``, ``sub``, ``iat``, ``exp``, ``nbf``, ``jti``); domain claims should be one to three
  letters and documented where they are defined. A certificate credential with eight short
  claims (names, dates, number) is about 370-410 characters, a version 15 QR code at level M;
  the header, signature and dots alone take 208 of them.

``exp`` and ``nbf`` are enforced when present; civil certificates normally carry neither.

Why ``cryptography`` directly rather than joserfc (which is a dependency anyway): joserfc 1.x
emits a ``SecurityWarning`` on every use of "EdDSA" because RFC 9864 deprecates that name in
favour of "Ed25519", yet "EdDSA" is what deployed verifiers (phone apps, other JOSE libraries)
understand today. Compact JWS is three base64url segments, and owning the parser also lets us
reject duplicate JSON member names and non-canonical encodings explicitly. The tests check that
joserfc accepts what we produce and computes the same key ids.
"""

from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import json
import math
import os
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final, NoReturn

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gov21.core.errors import DomainError

ALG: Final = "EdDSA"
# The only algorithms a verifier here accepts; "none" and MAC algorithms can never be among them.
ALGORITHMS: Final = frozenset({ALG})
# Header members through which a token names (or carries) the key to check it with.
REFUSED_HEADERS: Final = frozenset({"jku", "x5u", "jwk", "x5c"})
CERT_TYP: Final = "gov21-cert+jwt"

# A QR code tops out below 3 kB, so anything much longer was not produced by us; refusing early
# bounds the work an anonymous caller of the public verification endpoint can cause.
MAX_TOKEN_LENGTH: Final = 4096

_INDEX_FILE: Final = "keys.json"
_LOCK_FILE: Final = ".lock"
_INDEX_VERSION: Final = 1
_B64URL_RE: Final = re.compile(r"[A-Za-z0-9_-]*")
# Key ids come from keys.json and become file names, so they are checked to be what a
# thumbprint looks like (43 base64url characters) before touching the filesystem.
_KID_RE: Final = re.compile(r"[A-Za-z0-9_-]{43}")
_PURPOSE_RE: Final = re.compile(r"[a-z][a-z0-9_-]{0,39}")


class KeyStoreError(RuntimeError):
    """The key directory is in a state an operator has to look at; never a caller's fault."""


# --- encoding -----------------------------------------------------------------------------------


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode_canonical(segment: str) -> bytes | None:
    """Decode unpadded base64url, or return None unless ``segment`` is the one canonical encoding.

    Decoders ignore the unused low bits of the final character, so several strings decode to the
    same bytes. Insisting on the canonical one means every character of a credential matters and
    a one-character change can never slip through as "the same" credential.
    """
    if not _B64URL_RE.fullmatch(segment) or len(segment) % 4 == 1:
        return None
    data = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    if b64url_encode(data) != segment:
        return None
    return data


def _compact_json(value: Mapping[str, object]) -> bytes:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")


def _reject_duplicates(pairs: list[tuple[str, object]]) -> dict[str, object]:
    result: dict[str, object] = {}
    for name, value in pairs:
        if name in result:
            # Parsers disagree on which duplicate wins; a verifier must not see different claims
            # from the ones another verifier sees.
            raise ValueError(f"duplicate member {name!r}")
        result[name] = value
    return result


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"non-standard JSON constant {name}")


def _parse_json_object(data: bytes) -> dict[str, Any] | None:
    try:
        value = json.loads(
            data.decode("utf-8"),
            object_pairs_hook=_reject_duplicates,
            parse_constant=_reject_constant,
        )
    except ValueError:  # includes UnicodeDecodeError and JSONDecodeError
        return None
    return value if isinstance(value, dict) else None


# --- keys ---------------------------------------------------------------------------------------


def public_jwk(public_key: Ed25519PublicKey) -> dict[str, str]:
    x = b64url_encode(public_key.public_bytes_raw())
    return {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": jwk_thumbprint(public_key), "use": "sig", "alg": ALG}


def jwk_thumbprint(public_key: Ed25519PublicKey) -> str:
    """RFC 7638 thumbprint: SHA-256 over the required members in lexicographic order."""
    x = b64url_encode(public_key.public_bytes_raw())
    canonical = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("ascii")).digest())


@dataclass(frozen=True)
class KeyRecord:
    kid: str
    created: datetime
    retired: datetime | None = None

    @property
    def active(self) -> bool:
        return self.retired is None


@dataclass(frozen=True)
class _Index:
    active: str
    keys: tuple[KeyRecord, ...]

    def to_json(self, purpose: str) -> bytes:
        body = {
            "version": _INDEX_VERSION,
            "purpose": purpose,
            "active": self.active,
            "keys": [
                {"kid": k.kid, "created": _iso(k.created), "retired": _iso(k.retired) if k.retired else None}
                for k in self.keys
            ],
        }
        return (json.dumps(body, indent=2) + "\n").encode("ascii")

    @classmethod
    def from_json(cls, data: bytes, where: Path) -> _Index:
        try:
            body = json.loads(data)
            if body.get("version") != _INDEX_VERSION:
                raise ValueError(f"unsupported version {body.get('version')!r}")
            keys = tuple(
                KeyRecord(
                    kid=_checked_kid(entry["kid"]),
                    created=_parse_iso(entry["created"]),
                    retired=_parse_iso(entry["retired"]) if entry.get("retired") else None,
                )
                for entry in body["keys"]
            )
            active = _checked_kid(body["active"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise KeyStoreError(f"{where} is unreadable ({exc}); restore it from backup") from exc
        matching = [k for k in keys if k.kid == active]
        if len(matching) != 1 or not matching[0].active or sum(k.active for k in keys) != 1:
            raise KeyStoreError(f"{where} must list its active key exactly once, as the only unretired key")
        return cls(active=active, keys=keys)

    def record(self, kid: str) -> KeyRecord:
        return next(k for k in self.keys if k.kid == kid)


def _checked_kid(value: object) -> str:
    if not isinstance(value, str) or not _KID_RE.fullmatch(value):
        raise ValueError(f"bad key id {value!r}")
    return value


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _parse_iso(value: object) -> datetime:
    if not isinstance(value, str):
        raise ValueError(f"bad timestamp {value!r}")
    return datetime.fromisoformat(value.replace("Z", "+00:00"))


def _write_new_file(path: Path, data: bytes, mode: int) -> None:
    # O_EXCL with the final mode means the file never exists, even briefly, with wider
    # permissions; fchmod because the umask could only have narrowed it.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, mode)
    try:
        os.fchmod(fd, mode)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        os.fsync(fd)
    finally:
        os.close(fd)


def private_file(path: Path, make: Callable[[], bytes]) -> bytes:
    """The content of a secret file under the data directory, created (0600, in a 0700 directory)
    with ``make()`` on first use. Safe when several processes start at once: one writes, all read.

    The content is written whole to a private temporary name and then hard-linked into place, so
    the file appears complete or not at all: a process that starts while another is still writing
    never reads half a key. ``link`` refuses to replace an existing file, so the first writer wins.
    """
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        pending = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        _write_new_file(pending, make(), 0o600)
        try:
            with contextlib.suppress(FileExistsError):
                os.link(pending, path)
        finally:
            pending.unlink()
    return path.read_bytes()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class KeyStore:
    """Ed25519 signing keys for one purpose, kept as PEM files in ``directory/<purpose>/``.

    Layout: ``<kid>.key.pem`` (PKCS#8 private key, 0600, only for the active key),
    ``<kid>.pub.pem`` (every key ever used), ``keys.json`` (which key is active and when each was
    created and retired), ``.lock`` (serialises generation and rotation across processes).

    A retired key's private half is deleted once rotation has committed: it will never sign
    again, and a key that no longer exists cannot leak. Its public half stays so that everything
    it signed remains verifiable.
    """

    def __init__(self, directory: Path, *, purpose: str) -> None:
        if not _PURPOSE_RE.fullmatch(purpose):
            raise ValueError(f"purpose must match {_PURPOSE_RE.pattern}, got {purpose!r}")
        self.purpose = purpose
        self.path = Path(directory) / purpose
        self._thread_lock = threading.Lock()
        self._index_cache: tuple[tuple[int, int, int], _Index] | None = None
        # A kid is a hash of the public key, so a cached key can never go stale. Only the active
        # private key is held, so one retired elsewhere does not linger in this process's memory.
        self._signing_key: tuple[str, Ed25519PrivateKey] | None = None
        self._public_keys: dict[str, Ed25519PublicKey] = {}

    # public API

    def active_key(self) -> KeyRecord:
        """The key new credentials are signed with, generated on first use."""
        index = self._read_index()
        if index is None:
            with self._locked():
                # Another process may have won the race while we waited for the lock.
                index = self._read_index()
                if index is None:
                    index = self._create_first_key()
        return index.record(index.active)

    def rotate(self) -> str:
        """Make a fresh key active and retire the previous one; returns the new kid."""
        with self._locked():
            index = self._read_index()
            if index is None:
                return self._create_first_key().active
            now = datetime.now(UTC)
            new = self._generate(now)
            retired = [KeyRecord(k.kid, k.created, now) if k.kid == index.active else k for k in index.keys]
            keys = (*retired, new)
            self._write_index(_Index(active=new.kid, keys=keys))
            with contextlib.suppress(FileNotFoundError):
                os.unlink(self._private_path(index.active))
            _fsync_dir(self.path)
            return new.kid

    def keys(self) -> list[KeyRecord]:
        """Every key, active first, then retired ones newest first; empty before first use."""
        index = self._read_index()
        if index is None:
            return []
        return sorted(index.keys, key=lambda k: (not k.active, -k.created.timestamp()))

    def public_jwks(self) -> dict[str, Any]:
        """Every key as a JWK Set, for publication; creates the first key so it is never empty."""
        self.active_key()
        return {"keys": [public_jwk(self._public_key(k.kid)) for k in self.keys()]}

    def sign(self, claims: Mapping[str, object], *, typ: str = CERT_TYP) -> str:
        """Compact JWS over ``claims`` with the active key."""
        if not isinstance(claims, Mapping):
            raise TypeError("claims must be a mapping")
        # A rotation in another process can delete the private key between reading the index
        # and loading the key; the second attempt sees the new index.
        for attempt in range(2):
            kid = self.active_key().kid
            try:
                key = self._private_key(kid)
            except FileNotFoundError:
                if attempt:
                    raise KeyStoreError(f"private key for active key {kid} is missing from {self.path}") from None
                continue
            return sign_compact(key, claims, typ=typ, kid=kid)
        raise AssertionError("unreachable")

    def verify(self, token: str, *, typ: str | None = CERT_TYP) -> dict[str, Any]:
        return verify_compact(token, self.public_jwks(), typ=typ)

    # internals

    @contextlib.contextmanager
    def _locked(self) -> Iterator[None]:
        self._ensure_dir()
        # flock excludes other processes (and other open file descriptions in this one); the
        # thread lock keeps threads sharing this KeyStore from interleaving cache updates.
        with self._thread_lock:
            fd = os.open(self.path / _LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield
            finally:
                os.close(fd)

    def _ensure_dir(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(FileExistsError):
            self.path.mkdir(mode=0o700)
        # mkdir's mode passes through the umask, and a pre-existing directory may be wider.
        os.chmod(self.path, 0o700)

    def _read_index(self) -> _Index | None:
        index_path = self.path / _INDEX_FILE
        try:
            fd = os.open(index_path, os.O_RDONLY | os.O_CLOEXEC)
        except FileNotFoundError:
            return None
        with os.fdopen(fd, "rb") as handle:
            st = os.fstat(handle.fileno())
            # The index is only ever replaced, never rewritten in place, so a new inode or
            # mtime is a reliable sign that another process rotated.
            stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
            cached = self._index_cache
            if cached is not None and cached[0] == stamp:
                return cached[1]
            index = _Index.from_json(handle.read(), index_path)
        self._index_cache = (stamp, index)
        return index

    def _create_first_key(self) -> _Index:
        strays = sorted(p.name for p in self.path.glob("*.pem"))
        if strays:
            # Generating a fresh key here would quietly drop these from the published JWKS and
            # make every credential they signed unverifiable.
            raise KeyStoreError(
                f"{self.path / _INDEX_FILE} is missing but key files exist ({', '.join(strays)}); "
                "restore keys.json from backup, or move the files away if they are debris of an "
                "interrupted first start"
            )
        record = self._generate(datetime.now(UTC))
        index = _Index(active=record.kid, keys=(record,))
        self._write_index(index)
        return index

    def _generate(self, now: datetime) -> KeyRecord:
        key = Ed25519PrivateKey.generate()
        public = key.public_key()
        kid = jwk_thumbprint(public)
        private_pem = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        public_pem = public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        # Key files are complete on disk before the index names them, so a crash in between
        # leaves at worst an unreferenced file, never an index pointing at nothing.
        _write_new_file(self._private_path(kid), private_pem, 0o600)
        _write_new_file(self._public_path(kid), public_pem, 0o644)
        self._signing_key = (kid, key)
        self._public_keys[kid] = public
        return KeyRecord(kid=kid, created=now.replace(microsecond=0))

    def _write_index(self, index: _Index) -> None:
        target = self.path / _INDEX_FILE
        temp = self.path / f".{_INDEX_FILE}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
        _write_new_file(temp, index.to_json(self.purpose), 0o644)
        os.replace(temp, target)
        _fsync_dir(self.path)
        self._index_cache = None

    def _private_path(self, kid: str) -> Path:
        return self.path / f"{_checked_kid(kid)}.key.pem"

    def _public_path(self, kid: str) -> Path:
        return self.path / f"{_checked_kid(kid)}.pub.pem"

    def _private_key(self, kid: str) -> Ed25519PrivateKey:
        cached = self._signing_key
        if cached is not None and cached[0] == kid:
            return cached[1]
        self._signing_key = None
        key = serialization.load_pem_private_key(self._private_path(kid).read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey) or jwk_thumbprint(key.public_key()) != kid:
            raise KeyStoreError(f"{self._private_path(kid)} does not hold the Ed25519 key {kid}")
        self._signing_key = (kid, key)
        return key

    def _public_key(self, kid: str) -> Ed25519PublicKey:
        cached = self._public_keys.get(kid)
        if cached is not None:
            return cached
        try:
            key = serialization.load_pem_public_key(self._public_path(kid).read_bytes())
        except FileNotFoundError:
            raise KeyStoreError(f"public key {self._public_path(kid)} is missing; restore it from backup") from None
        if not isinstance(key, Ed25519PublicKey) or jwk_thumbprint(key) != kid:
            raise KeyStoreError(f"{self._public_path(kid)} does not hold the Ed25519 key {kid}")
        self._public_keys[kid] = key
        return key


# --- verification -------------------------------------------------------------------------------


def _malformed(reason: str) -> DomainError:
    return DomainError(
        "credential_malformed",
        f"This is not a readable certificate code: {reason}. Check that the whole code was copied.",
        status=422,
        field="payload",
    )


def _find_public_key(jwks: Mapping[str, object], kid: str) -> Ed25519PublicKey | None:
    entries = jwks.get("keys") if isinstance(jwks, Mapping) else None
    if not isinstance(entries, list):
        raise ValueError('jwks must be a JWK Set: {"keys": [...]}')
    for jwk in entries:
        if not isinstance(jwk, Mapping) or jwk.get("kid") != kid:
            continue
        if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519" or not isinstance(jwk.get("x"), str):
            continue
        if jwk.get("use", "sig") != "sig" or jwk.get("alg", ALG) not in (ALG, "Ed25519"):
            continue
        raw = b64url_decode_canonical(jwk["x"])
        if raw is None or len(raw) != 32:
            continue
        key = Ed25519PublicKey.from_public_bytes(raw)
        # A kid is a promise about the key; an entry that breaks it was edited by hand or forged.
        if jwk_thumbprint(key) == kid:
            return key
    return None


def _numeric_date(claims: Mapping[str, object], name: str) -> float | None:
    value = claims.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise _malformed(f"the {name!r} claim is not a time")
    return float(value)


def _checked_header(token: object, max_length: int) -> tuple[list[str], dict[str, Any], bytes, bytes]:
    """The segments, header, raw payload and signature of a compact JWS whose header passes every
    rule of this module (signature not checked yet)."""
    if not isinstance(token, str):
        raise _malformed("it is not text")
    token = token.strip()
    if not token:
        raise _malformed("it is empty")
    if len(token) > max_length:
        raise _malformed(f"it is longer than {max_length} characters")
    segments = token.split(".")
    if len(segments) != 3:
        raise _malformed("it should be three parts separated by dots")
    decoded = [b64url_decode_canonical(s) for s in segments]
    if None in decoded:
        raise _malformed("it contains characters that cannot appear in a code, or is cut short")
    raw_header, raw_payload, signature = (d or b"" for d in decoded)

    header = _parse_json_object(raw_header)
    if header is None:
        raise _malformed("its first part is not a valid header")
    if header.get("alg") not in ALGORITHMS:
        raise _malformed(f"it uses the unsupported signature algorithm {header.get('alg')!r}")
    if "crit" in header:
        raise _malformed("it requires extensions this verifier does not understand")
    refused = sorted(REFUSED_HEADERS & header.keys())
    if refused:
        # The verifier decides which key it trusts; a token that names or carries its own key
        # (or where to fetch one) is an attempt to choose it.
        raise _malformed(f"it names its own key ({', '.join(refused)})")
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise _malformed("it does not say which key signed it")
    return segments, header, raw_payload, signature


def _checked_claims(
    header: Mapping[str, object], raw_payload: bytes, typ: str | None, now: float | None
) -> dict[str, Any]:
    claims = _parse_json_object(raw_payload)
    if claims is None:
        raise _malformed("its contents are not a set of claims")
    if typ is not None and header.get("typ") != typ:
        raise _malformed(f"it is a {header.get('typ')!r} credential, not a {typ!r}")

    moment = time.time() if now is None else now
    expires = _numeric_date(claims, "exp")
    if expires is not None and moment >= expires:
        raise DomainError(
            "credential_expired",
            "This code is genuine but has expired.",
            status=422,
            field="payload",
        )
    not_before = _numeric_date(claims, "nbf")
    if not_before is not None and moment < not_before:
        raise DomainError(
            "credential_not_yet_valid",
            "This code is genuine but is not valid yet.",
            status=422,
            field="payload",
        )
    return claims


def _tampered() -> DomainError:
    return DomainError(
        "credential_tampered",
        "This code has been altered or damaged: its signature does not match its contents. "
        "Do not rely on it; ask the holder for the original document.",
        status=422,
        field="payload",
    )


def verify_compact(
    token: str, jwks: Mapping[str, object], *, typ: str | None = CERT_TYP, now: float | None = None
) -> dict[str, Any]:
    """Verify a compact credential against a published JWKS and return its claims.

    Needs nothing but the JWKS, so it works offline. ``typ`` is the expected header type (None
    accepts any); ``now`` (Unix seconds) exists for tests of ``exp``/``nbf``. Surrounding
    whitespace is ignored because codes are pasted from e-mails and scanners add newlines.
    Raises DomainError with code credential_malformed, credential_unknown_key,
    credential_tampered, credential_expired or credential_not_yet_valid.
    """
    segments, header, raw_payload, signature = _checked_header(token, MAX_TOKEN_LENGTH)
    kid = str(header["kid"])
    public_key = _find_public_key(jwks, kid)
    if public_key is None:
        raise DomainError(
            "credential_unknown_key",
            f"This code was signed with a key (id {kid[:12]}…) that is not among the published "
            "registry keys. It may be forged, or the published keys you are checking against are "
            "out of date: fetch them again and retry.",
            status=422,
            field="payload",
            extra={"kid": kid},
        )
    try:
        public_key.verify(signature, f"{segments[0]}.{segments[1]}".encode("ascii"))
    except InvalidSignature:
        raise _tampered() from None
    return _checked_claims(header, raw_payload, typ, now)


# --- signed documents between machines ----------------------------------------------------------
#
# The exchange signs its configuration, its message envelopes and its nodes' requests with keys
# named by certificates rather than by a JWKS. These functions are the same rules as above with the
# key chosen by the caller: read the header (``unverified_compact``), look the key up in what the
# caller already trusts, then ``verify_compact_key``. ``typ`` is always required here, so a token of
# one kind can never be accepted as another.


def sign_compact(key: Ed25519PrivateKey, claims: Mapping[str, object], *, typ: str, kid: str) -> str:
    """Compact JWS over ``claims`` with ``key``, named ``kid``."""
    header = b64url_encode(_compact_json({"alg": ALG, "kid": kid, "typ": typ}))
    signing_input = f"{header}.{b64url_encode(_compact_json(claims))}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode('ascii')))}"


def unverified_compact(token: str, *, typ: str, max_length: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims of a token whose header passes every rule, NOT yet trusted: for choosing
    the key (``kid``) or the signer's record before :func:`verify_compact_key`."""
    _, header, raw_payload, _ = _checked_header(token, max_length)
    if header.get("typ") != typ:
        raise _malformed(f"it is a {header.get('typ')!r} document, not a {typ!r}")
    claims = _parse_json_object(raw_payload)
    if claims is None:
        raise _malformed("its contents are not a set of claims")
    return header, claims


def verify_compact_key(
    token: str, public_key: Ed25519PublicKey, *, typ: str, max_length: int, now: float | None = None
) -> dict[str, Any]:
    """Verify ``token`` with ``public_key`` and return its claims (``exp``/``nbf`` enforced)."""
    segments, header, raw_payload, signature = _checked_header(token, max_length)
    try:
        public_key.verify(signature, f"{segments[0]}.{segments[1]}".encode("ascii"))
    except InvalidSignature:
        raise _tampered() from None
    return _checked_claims(header, raw_payload, typ, now)


# --- API tokens ---------------------------------------------------------------------------------


def random_token(nbytes: int = 32) -> str:
    """A URL-safe secret for API tokens; at least 128 bits so guessing is hopeless."""
    if nbytes < 16:
        raise ValueError("nbytes must be at least 16")
    return secrets.token_urlsafe(nbytes)


def hash_token(token: str) -> str:
    """SHA-256 hex of a token, for storage and lookup.

    A fast unsalted hash is enough because tokens from :func:`random_token` are high-entropy:
    there is no dictionary to attack, and a deterministic hash lets the database index it.
    """
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
