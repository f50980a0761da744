"""The provider against an independent relying party (``plain_rp``: urllib and cryptography only),
over HTTP to a live server: every algorithm the discovery document advertises is exercised, and what
the provider refuses is refused the way OpenID Connect, RFC 7523 and RFC 6750 say."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
import time
from collections.abc import Iterator
from itertools import product
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from pytest_django.live_server_helper import LiveServer

from gov21.identity.services import client_register
from tests.identity.flows import citizen
from tests.identity.plain_rp import ASSERTION_TYPE, Key, PlainRP, b64u, b64u_decode, http
from tests.identity.test_oidc import REDIRECT, _authorize, _csrf, _sign_in

pytestmark = pytest.mark.django_db(transaction=True)
SIGNED_OUT = "http://127.0.0.1:9/signed-out"


@pytest.fixture
def base(live_server: LiveServer, settings: Any) -> str:
    settings.BASE_URL = live_server.url
    return str(live_server.url)


@pytest.fixture
def meta(base: str) -> dict[str, Any]:
    answer = http("GET", f"{base}/.well-known/openid-configuration")
    assert answer.status == 200
    data: dict[str, Any] = answer.json()
    return data


@pytest.fixture
def agent(base: str) -> Iterator[httpx2.Client]:
    """The person's browser (the relying party above never touches it)."""
    with httpx2.Client(base_url=base, follow_redirects=False, timeout=10) as browser:
        yield browser


def _register(
    meta: dict[str, Any], client_id: str, assertion_alg: str = "ES256", id_token_alg: str = "ES256"
) -> PlainRP:
    key = Key.generate(assertion_alg)
    client_register(
        client_id=client_id,
        name=f"{client_id} service",
        agency="Ministry of Conformance",
        sector="conformance",
        purpose="Check the provider against the standards",
        redirect_uris=[REDIRECT],
        post_logout_redirect_uris=[SIGNED_OUT],
        scopes=["openid", "profile"],
        auth_method="private_key_jwt",
        jwks={"keys": [key.jwk]},
        id_token_signed_response_alg=id_token_alg,
        created_by="test",
    )
    return PlainRP(client_id, REDIRECT, key, id_token_alg, meta)


def _signed_in(agent: httpx2.Client) -> bool:
    """Whether the browser still holds a sign-in at the provider (its security page opens)."""
    return agent.get("/auth/account").status_code == 200


def _tokens(rp: PlainRP, agent: httpx2.Client, **extra: str) -> tuple[dict[str, Any], dict[str, Any]]:
    flow = rp.start(**extra)
    query = _authorize(agent, flow.url)
    assert query.get("state") == flow.state, query
    answer = rp.redeem(flow, query["code"])
    assert answer.status == 200, answer.body
    assert "no-store" in answer.headers["cache-control"]
    tokens: dict[str, Any] = answer.json()
    assert tokens["token_type"].lower() == "bearer"
    return tokens, rp.validate_id_token(tokens["id_token"], flow, tokens["access_token"])


def test_discovery_states_the_profile_the_provider_keeps(meta: dict[str, Any]) -> None:
    # Core §15.1 and Discovery §3: RS256 must be among the ID-token algorithms.
    assert {"RS256", "ES256"} <= set(meta["id_token_signing_alg_values_supported"])
    # Absent means "supported" (Discovery §3), so what is not done is published as false.
    assert meta["request_uri_parameter_supported"] is False
    assert meta["request_parameter_supported"] is False
    assert meta["claims_parameter_supported"] is False
    advertised = meta["token_endpoint_auth_signing_alg_values_supported"]
    assert advertised and "none" not in advertised and not any(alg.startswith("HS") for alg in advertised)
    assert meta["token_endpoint_auth_methods_supported"] == ["private_key_jwt", "client_secret_basic"]


