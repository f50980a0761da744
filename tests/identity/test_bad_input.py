"""Hostile or broken requests to the provider get OAuth errors or helpful pages, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.identity.services import client_register

pytestmark = pytest.mark.django_db

ASSERTION = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@pytest.fixture
def agency() -> str:
    client_register(
        client_id="hostile-test",
        name="T",
        agency="Ministry",
        sector="testing",
        purpose="Testing input",
        redirect_uris=["https://t.example/cb"],
        scopes=["openid"],
        auth_method="client_secret_basic",
        jwks=None,
        created_by="test",
    )
    return "hostile-test"


@pytest.mark.parametrize(
    "form",
    [
        {},
        {"grant_type": "password", "username": "x", "password": "y"},
        {"grant_type": "authorization_code", "code": "nope"},
        {"grant_type": "authorization_code", "client_assertion_type": ASSERTION, "client_assertion": "a.b.c"},
        {"grant_type": "authorization_code", "client_assertion_type": ASSERTION, "client_assertion": "x" * 5000},
        {
            "grant_type": "authorization_code",
            "client_assertion_type": ASSERTION,
            "client_assertion": "eyJhbGciOiJub25lIn0.eyJzdWIiOiJob3N0aWxlLXRlc3QiLCJpc3MiOiJob3N0aWxlLXRlc3QifQ.",
        },
        {"grant_type": "refresh_token", "refresh_token": "\x00\uffff"},
    ],
)
def test_token_endpoint_answers_oauth_errors(client: Client, agency: str, form: dict[str, str]) -> None:
    response = client.post("/oidc/token", form)
    assert response.status_code in (400, 401)
    assert response.json()["error"] in {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unsupported_grant_type",
        "unauthorized_client",
    }


@pytest.mark.parametrize(
    "query",
    [
        "",
        "client_id=nobody&redirect_uri=https://evil.example/&response_type=code",
        "client_id=hostile-test&redirect_uri=https://evil.example/&response_type=code",
        "client_id=hostile-test&redirect_uri=https://t.example/cb&response_type=token",
        "client_id=hostile-test&redirect_uri=https://t.example/cb&response_type=code&scope=openid&prompt=none%20login",
        "client_id=%00&redirect_uri=%ff",
    ],
)
def test_authorize_never_fails_badly(client: Client, agency: str, query: str) -> None:
    response = client.get(f"/oidc/authorize?{query}")
    assert response.status_code in (302, 400)
    if response.status_code == 302:
        location = response["Location"]
        assert location.startswith(("https://t.example/cb", "/auth/sign-in")), location
    else:
        assert "Sign-in request not accepted" in response.content.decode()


@pytest.mark.parametrize(
    ("header", "status"),
    [("", 401), ("Bearer", 400), ("Bearer nope", 401), ("Basic abc", 401), ("Bearer " + "x" * 10000, 401)],
)
def test_userinfo_rejects_bad_tokens(client: Client, header: str, status: int) -> None:
    response = client.get("/oidc/userinfo", headers={"Authorization": header} if header else {})
    assert response.status_code == status
    assert response["WWW-Authenticate"].startswith("Bearer")


def test_revoke_and_introspect_need_a_client(client: Client, agency: str) -> None:
    assert client.post("/oidc/revoke", {"token": "x"}).status_code in (400, 401)
    assert client.post("/oidc/introspect", {"token": "x"}).status_code in (400, 401)


def test_end_session_with_a_forged_hint_does_not_redirect(client: Client, agency: str) -> None:
    response = client.get(
        "/oidc/end-session",
        {"id_token_hint": "e30.e30.sig", "post_logout_redirect_uri": "https://evil.example/", "client_id": agency},
    )
    assert response.status_code == 400 and "Location" not in response


def test_activation_and_sign_in_forms_survive_junk(client: Client) -> None:
    for path, data in (
        ("/auth/activate", {"uin": "\x00" * 50, "code": "💥" * 100, "password": "p", "password_again": "p"}),
        ("/auth/sign-in", {"identifier": "x" * 5000, "password": "y" * 5000}),
        ("/auth/sign-in", {"identifier": "12\x0034", "password": "y"}),
        ("/auth/verify", {"code": "z" * 500}),
        ("/auth/passkey/sign-in", {}),
    ):
        response = client.post(path, data)
        assert response.status_code < 500, (path, response.status_code)
