from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import stat
import string
import threading
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from gov21.core.crypto import (
    CERT_TYP,
    KeyRecord,
    KeyStore,
    KeyStoreError,
    b64url_decode_canonical,
    b64url_encode,
    hash_token,
    jwk_thumbprint,
    private_file,
    public_jwk,
    random_token,
    verify_compact,
)
from gov21.core.errors import DomainError

B64URL_ALPHABET = string.ascii_uppercase + string.ascii_lowercase + string.digits + "-_"

# What a birth certificate credential plausibly carries, with the short names QR size calls for.
CLAIMS: dict[str, Any] = {
    "iss": "XA-CR",
    "iat": 1764316800,
    "k": "b",
    "n": "B-2025-000123",
    "gn": "Zoë Anna",
    "sn": "Łukasiewicz-Hernández",
    "dob": "2025-11-20",
    "pob": "Port Azure",
}


@pytest.fixture
def store(tmp_path: Path) -> KeyStore:
    return KeyStore(tmp_path / "keys", purpose="registry")


def _segments(token: str) -> list[dict[str, Any]]:
    header, payload, _ = token.split(".")
    return [json.loads(b64url_decode_canonical(part) or b"") for part in (header, payload)]


def _forge(header: dict[str, Any], payload: bytes, key: Ed25519PrivateKey) -> str:
    signing_input = f"{b64url_encode(json.dumps(header).encode())}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(key.sign(signing_input.encode()))}"


def _jwks_for(key: Ed25519PrivateKey) -> dict[str, Any]:
    return {"keys": [public_jwk(key.public_key())]}


def _code(token: str, jwks: dict[str, Any], **kwargs: Any) -> str:
    with pytest.raises(DomainError) as info:
        verify_compact(token, jwks, **kwargs)
    assert info.value.status == 422
    assert info.value.field == "payload"
    assert info.value.detail  # a human has to be able to read why
    return info.value.code


# --- signing and verification -------------------------------------------------------------------


def test_sign_verify_round_trip(store: KeyStore) -> None:
    token = store.sign(CLAIMS)

    assert verify_compact(token, store.public_jwks()) == CLAIMS
    assert store.verify(token) == CLAIMS
    header, _ = _segments(token)
    assert header == {"alg": "EdDSA", "kid": store.active_key().kid, "typ": CERT_TYP}


def test_typical_credential_fits_comfortably_in_a_qr_code(store: KeyStore) -> None:
    assert 300 <= len(store.sign(CLAIMS)) <= 450


def test_every_single_character_alteration_is_rejected(store: KeyStore) -> None:
    token = store.sign(CLAIMS)
    jwks = store.public_jwks()
    accepted: list[tuple[int, str]] = []
    codes: Counter[str] = Counter()
    for position, original in enumerate(token):
        for replacement in B64URL_ALPHABET + ".":
            if replacement == original:
                continue
            altered = token[:position] + replacement + token[position + 1 :]
            try:
                verify_compact(altered, jwks)
            except DomainError as exc:
                codes[exc.code] += 1
            else:
                accepted.append((position, replacement))

    assert accepted == []
    assert set(codes) == {"credential_tampered", "credential_malformed", "credential_unknown_key"}


def test_non_canonical_final_character_is_rejected_although_it_decodes_identically(store: KeyStore) -> None:
    token = store.sign(CLAIMS)
    header, payload, signature = token.split(".")
    # 64 signature bytes leave 4 unused bits in the last character: 15 other characters decode
    # to exactly the same bytes, and every one of them must still be refused.
    twins = [
        c
        for c in B64URL_ALPHABET
        if c != signature[-1] and _lenient_decode(signature[:-1] + c) == _lenient_decode(signature)
    ]
    assert len(twins) == 15
    for twin in twins:
        assert _code(f"{header}.{payload}.{signature[:-1]}{twin}", store.public_jwks()) == "credential_malformed"


def _lenient_decode(segment: str) -> bytes:
    import base64

    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def test_canonical_base64url_decoding() -> None:
    assert b64url_decode_canonical("AA") == b"\x00"
    assert b64url_decode_canonical("AB") is None  # same byte, stray low bits set
    assert b64url_decode_canonical("AA==") is None  # padding is not part of the JOSE encoding
    assert b64url_decode_canonical("A") is None
    assert b64url_decode_canonical("+/") is None
    assert b64url_decode_canonical("") == b""


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda t: t[:-1], id="truncated"),
        pytest.param(lambda t: t + "A", id="extended"),
        pytest.param(lambda t: t[:50] + t[51:], id="character-removed"),
        pytest.param(lambda t: t[:50] + "A" + t[50:], id="character-inserted"),
        pytest.param(lambda t: t.replace(".", "", 1), id="dot-removed"),
        pytest.param(lambda t: t + ".", id="extra-dot"),
    ],
)
def test_other_damage_is_rejected(store: KeyStore, mutate: Any) -> None:
    token = store.sign(CLAIMS)
    _code(mutate(token), store.public_jwks())


