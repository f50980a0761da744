"""The provider's key store: an ES256 and an RS256 key, both published, kept across upgrades."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet

from gov21.identity import oidc_keys


@pytest.fixture
def data_dir(tmp_path: Path, settings: Any) -> Iterator[Path]:
    settings.DATA_DIR = tmp_path
    oidc_keys._cache.clear()
    yield tmp_path
    oidc_keys._cache.clear()


def test_a_key_store_from_before_rs256_keeps_its_key_and_gains_an_rsa_one(data_dir: Path) -> None:
    directory = data_dir / "keys" / "oidc"
    directory.mkdir(parents=True)
    old = ECKey.generate_key("P-256", private=True)
    (directory / f"{old.thumbprint()}.pem").write_bytes(old.as_pem(private=True))
    (directory / "keys.json").write_text(json.dumps({"active": old.thumbprint(), "kids": [old.thumbprint()]}))

    published = {key["kid"]: key for key in oidc_keys.jwks()["keys"]}
    assert published[old.thumbprint()]["alg"] == "ES256"
    assert oidc_keys.signing_key("ES256")[0] == old.thumbprint()
    rsa_kid, rsa_key = oidc_keys.signing_key("RS256")
    assert published[rsa_kid]["alg"] == "RS256" and published[rsa_kid]["kty"] == "RSA"
    assert "d" not in published[rsa_kid] and rsa_key.is_private

    oidc_keys._cache.clear()  # another worker process reads the same store
    assert oidc_keys.signing_key("RS256")[0] == rsa_kid

    token = jwt.encode({"alg": "RS256", "kid": rsa_kid}, {"sub": "x"}, rsa_key, algorithms=["RS256"])
    rotated = oidc_keys.rotate()
    assert set(rotated) == {"ES256", "RS256"} and rsa_kid not in rotated.values()
    keys = KeySet.import_key_set(oidc_keys.jwks())  # type: ignore[arg-type]
    assert jwt.decode(token, keys, algorithms=["RS256"]).claims == {"sub": "x"}  # retired keys still verify
    assert {old.thumbprint(), rsa_kid, *rotated.values()} <= {key["kid"] for key in oidc_keys.jwks()["keys"]}
