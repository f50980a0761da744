"""A production node behind a TLS proxy: Django's deploy checks pass, every page carries HSTS, a
content security policy and the other security headers, only the trusted proxy can say a request was
https, the data directory is private, and gunicorn logs JSON lines without personal data.

The server tests start the real gunicorn with the arguments ``gov21 up`` uses, on a free loopback
port. The trusted proxy is 127.0.0.1; a request from 127.0.0.2 is one from anyone else."""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import re
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import cbor2
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from django.test import Client

from gov21.core.logs import gunicorn_logging
from tests.identity.flows import citizen, idp_sign_in

HOST = "gov.example"
PROXY, OUTSIDER = "127.0.0.1", "127.0.0.2"
SRC = str(Path(__file__).resolve().parents[2] / "src")


def _production_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GOV21_", "DJANGO_", "AUTHLIB_"))}
    env.update(
        PYTHONPATH=SRC,
        DJANGO_SETTINGS_MODULE="gov21.settings",
        GOV21_DATA_DIR=str(data_dir),
        GOV21_BASE_URL=f"https://{HOST}",
        GOV21_ALLOWED_HOSTS=f"{HOST},127.0.0.1",
        GOV21_TRUSTED_PROXIES=f"{PROXY}/32",
    )
    return env


def _gov21(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "gov21.cli", *args], env=env, capture_output=True, text=True, timeout=240, check=False
    )