def test_surrounding_whitespace_from_copy_and_paste_is_tolerated(store: KeyStore) -> None:
    token = store.sign(CLAIMS)
    assert verify_compact(f"  {token}\n", store.public_jwks()) == CLAIMS


@pytest.mark.parametrize(
    "token",
    ["", "   ", "not a token", "a.b", "a.b.c.d", "eyJ.e30.AAAA", "é.é.é", "A" * 5000],
)
def test_garbage_is_malformed(store: KeyStore, token: str) -> None:
    assert _code(token, store.public_jwks()) == "credential_malformed"


def test_unknown_kid_is_rejected(tmp_path: Path) -> None:
    ours = KeyStore(tmp_path, purpose="registry")
    theirs = KeyStore(tmp_path, purpose="elsewhere")
    token = theirs.sign(CLAIMS)

    with pytest.raises(DomainError) as info:
        verify_compact(token, ours.public_jwks())
    assert info.value.code == "credential_unknown_key"
    assert info.value.extra == {"kid": theirs.active_key().kid}


def test_forgery_claiming_a_published_kid_is_tampered(store: KeyStore) -> None:
    header = {"alg": "EdDSA", "kid": store.active_key().kid, "typ": CERT_TYP}
    token = _forge(header, json.dumps(CLAIMS).encode(), Ed25519PrivateKey.generate())
    assert _code(token, store.public_jwks()) == "credential_tampered"


def test_jwks_entry_whose_kid_does_not_match_its_key_is_not_trusted() -> None:
    key, other = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    jwk = public_jwk(key.public_key()) | {"kid": jwk_thumbprint(other.public_key())}
    token = _forge({"alg": "EdDSA", "kid": jwk["kid"], "typ": CERT_TYP}, b"{}", key)
    assert _code(token, {"keys": [jwk]}) == "credential_unknown_key"


@pytest.mark.parametrize(
    ("header", "payload"),
    [
        pytest.param({"alg": "none", "kid": "k"}, b"{}", id="alg-none"),
        pytest.param({"alg": "HS256", "kid": "k"}, b"{}", id="alg-hmac"),
        pytest.param({"alg": "EdDSA"}, b"{}", id="no-kid"),
        pytest.param({"alg": "EdDSA", "kid": "k", "crit": ["exp"]}, b"{}", id="crit"),
        pytest.param({"alg": "EdDSA", "kid": "k", "jku": "https://keys.example/"}, b"{}", id="jku"),
        pytest.param({"alg": "EdDSA", "kid": "k", "x5u": "https://keys.example/c.pem"}, b"{}", id="x5u"),
        pytest.param({"alg": "EdDSA", "kid": "k", "jwk": {"kty": "OKP"}}, b"{}", id="embedded-jwk"),
        pytest.param({"alg": "EdDSA", "kid": "k", "typ": CERT_TYP}, b'{"n":"1","n":"2"}', id="duplicate-claim"),
        pytest.param({"alg": "EdDSA", "kid": "k", "typ": CERT_TYP}, b'{"n":NaN}', id="nan"),
        pytest.param({"alg": "EdDSA", "kid": "k", "typ": CERT_TYP}, b"[1,2]", id="not-an-object"),
        pytest.param({"alg": "EdDSA", "kid": "k", "typ": "JWT"}, b"{}", id="wrong-typ"),
        pytest.param({"alg": "EdDSA", "kid": "k", "typ": CERT_TYP}, b'{"exp":"soon"}', id="exp-not-a-time"),
    ],
)
def test_validly_signed_but_unacceptable_is_malformed(header: dict[str, Any], payload: bytes) -> None:
    key = Ed25519PrivateKey.generate()
    jwks = _jwks_for(key)
    if header.get("kid") == "k":
        header = header | {"kid": jwks["keys"][0]["kid"]}
    assert _code(_forge(header, payload, key), jwks) == "credential_malformed"


def test_typ_check_can_be_relaxed() -> None:
    key = Ed25519PrivateKey.generate()
    jwks = _jwks_for(key)
    token = _forge({"alg": "EdDSA", "kid": jwks["keys"][0]["kid"], "typ": "JWT"}, b'{"a":1}', key)
    assert verify_compact(token, jwks, typ=None) == {"a": 1}
    assert verify_compact(token, jwks, typ="JWT") == {"a": 1}


def test_exp_and_nbf_are_enforced_when_present(store: KeyStore) -> None:
    token = store.sign({"n": "1", "nbf": 1000, "exp": 2000})
    jwks = store.public_jwks()
    assert verify_compact(token, jwks, now=1500)["n"] == "1"
    assert _code(token, jwks, now=2000) == "credential_expired"
    assert _code(token, jwks, now=999) == "credential_not_yet_valid"


