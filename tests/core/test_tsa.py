"""gov21's RFC 3161 timestamping: the client against the authority over HTTP on loopback, and
the authority's tokens checked by OpenSSL, an independent implementation."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest

from gov21.core import config
from gov21.core import tsa as timestamping

DIGEST = hashlib.sha256(b"tree head").digest()


def test_a_digest_is_countersigned_and_the_token_checks_against_the_pinned_certificate(tsa: Any) -> None:
    stamp = timestamping.stamp(DIGEST)

    checked = timestamping.check(stamp.token, DIGEST, tsa.cert_der)
    assert checked.at == stamp.at and checked.serial == stamp.serial


def test_a_token_for_another_digest_or_from_another_authority_is_refused(tsa: Any, tmp_path: Path) -> None:
    token = timestamping.stamp(DIGEST).token
    stranger = timestamping.Authority.load(tmp_path / "stranger")

    with pytest.raises(timestamping.TimestampError, match="countersigns another digest"):
        timestamping.check(token, hashlib.sha256(b"other head").digest(), tsa.cert_der)
    with pytest.raises(timestamping.TimestampError, match="not signed by the pinned timestamping authority"):
        timestamping.check(token, DIGEST, stranger.cert_der)
    # A forger who copies the pinned certificate's hash into a token of his own still cannot sign.
    forged = stranger.reply(timestamping.query(DIGEST, nonce=1))
    with pytest.raises(timestamping.TimestampError):
        timestamping.check(forged, DIGEST, tsa.cert_der)


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_openssl_verifies_the_authoritys_reply(tsa: Any, tmp_path: Path) -> None:
    answer = httpx.post(
        config.TSA_URL.read(),
        content=timestamping.query(hashlib.sha256(b"hello").digest(), nonce=7),
        headers={"content-type": timestamping.QUERY_TYPE},
    )
    assert answer.headers["content-type"] == timestamping.REPLY_TYPE
    (tmp_path / "reply.tsr").write_bytes(answer.content)
    (tmp_path / "data").write_bytes(b"hello")

    done = subprocess.run(
        ["openssl", "ts", "-verify", "-data", "data", "-in", "reply.tsr", "-CAfile", config.TSA_CERT.read()],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        check=False,
    )

    assert done.returncode == 0 and "Verification: OK" in done.stdout + done.stderr


def test_the_authority_refuses_what_is_not_a_timestamp_query(tsa: Any) -> None:
    url = config.TSA_URL.read()
    assert httpx.post(url, content=b"hello", headers={"content-type": "text/plain"}).status_code == 415
    garbage = httpx.post(url, content=b"\x30\x03\x02\x01\x01", headers={"content-type": timestamping.QUERY_TYPE})
    assert garbage.status_code == 200
    status = timestamping.Reply.load(garbage.content)["status"]
    assert (status["status"].native, status["fail_info"].native) == ("rejection", {"bad_data_format"})


def test_no_authority_configured_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOV21_TSA_URL", raising=False)
    with pytest.raises(timestamping.TimestampError, match="No timestamping authority is configured"):
        timestamping.stamp(DIGEST)


def test_an_authority_that_is_down_is_a_clear_error(tsa: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_TSA_URL", "http://127.0.0.1:9/")
    with pytest.raises(timestamping.TimestampError, match="did not answer"):
        timestamping.stamp(DIGEST)


def test_gov21_tsa_serve_runs_the_authority_as_its_own_process(tmp_path: Path) -> None:
    import os
    import re
    import sys

    env = {**os.environ, "PYTHONUNBUFFERED": "1", "DJANGO_SETTINGS_MODULE": "gov21.settings"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gov21.cli", "tsa", "serve", "--port", "0", "--dir", str(tmp_path / "tsa")],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        match = re.search(r"at (http://127\.0\.0\.1:\d+/) \(certificate (.+)\)", line)
        assert match, line
        cert = Path(match[2]).read_bytes()
        from cryptography import x509
        from cryptography.hazmat.primitives import serialization

        der = x509.load_pem_x509_certificate(cert).public_bytes(serialization.Encoding.DER)
        stamp = timestamping.stamp(DIGEST, url=match[1], cert=der)
        assert timestamping.check(stamp.token, DIGEST, der).serial == stamp.serial
    finally:
        process.terminate()
        assert process.wait(timeout=30) == 0