def test_django_deploy_checks_pass_in_the_production_configuration(tmp_path: Path) -> None:
    result = _gov21(_production_env(tmp_path / "data"), "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_the_preload_warning_is_only_silenced_while_preload_is_off(tmp_path: Path) -> None:
    env = _production_env(tmp_path / "data")
    result = _gov21({**env, "GOV21_HSTS_PRELOAD": "true"}, "shell", "-c", "from django.conf import settings as s;"
                    "print(s.SECURE_HSTS_PRELOAD, s.SILENCED_SYSTEM_CHECKS)")  # fmt: skip
    assert result.stdout.strip().splitlines()[-1].split() == ["True", "[]"], result.stderr


@dataclass
class Node:
    base: int
    data_dir: Path
    first_start: subprocess.CompletedProcess[str]
    log: Path

    def request(
        self, path: str, *, source: str = PROXY, headers: dict[str, str] | None = None
    ) -> tuple[http.client.HTTPResponse, bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.base, timeout=30, source_address=(source, 0))
        try:
            connection.request("GET", path, headers={"Host": HOST, **(headers or {})})
            response = connection.getresponse()
            return response, response.read()
        finally:
            connection.close()

    def log_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    root = tmp_path_factory.mktemp("production")
    data_dir = root / "data"
    data_dir.mkdir(mode=0o755)
    data_dir.chmod(0o755)  # as an operator's mkdir under the usual umask 022 leaves it
    # Monitors on the proxy's machine only: 127.0.0.2 is on the loopback network too.
    env = {**_production_env(data_dir), "GOV21_READYZ_ALLOW": f"{PROXY}/32"}
    first_start = _gov21(env, "migrate", "--verbosity", "0")
    assert first_start.returncode == 0, first_start.stderr
    port, log = _free_port(), root / "server.log"
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    with log.open("w") as out:
        server = subprocess.Popen(
            [
                gunicorn,
                "gov21.wsgi:application",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "1",
                *gunicorn_logging(access=True),
            ],
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        started = Node(port, data_dir, first_start, log)
        for _ in range(200):
            try:
                if started.request("/healthz")[0].status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        else:
            raise AssertionError(log.read_text())
        yield started
    finally:
        server.terminate()
        server.wait(timeout=20)


def test_healthz_answers_plain_http_for_the_load_balancer_and_says_only_ok(node: Node) -> None:
    response, body = node.request("/healthz", source=OUTSIDER)
    assert response.status == 200 and json.loads(body) == {"status": "alive"}


def test_a_plain_http_request_is_sent_to_https_and_a_forged_proxy_header_changes_nothing(node: Node) -> None:
    response, _ = node.request("/auth/sign-in", source=OUTSIDER)
    assert response.status == 301 and response.headers["Location"] == f"https://{HOST}/auth/sign-in"
    # Anyone can write X-Forwarded-Proto; only the proxy's is believed.
    response, _ = node.request("/auth/sign-in", source=OUTSIDER, headers={"X-Forwarded-Proto": "https"})
    assert response.status == 301 and response.headers["Location"] == f"https://{HOST}/auth/sign-in"


def test_pages_through_the_proxy_carry_hsts_csp_and_the_other_security_headers(node: Node) -> None:
    response, body = node.request("/auth/sign-in", headers={"X-Forwarded-Proto": "https"})
    assert response.status == 200
    assert response.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response.headers["X-Frame-Options"] == "DENY"
    policy = {part.split()[0]: part.split()[1:] for part in response.headers["Content-Security-Policy"].split(";")}
    assert policy["default-src"] == ["'self'"] and policy["frame-ancestors"] == ["'none'"]
    assert policy["form-action"][0] == "'self'" and policy["object-src"] == ["'none'"]
    nonce = next(source for source in policy["script-src"] if source.startswith("'nonce-"))[7:-1]
    assert "'unsafe-inline'" not in policy["script-src"] + policy["style-src"]
    page = body.decode()
    # The page's own style and passkey script run by the nonce; there is no other inline code.
    assert page.count(f'nonce="{nonce}"') == 2
    assert len(re.findall(r"<script|<style", page)) == 2
    assert not re.search(r"\sstyle=|\son[a-z]+=", page)
    cookie = response.headers["Set-Cookie"]
    assert "__Host-gov21-csrf=" in cookie and "Path=/" in cookie and "Domain" not in cookie
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_the_openid_provider_and_the_portal_use_the_external_https_origin(node: Node) -> None:
    response, body = node.request("/.well-known/openid-configuration", headers={"X-Forwarded-Proto": "https"})
    discovery = json.loads(body)
    assert discovery["issuer"] == f"https://{HOST}"
    assert discovery["authorization_endpoint"].startswith(f"https://{HOST}/")
    response, _ = node.request("/sign-in", headers={"X-Forwarded-Proto": "https"})
    query = parse_qs(urlsplit(response.headers["Location"]).query)
    assert query["redirect_uri"] == [f"https://{HOST}/auth/callback"]


def test_readyz_is_for_monitors_inside_the_network(node: Node) -> None:
    assert node.request("/readyz", source=OUTSIDER)[0].status == 403
    # Through the proxy, the client is the address the proxy saw, not the proxy.
    response, body = node.request("/readyz", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.status == 403 and response.headers["Content-Type"] == "application/problem+json"
    assert json.loads(body)["code"] == "not_allowed"
    assert node.request("/readyz")[0].status == 200


def test_the_data_directory_and_everything_in_it_are_private(node: Node) -> None:
    assert "readable by others" in node.first_start.stderr
    assert stat.S_IMODE(node.data_dir.stat().st_mode) == 0o700
    assert node.request("/auth/sign-in", headers={"X-Forwarded-Proto": "https"})[0].status == 200  # writes a session
    # The first reads of the published keys generate the registry's and the provider's signing keys.
    for keys in ("/.well-known/jwks.json", "/oidc/jwks.json"):
        assert node.request(keys, headers={"X-Forwarded-Proto": "https"})[0].status == 200
    files = [path for path in node.data_dir.rglob("*") if path.is_file()]
    names = {path.name for path in files}
    assert {"gov21.sqlite3", "gov21.sqlite3-wal", "gov21.sqlite3-shm", "secret_key"} <= names
    assert any("keys" in path.parts for path in files), names
    # Public keys and their index are meant to be shareable (0644), inside key folders that are 0700.
    public = [path for path in files if path.name.endswith(".pub.pem") or path.suffix == ".json"]
    assert all(stat.S_IMODE(path.parent.stat().st_mode) == 0o700 for path in public)
    private = [path for path in files if path not in public]
    assert [(str(path), oct(path.stat().st_mode)) for path in private if path.stat().st_mode & 0o077] == []
    assert any(path.name.endswith(".pem") for path in private)


def test_gunicorn_and_django_log_json_lines_with_the_request_id_and_no_personal_data(node: Node) -> None:
    uin = "4837291056"
    response, _ = node.request(
        f"/healthz?code=one-time-secret&uin={uin}", source=OUTSIDER, headers={"X-Request-Id": "support-call-0042"}
    )
    assert response.headers["X-Request-Id"] == "support-call-0042"
    response, _ = node.request(
        f"/no-such-page/{uin}/person@example.org",
        headers={"X-Forwarded-Proto": "https", "X-Request-Id": 'bad id "quoted" <b>'},
    )
    generated = response.headers["X-Request-Id"]
    assert response.status == 404 and re.fullmatch(r"[0-9a-f]{32}", generated)
    time.sleep(0.5)
    lines = node.log_lines()
    text = node.log.read_text()
    assert uin not in text and "one-time-secret" not in text and "person@example.org" not in text
    access = [line for line in lines if line["logger"] == "gunicorn.access"]
    health = next(line for line in access if line["request_id"] == "support-call-0042")
    assert health["path"] == "/healthz" and health["status"] == 200 and health["method"] == "GET"
    assert {"time", "level", "message"} <= set(health)
    # Django's own warning about the missing page, under the same request id as its access line.
    warning = next(line for line in lines if line["logger"] == "django.request" and line["request_id"] == generated)
    assert warning["level"] == "WARNING"
    assert "[uin]" in warning["message"] and "[email]" in warning["message"]
    assert next(line for line in access if line["request_id"] == generated)["status"] == 404


@pytest.mark.django_db
def test_django_admin_is_not_served(client: Client) -> None:
    assert client.get("/django-admin/").status_code == 404
    assert client.get("/django-admin/login/").status_code == 404


# --- passkeys behind the proxy ------------------------------------------------------------------


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _soft_passkey(options: dict[str, Any], origin: str) -> dict[str, Any]:
    """A new passkey as a platform authenticator would create it (no attestation), for the origin given."""
    public = ec.generate_private_key(ec.SECP256R1()).public_key().public_numbers()
    cose_key = cbor2.dumps({1: 2, 3: -7, -1: 1, -2: public.x.to_bytes(32, "big"), -3: public.y.to_bytes(32, "big")})
    credential_id = os.urandom(16)
    auth_data = (
        hashlib.sha256(options["rp"]["id"].encode()).digest()
        + bytes([0x45])  # user present, user verified, credential data attached
        + (0).to_bytes(4, "big")
        + bytes(16)
        + len(credential_id).to_bytes(2, "big")
        + credential_id
        + cose_key
    )
    client_data = {"type": "webauthn.create", "challenge": options["challenge"], "origin": origin}
    return {
        "id": _b64(credential_id),
        "rawId": _b64(credential_id),
        "type": "public-key",
        "response": {
            "clientDataJSON": _b64(json.dumps(client_data).encode()),
            "attestationObject": _b64(cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})),
        },
    }


@pytest.mark.django_db
@pytest.mark.usefixtures("exchange")  # the counter reads the person's record through the exchange
@pytest.mark.parametrize(("remote", "registered"), [("10.0.0.5", True), ("192.0.2.7", False)])
def test_passkeys_take_the_https_origin_only_from_a_trusted_proxy(settings: Any, remote: str, registered: bool) -> None:
    settings.GOV21_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    person = citizen()  # activated with an authenticator app
    browser = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_PROTO="https", HTTP_HOST="testserver")
    idp_sign_in(browser, person)
    options = browser.post("/auth/passkey/register-options").json()
    body = {"credential": _soft_passkey(options, origin="https://testserver"), "name": "phone"}
    response = browser.post("/auth/passkey/register", json.dumps(body), content_type="application/json")
    # Behind the trusted proxy the browser's https origin is this server's; from anyone else the
    # request was plain http, whatever its header said, and an https origin does not match it.
    assert (response.status_code == 200) is registered, response.content