def test_code_flow_with_pkce_for_every_advertised_algorithm(meta: dict[str, Any], agent: httpx2.Client) -> None:
    """Each client-assertion algorithm advertised is accepted, and each ID-token algorithm advertised
    is what a client registered for it receives, verifiable against the published JWKS."""
    _sign_in(agent, citizen(given="Ana", family="Joseph"))
    assertion_algs = meta["token_endpoint_auth_signing_alg_values_supported"]
    id_token_algs = meta["id_token_signing_alg_values_supported"]
    subjects = set()
    for number, (assertion_alg, id_token_alg) in enumerate(product(assertion_algs, id_token_algs)):
        rp = _register(meta, f"plain-{number}", assertion_alg, id_token_alg)
        tokens, claims = _tokens(rp, agent)
        assert claims["_header"]["alg"] == id_token_alg, (assertion_alg, id_token_alg)
        subjects.add(claims["sub"])
        info = http("GET", meta["userinfo_endpoint"], headers={"Authorization": f"Bearer {tokens['access_token']}"})
        assert info.status == 200, info.body
        assert info.json()["sub"] == claims["sub"] and info.json()["given_name"] == "Ana"
    assert len(subjects) == 1  # one sector, one pairwise subject whichever the algorithms


def test_the_jwks_publishes_a_key_for_every_id_token_algorithm(meta: dict[str, Any]) -> None:
    keys = http("GET", meta["jwks_uri"]).json()["keys"]
    published = {key.get("alg") for key in keys}
    assert set(meta["id_token_signing_alg_values_supported"]) <= published
    assert all(key["use"] == "sig" and "d" not in key for key in keys)
    rsa = [key for key in keys if key["kty"] == "RSA"]
    assert rsa and all(len(b64u_decode(key["n"])) * 8 >= 2048 for key in rsa)


def test_a_client_assertion_names_the_issuer_as_its_audience_and_nothing_else(
    meta: dict[str, Any], agent: httpx2.Client
) -> None:
    _sign_in(agent, citizen())
    rp = _register(meta, "audience-check")
    flow = rp.start()
    code = _authorize(agent, flow.url)["code"]
    issuer = meta["issuer"]
    for audience in (meta["token_endpoint"], [issuer], [issuer, meta["token_endpoint"]], f"{issuer}/", "gov21"):
        answer = rp.redeem(flow, code, aud=audience)
        assert answer.status in (400, 401) and answer.json()["error"] == "invalid_client", (audience, answer.body)
    # A refused client never reached the code: it still works for the genuine client.
    answer = rp.redeem(flow, code)
    assert answer.status == 200, answer.body


def test_assertions_in_algorithms_not_advertised_are_refused(meta: dict[str, Any], agent: httpx2.Client) -> None:
    _sign_in(agent, citizen())
    rp = _register(meta, "alg-check", "RS256")
    flow = rp.start()
    code = _authorize(agent, flow.url)["code"]
    now = int(time.time())
    claims = {"iss": rp.client_id, "sub": rp.client_id, "aud": meta["issuer"], "iat": now, "exp": now + 60}
    body = b64u(json.dumps({**claims, "jti": "n1"}).encode())
    unsigned = f"{b64u(json.dumps({'alg': 'none'}).encode())}.{body}."
    # HMAC keyed with the client's public RSA modulus: the old algorithm-confusion trick.
    header = b64u(json.dumps({"alg": "HS256", "kid": rp.key.kid}).encode())
    body = b64u(json.dumps({**claims, "jti": "h1"}).encode())
    mac = hmac.new(json.dumps(rp.key.jwk).encode(), f"{header}.{body}".encode(), hashlib.sha256).digest()
    for assertion in (unsigned, f"{header}.{body}.{b64u(mac)}"):
        form = {
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT,
            "code_verifier": flow.verifier,
            "client_assertion_type": ASSERTION_TYPE,
            "client_assertion": assertion,
        }
        answer = http("POST", meta["token_endpoint"], form)
        assert answer.status in (400, 401) and answer.json()["error"] == "invalid_client", answer.body
    assert "HS256" not in meta["token_endpoint_auth_signing_alg_values_supported"]