def test_malformed_jwks_is_a_programming_error(store: KeyStore) -> None:
    with pytest.raises(ValueError, match="JWK Set"):
        verify_compact(store.sign(CLAIMS), {"kty": "OKP"})


def test_interoperates_with_joserfc(store: KeyStore) -> None:
    from joserfc import jws
    from joserfc.jwk import KeySet, OKPKey

    token = store.sign(CLAIMS)
    jwks = store.public_jwks()
    with warnings.catch_warnings():
        # joserfc flags the "EdDSA" name as deprecated by RFC 9864; the algorithm is the same.
        warnings.simplefilter("ignore")
        result = jws.deserialize_compact(token, KeySet.import_key_set(jwks), algorithms=["EdDSA"])  # type: ignore[arg-type]
    assert json.loads(result.payload) == CLAIMS
    assert OKPKey.import_key(jwks["keys"][0]).thumbprint() == jwks["keys"][0]["kid"]


def test_thumbprint_matches_rfc_8037_example() -> None:
    # RFC 8037 appendix A.2 and A.3.
    x = b64url_decode_canonical("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
    assert x is not None
    key = Ed25519PublicKey.from_public_bytes(x)
    assert jwk_thumbprint(key) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


# --- key store ----------------------------------------------------------------------------------


def test_key_files_are_private(tmp_path: Path) -> None:
    previous = os.umask(0)  # prove the modes don't depend on a careful umask
    try:
        store = KeyStore(tmp_path / "keys", purpose="registry")
        kid = store.active_key().kid
    finally:
        os.umask(previous)

    def mode(path: Path) -> int:
        return stat.S_IMODE(path.stat().st_mode)

    assert mode(store.path) == 0o700
    assert mode(store.path / f"{kid}.key.pem") == 0o600
    assert (store.path / f"{kid}.key.pem").read_bytes().startswith(b"-----BEGIN PRIVATE KEY-----")
    assert (store.path / f"{kid}.pub.pem").read_bytes().startswith(b"-----BEGIN PUBLIC KEY-----")


def test_loose_directory_permissions_are_tightened(tmp_path: Path) -> None:
    (tmp_path / "registry").mkdir(mode=0o755)
    os.chmod(tmp_path / "registry", 0o755)
    store = KeyStore(tmp_path, purpose="registry")
    store.active_key()
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o700


def test_active_key_is_stable_across_instances(tmp_path: Path) -> None:
    first = KeyStore(tmp_path, purpose="registry").active_key()
    again = KeyStore(tmp_path, purpose="registry").active_key()
    assert first == again
    assert first.active and first.retired is None
    assert len(first.kid) == 43


def test_purposes_are_separate_and_validated(tmp_path: Path) -> None:
    assert KeyStore(tmp_path, purpose="registry").active_key() != KeyStore(tmp_path, purpose="api").active_key()
    for bad in ("../etc", "Registry", "", "a/b"):
        with pytest.raises(ValueError):
            KeyStore(tmp_path, purpose=bad)


def test_rotation_keeps_old_credentials_verifiable(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, purpose="registry")
    old_token = store.sign(CLAIMS)
    old_kid = store.active_key().kid

    new_kid = store.rotate()
    new_token = store.sign(CLAIMS)

    assert new_kid != old_kid
    assert store.active_key().kid == new_kid
    jwks = store.public_jwks()
    assert [k["kid"] for k in jwks["keys"]] == [new_kid, old_kid]
    assert all(k.keys() == {"kty", "crv", "x", "kid", "use", "alg"} for k in jwks["keys"])
    assert verify_compact(old_token, jwks) == CLAIMS
    assert verify_compact(new_token, jwks) == CLAIMS
    assert _segments(new_token)[0]["kid"] == new_kid

    index = json.loads((store.path / "keys.json").read_text())
    assert index["active"] == new_kid
    by_kid = {k["kid"]: k for k in index["keys"]}
    assert by_kid[old_kid]["retired"] is not None
    assert by_kid[new_kid]["retired"] is None
    assert by_kid[new_kid]["created"] >= by_kid[old_kid]["created"]
    # The retired private key is destroyed; its public half stays for verification.
    assert not (store.path / f"{old_kid}.key.pem").exists()
    assert (store.path / f"{old_kid}.pub.pem").exists()

    records = store.keys()
    assert [r.kid for r in records] == [new_kid, old_kid]
    assert isinstance(records[1], KeyRecord) and not records[1].active


def test_rotation_in_another_process_is_picked_up(tmp_path: Path) -> None:
    signer = KeyStore(tmp_path, purpose="registry")
    signer.sign(CLAIMS)  # warms its caches with the first key
    new_kid = KeyStore(tmp_path, purpose="registry").rotate()

    token = signer.sign(CLAIMS)
    assert _segments(token)[0]["kid"] == new_kid


def test_sign_retries_when_rotation_deletes_the_key_underneath(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = KeyStore(tmp_path, purpose="registry").active_key()
    signer = KeyStore(tmp_path, purpose="registry")  # holds no key in memory yet
    new_kid = KeyStore(tmp_path, purpose="registry").rotate()
    real_active_key = signer.active_key
    answers = iter([stale])
    monkeypatch.setattr(signer, "active_key", lambda: next(answers, None) or real_active_key())

    assert _segments(signer.sign(CLAIMS))[0]["kid"] == new_kid


def test_rotate_on_empty_store_creates_the_first_key(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, purpose="registry")
    kid = store.rotate()
    assert store.active_key().kid == kid
    assert len(store.keys()) == 1


def test_lost_index_with_existing_keys_refuses_to_start_over(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, purpose="registry")
    store.active_key()
    (store.path / "keys.json").unlink()
    with pytest.raises(KeyStoreError, match=r"restore keys\.json"):
        KeyStore(tmp_path, purpose="registry").active_key()


def test_corrupt_index_is_reported(tmp_path: Path) -> None:
    store = KeyStore(tmp_path, purpose="registry")
    store.active_key()
    (store.path / "keys.json").write_text('{"version": 1, "active": "../../etc/passwd", "keys": []}')
    with pytest.raises(KeyStoreError):
        KeyStore(tmp_path, purpose="registry").active_key()


def _first_use(directory: str, barrier: Any, results: Any) -> None:
    barrier.wait()
    results.put(KeyStore(Path(directory), purpose="registry").active_key().kid)


@pytest.mark.parametrize("attempt", range(3))
def test_concurrent_first_use_in_separate_processes_yields_one_key(tmp_path: Path, attempt: int) -> None:
    workers = 6
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(workers)
    results = context.Queue()
    processes = [context.Process(target=_first_use, args=(str(tmp_path), barrier, results)) for _ in range(workers)]
    for process in processes:
        process.start()
    kids = [results.get(timeout=60) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0

    assert len(set(kids)) == 1
    store_dir = tmp_path / "registry"
    assert [p.name for p in store_dir.glob("*.key.pem")] == [f"{kids[0]}.key.pem"]
    assert [k["kid"] for k in json.loads((store_dir / "keys.json").read_text())["keys"]] == [kids[0]]


def test_concurrent_first_use_in_threads_yields_one_key(tmp_path: Path) -> None:
    workers = 8
    barrier = threading.Barrier(workers)
    kids: list[str] = []

    def first_use() -> None:
        barrier.wait()
        kids.append(KeyStore(tmp_path, purpose="registry").active_key().kid)

    threads = [threading.Thread(target=first_use) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(kids) == workers and len(set(kids)) == 1
    assert len(list((tmp_path / "registry").glob("*.key.pem"))) == 1


def test_a_private_file_appears_only_once_complete(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A second process that finds the file must never read it half-written: while the bytes are
    # still being flushed, the final name must not exist yet.
    target = tmp_path / "secrets" / "node.key"
    seen_during_flush: list[bool] = []
    real_fsync = os.fsync

    def watching_fsync(fd: int) -> None:
        seen_during_flush.append(target.exists())
        real_fsync(fd)

    monkeypatch.setattr("gov21.core.crypto.os.fsync", watching_fsync)
    assert private_file(target, lambda: b"whole secret") == b"whole secret"

    assert seen_during_flush and not any(seen_during_flush)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["node.key"]


def test_concurrent_first_use_of_a_private_file_agrees_on_one_content(tmp_path: Path) -> None:
    workers = 8
    barrier = threading.Barrier(workers)
    target = tmp_path / "node.key"
    contents: list[bytes] = []

    def first_use() -> None:
        barrier.wait()
        contents.append(private_file(target, lambda: random_token().encode()))

    threads = [threading.Thread(target=first_use) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(contents) == workers and len(set(contents)) == 1 and contents[0]
    assert [p.name for p in tmp_path.iterdir()] == ["node.key"]


# --- API tokens ---------------------------------------------------------------------------------


def test_random_tokens_are_long_unique_and_url_safe() -> None:
    tokens = {random_token() for _ in range(100)}
    assert len(tokens) == 100
    assert all(len(t) == 43 and set(t) <= set(B64URL_ALPHABET) for t in tokens)
    assert len(random_token(48)) == 64
    with pytest.raises(ValueError):
        random_token(8)


def test_hash_token_is_sha256_hex() -> None:
    assert hash_token("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
    token = random_token()
    assert hash_token(token) == hashlib.sha256(token.encode()).hexdigest()