@pytest.mark.django_db
def test_the_providers_pages_may_send_a_form_on_to_registered_relying_parties_only() -> None:
    from gov21.identity.services import client_register

    client_register(
        client_id="licensing-portal",
        name="Driving licences",
        agency="Licensing",
        sector="licensing",
        purpose="Renew a licence",
        redirect_uris=["https://licences.gov.example/callback"],
        scopes=["openid"],
        auth_method="client_secret_basic",
        jwks=None,
        post_logout_redirect_uris=["https://licences.gov.example/bye"],
        created_by="test",
    )
    browser = Client()
    sign_in = browser.get("/auth/sign-in")["Content-Security-Policy"]
    assert "form-action 'self' https://licences.gov.example;" in sign_in + ";"
    # Every other page sends forms to gov21 alone.
    assert "form-action 'self';" in browser.get("/services")["Content-Security-Policy"] + ";"


def test_no_template_has_inline_code_the_policy_would_block() -> None:
    """Style attributes and inline event handlers never run under the policy, and a script or style
    block runs only with the response's nonce: a template that has one is broken in the browser. A
    script the platform serves itself (``src=``) runs under 'self'."""
    templates = sorted(Path(SRC, "gov21").glob("*/templates/**/*.html"))
    assert len(templates) > 50
    blocked = [
        (path.name, match.group(0))
        for path in templates
        for match in re.finditer(
            # A script loaded from the platform's own files (src=) is not inline code: 'self' runs it.
            r"\sstyle=|\son[a-z]+=|<(script|style)(?![^>]*(nonce=\"\{\{ request\.csp_nonce \}\}\"|src=))[^>]*>",
            path.read_text(encoding="utf-8"),
        )
    ]
    assert blocked == []


def test_the_deploy_check_warns_when_an_https_node_trusts_no_proxy_and_a_bad_network_stops_the_start(
    tmp_path: Path,
) -> None:
    env = {**_production_env(tmp_path / "data"), "GOV21_TRUSTED_PROXIES": ""}
    result = _gov21(env, "check", "--deploy", "--fail-level", "WARNING")
    assert result.returncode != 0 and "gov21.W001" in result.stderr
    env["GOV21_TRUSTED_PROXIES"] = "10.0.0.2/33"
    result = _gov21(env, "check", "--deploy")
    assert result.returncode != 0 and "GOV21_TRUSTED_PROXIES: '10.0.0.2/33' is not a network" in result.stderr


@pytest.mark.django_db
@pytest.mark.parametrize("remote", ["10.0.0.5", "192.0.2.7"])
def test_the_portal_sends_people_back_to_the_configured_address_whatever_a_proxy_says(
    settings: Any, remote: str
) -> None:
    settings.BASE_URL = "https://gov.example"
    settings.GOV21_TRUSTED_PROXIES = ["10.0.0.0/8"]
    settings.SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    browser = Client(REMOTE_ADDR=remote, HTTP_X_FORWARDED_PROTO="http", HTTP_HOST="testserver")
    query = parse_qs(urlsplit(browser.get("/sign-in")["Location"]).query)
    assert query["redirect_uri"] == ["https://gov.example/auth/callback"]