def test_request_objects_are_refused_with_their_own_errors(meta: dict[str, Any], agent: httpx2.Client) -> None:
    """Core §3.1.2.6: request_uri_not_supported and request_not_supported, back at the redirect URI."""
    rp = _register(meta, "request-check")
    for name, value, error in (
        ("request_uri", "https://127.0.0.1:9/request.jwt", "request_uri_not_supported"),
        ("request", "eyJhbGciOiJub25lIn0.eyJzY29wZSI6Im9wZW5pZCJ9.", "request_not_supported"),
    ):
        flow = rp.start()
        response = agent.get(f"{flow.url}&{urlencode({name: value})}")
        assert response.status_code == 302, response.text[:300]
        location = response.headers["Location"]
        assert location.startswith(REDIRECT), location
        query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
        assert query["error"] == error and query["state"] == flow.state


def test_userinfo_challenges_follow_rfc_6750(meta: dict[str, Any], agent: httpx2.Client) -> None:
    _sign_in(agent, citizen())
    rp = _register(meta, "bearer-check")
    tokens, claims = _tokens(rp, agent)
    url = meta["userinfo_endpoint"]

    # No credentials at all: a challenge without error information (§3.1).
    for headers in ({}, {"Authorization": "Basic YTpi"}):
        answer = http("GET", url, headers=headers)
        assert answer.status == 401
        challenge = answer.headers["www-authenticate"]
        assert challenge.startswith("Bearer") and "error=" not in challenge
        assert b"error" not in answer.body

    # A malformed request: 400 with invalid_request, in the header too.
    for headers in ({"Authorization": "Bearer"}, {"Authorization": "Bearer a b"}):
        answer = http("GET", url, headers=headers)
        assert answer.status == 400, answer.body
        assert 'error="invalid_request"' in answer.headers["www-authenticate"]

    # A token that is not valid: 401 with invalid_token.
    answer = http("GET", url, headers={"Authorization": "Bearer not-a-token"})
    assert answer.status == 401
    assert answer.headers["www-authenticate"].startswith("Bearer ")
    assert 'error="invalid_token"' in answer.headers["www-authenticate"]

    # The form-encoded body parameter (§2.2) works, and two methods at once are refused (§3.1).
    answer = http("POST", url, form={"access_token": tokens["access_token"]})
    assert answer.status == 200 and answer.json()["sub"] == claims["sub"]
    both = http(
        "POST",
        url,
        form={"access_token": tokens["access_token"]},
        headers={"Authorization": f"Bearer {tokens['access_token']}"},
    )
    assert both.status == 400 and 'error="invalid_request"' in both.headers["www-authenticate"]


def test_prompt_login_needs_a_sign_in_after_the_request(meta: dict[str, Any], agent: httpx2.Client) -> None:
    person = citizen()
    _sign_in(agent, person)
    rp = _register(meta, "login-check")
    _tokens(rp, agent)  # consent given once, so the next requests go straight to the code
    flow = rp.start(prompt="login")
    arrived = int(time.time())
    response = agent.get(flow.url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in?")
    # Nothing the browser (or the client) adds to the request stands in for the fresh sign-in.
    for extra in ("&_fresh=1", "&fresh=1&_fresh=true"):
        response = agent.get(flow.url + extra)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in?"), extra
    _sign_in(agent, person)
    query = _authorize(agent, flow.url)
    answer = rp.redeem(flow, query["code"])
    claims = rp.validate_id_token(answer.json()["id_token"], flow, answer.json()["access_token"])
    assert claims["auth_time"] >= arrived


def test_max_age_zero_asks_for_a_sign_in_once_and_then_answers(meta: dict[str, Any], agent: httpx2.Client) -> None:
    person = citizen()
    _sign_in(agent, person)
    rp = _register(meta, "max-age-check")
    _tokens(rp, agent)
    flow = rp.start(max_age="0")
    arrived = int(time.time())
    response = agent.get(flow.url)
    assert response.status_code == 302 and response.headers["Location"].startswith("/auth/sign-in?")
    _sign_in(agent, person)
    query = _authorize(agent, flow.url)  # back at the client, not sent round to sign in again
    answer = rp.redeem(flow, query["code"])
    claims = rp.validate_id_token(answer.json()["id_token"], flow, answer.json()["access_token"])
    assert claims["auth_time"] >= arrived


def test_prompt_none_answers_with_a_code_when_the_person_is_signed_in(
    meta: dict[str, Any], agent: httpx2.Client
) -> None:
    _sign_in(agent, citizen())
    rp = _register(meta, "silent-check")
    _tokens(rp, agent)
    _tokens(rp, agent, prompt="none")
    flow = rp.start(prompt="none")
    agent.cookies.clear()
    location = agent.get(flow.url).headers["Location"]
    assert location.startswith(REDIRECT) and "error=login_required" in location


def _confirmation(page: str) -> tuple[str, dict[str, str]]:
    form = re.search(r'<form method="post" action="([^"]+)"(.*?)</form>', page, re.S)
    assert form, page[:800]
    fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', form.group(2)))
    assert "csrfmiddlewaretoken" in fields
    return form.group(1), fields


def test_sign_out_without_an_id_token_hint_asks_the_person_first(meta: dict[str, Any], agent: httpx2.Client) -> None:
    _sign_in(agent, citizen())
    rp = _register(meta, "logout-check")
    query = urlencode({"client_id": rp.client_id, "post_logout_redirect_uri": SIGNED_OUT, "state": "s1"})
    response = agent.get(f"/oidc/end-session?{query}")
    assert response.status_code == 200 and "Location" not in response.headers
    assert _signed_in(agent)  # a link alone signs nobody out
    action, fields = _confirmation(response.text)
    # The confirmation is a same-site form: without its CSRF token it does nothing.
    forged = agent.post(action, data={k: v for k, v in fields.items() if k != "csrfmiddlewaretoken"})
    assert forged.status_code == 403 and _signed_in(agent)
    response = agent.post(action, data=fields, headers={"Referer": str(agent.base_url)})
    assert response.status_code == 200 and "Location" not in response.headers  # no hint: no redirect
    assert not _signed_in(agent)


def test_sign_out_with_a_valid_hint_returns_to_the_registered_address(
    meta: dict[str, Any], agent: httpx2.Client
) -> None:
    person = citizen()
    _sign_in(agent, person)
    rp = _register(meta, "rs-logout", "ES256", "RS256")
    id_token = _tokens(rp, agent)[0]["id_token"]

    # Another person's hint does not sign this one out without asking.
    other = _register(meta, "other-rp")
    stranger = httpx2.Client(base_url=agent.base_url, follow_redirects=False, timeout=10)
    with stranger:
        _sign_in(stranger, citizen())
        theirs = _tokens(other, stranger)[0]["id_token"]
    query = urlencode({"id_token_hint": theirs, "post_logout_redirect_uri": SIGNED_OUT})
    response = agent.get(f"/oidc/end-session?{query}")
    assert response.status_code == 200 and _signed_in(agent)

    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": SIGNED_OUT, "state": "s2"})
    response = agent.get(f"/oidc/end-session?{query}")
    assert response.status_code == 302 and response.headers["Location"] == f"{SIGNED_OUT}?state=s2"
    assert not _signed_in(agent)

    # An address the client never registered: signed out, but never sent there.
    _sign_in(agent, person)
    query = urlencode({"id_token_hint": id_token, "post_logout_redirect_uri": "http://127.0.0.1:9/elsewhere"})
    response = agent.get(f"/oidc/end-session?{query}")
    assert response.status_code == 200 and "Location" not in response.headers
    assert not _signed_in(agent)


def test_a_second_factor_proven_while_signed_in_is_not_the_sign_in_prompt_login_asks_for(
    meta: dict[str, Any], agent: httpx2.Client
) -> None:
    person = citizen()
    _sign_in(agent, person)
    rp = _register(meta, "step-up-check")
    _tokens(rp, agent)
    flow = rp.start(prompt="login")
    assert agent.get(flow.url).headers["Location"].startswith("/auth/sign-in?")
    # Someone at a browser left signed in can prove a factor on the existing sign-in (or add one of
    # their own); neither is the person signing in again.
    token = _csrf(agent, "/auth/verify")
    response = agent.post(
        "/auth/verify",
        data={"code": person.code(), "csrfmiddlewaretoken": token},
        headers={"Referer": str(agent.base_url)},
    )
    assert response.status_code == 302
    assert agent.get(flow.url).headers["Location"].startswith("/auth/sign-in?")
