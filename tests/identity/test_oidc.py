"""The provider against a real OpenID Connect client (Authlib's) over HTTP to a live test server."""

from __future__ import annotations

import re
import secrets
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
import pytest
from authlib.integrations.httpx_client import OAuth2Client
from authlib.oauth2.rfc7523 import PrivateKeyJWT
from joserfc import jwt
from joserfc.jwk import ECKey, KeySet
from pytest_django.live_server_helper import LiveServer

from gov21.identity import levels
from gov21.identity.models import AuthorizationCode
from gov21.identity.services import client_register
from gov21.registry import services as registry
from tests.identity.flows import OFFICER, Person, citizen

pytestmark = pytest.mark.django_db(transaction=True)
REDIRECT = "http://127.0.0.1:9/callback"


@dataclass
class Agency:
    client_id: str
    key: ECKey
    sector: str


@pytest.fixture
def base(live_server: LiveServer, settings: Any) -> str:
    settings.BASE_URL = live_server.url
    return str(live_server.url)


def _agency(client_id: str, sector: str, scopes: list[str]) -> Agency:
    key = ECKey.generate_key("P-256", private=True)
    public = {**key.as_dict(private=False), "kid": key.thumbprint()}
    client_register(
        client_id=client_id,
        name=f"{client_id} service",
        agency=f"Ministry of {sector}",
        sector=sector,
        purpose="Check who applies for a benefit",
        redirect_uris=[REDIRECT],
        scopes=scopes,
        auth_method="private_key_jwt",
        jwks={"keys": [public]},
        created_by="test",
    )
    return Agency(client_id, key, sector)


def _rp(base: str, agency: Agency, scope: str = "openid profile") -> OAuth2Client:
    return OAuth2Client(
        client_id=agency.client_id,
        client_secret=agency.key,
        # The audience of a client assertion is the issuer alone.
        token_endpoint_auth_method=PrivateKeyJWT(base, alg="ES256", headers={"kid": agency.key.thumbprint()}),
        redirect_uri=REDIRECT,
        scope=scope,
        code_challenge_method="S256",
        revocation_endpoint_auth_method=PrivateKeyJWT(base, alg="ES256"),
        timeout=10,
    )


@pytest.fixture
def browser_agent(base: str) -> Iterator[httpx2.Client]:
    """The person's user agent: keeps cookies, never follows redirects on its own."""
    with httpx2.Client(base_url=base, follow_redirects=False, timeout=10) as agent:
        yield agent


def _csrf(agent: httpx2.Client, path: str) -> str:
    page = agent.get(path).text
    match = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    assert match, page[:300]
    return match.group(1)


def _sign_in(agent: httpx2.Client, person: Person) -> None:
    token = _csrf(agent, "/auth/sign-in")
    headers = {"Referer": str(agent.base_url)}
    response = agent.post(
        "/auth/sign-in",
        data={"identifier": person.identifier, "password": person.password, "csrfmiddlewaretoken": token},
        headers=headers,
    )
    assert response.status_code == 302, response.text[:500]
    response = agent.post("/auth/verify", data={"code": person.code(), "csrfmiddlewaretoken": token}, headers=headers)
    assert response.status_code == 302, response.text[-800:]


def _authorize(agent: httpx2.Client, url: str) -> dict[str, str]:
    """Follow the authorization request as the person, consenting if asked; the redirect's query."""
    response = agent.get(url)
    if response.status_code == 200 and 'name="decision"' in response.text:
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', response.text)
        assert token
        response = agent.post(
            url, data={"decision": "allow", "csrfmiddlewaretoken": token.group(1)}, headers={"Referer": url}
        )
    assert response.status_code == 302, response.text[-800:]
    location = response.headers["Location"]
    assert location.startswith(REDIRECT), location
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _start(base: str, rp: OAuth2Client, **extra: str) -> tuple[str, str, str, str]:
    verifier = secrets.token_urlsafe(48)
    nonce = secrets.token_urlsafe(16)
    url, state = rp.create_authorization_url(f"{base}/oidc/authorize", code_verifier=verifier, nonce=nonce, **extra)
    return url, state, verifier, nonce


def _id_claims(base: str, id_token: str) -> dict[str, Any]:
    meta = httpx2.get(f"{base}/.well-known/openid-configuration").json()
    keys = KeySet.import_key_set(httpx2.get(meta["jwks_uri"]).json())
    decoded = jwt.decode(id_token, keys, algorithms=["ES256"])
    return dict(decoded.claims)


def test_whole_code_flow_with_private_key_jwt(base: str, browser_agent: httpx2.Client) -> None:
    meta = httpx2.get(f"{base}/.well-known/openid-configuration").json()
    assert meta["issuer"] == base
    assert meta["code_challenge_methods_supported"] == ["S256"]
    assert "private_key_jwt" in meta["token_endpoint_auth_methods_supported"]
    person = citizen(given="Ana", family="Joseph")
    agency = _agency("benefits", "social", ["openid", "profile", "address", "uin"])
    _sign_in(browser_agent, person)
    with _rp(base, agency, "openid profile address") as rp:
        url, _, verifier, nonce = _start(base, rp)
        query = _authorize(browser_agent, url)
        assert "code" in query, query
        token = rp.fetch_token(
            meta["token_endpoint"], code=query["code"], code_verifier=verifier, grant_type="authorization_code"
        )
        claims = _id_claims(base, token["id_token"])
        jwt.JWTClaimsRegistry(
            iss={"essential": True, "value": base},
            aud={"essential": True, "value": "benefits"},
            nonce={"essential": True, "value": nonce},
        ).validate(claims)
        assert claims["acr"] == levels.SUBSTANTIAL and "otp" in claims["amr"]
        assert person.account.uin not in str(claims)  # the UIN only goes out with the uin scope

        info = rp.get(meta["userinfo_endpoint"]).json()
        assert info["sub"] == claims["sub"]
        assert info["given_name"] == "Ana" and info["family_name"] == "Joseph"
        assert info["address"]["locality"] == "Port Royal"
        assert "uin" not in info

        refreshed = rp.refresh_token(meta["token_endpoint"], refresh_token=token["refresh_token"])
        assert refreshed["access_token"] != token["access_token"]
        assert refreshed["refresh_token"] != token["refresh_token"]
        assert rp.get(meta["userinfo_endpoint"]).status_code == 200

        introspected = _introspect(base, agency, refreshed["access_token"])
        assert introspected["active"] is True and introspected["sub"] == claims["sub"]
        assert introspected["client_id"] == "benefits" and introspected["acr"] == levels.SUBSTANTIAL

        rp.revoke_token(meta["revocation_endpoint"], token=refreshed["access_token"], token_type_hint="access_token")
        assert _introspect(base, agency, refreshed["access_token"]) == {"active": False}
        response = rp.get(meta["userinfo_endpoint"])
        assert response.status_code == 401
        assert 'error="invalid_token"' in response.headers["WWW-Authenticate"]


def _introspect(base: str, agency: Agency, token: str) -> dict[str, Any]:
    form = {
        "token": token,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(agency, base, secrets.token_urlsafe(8)),
    }
    response = httpx2.post(f"{base}/oidc/introspect", data=form)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_refresh_token_reuse_ends_the_whole_grant(base: str, browser_agent: httpx2.Client) -> None:
    person = citizen()
    agency = _agency("licensing", "transport", ["openid", "profile"])
    _sign_in(browser_agent, person)
    with _rp(base, agency) as rp:
        url, _, verifier, _ = _start(base, rp)
        code = _authorize(browser_agent, url)["code"]
        first = rp.fetch_token(f"{base}/oidc/token", code=code, code_verifier=verifier)
        second = rp.refresh_token(f"{base}/oidc/token", refresh_token=first["refresh_token"])
        with pytest.raises(Exception, match="invalid_grant"):
            rp.refresh_token(f"{base}/oidc/token", refresh_token=first["refresh_token"])
        # The replay revoked the family, including the tokens the thief (or the client) got last.
        response = httpx2.get(f"{base}/oidc/userinfo", headers={"Authorization": f"Bearer {second['access_token']}"})
        assert response.status_code == 401


def _token_error(base: str, data: dict[str, str]) -> dict[str, Any]:
    response = httpx2.post(f"{base}/oidc/token", data=data)
    assert response.status_code in (400, 401), response.text
    return dict(response.json())


def _code_form(agency: Agency, base: str, code: str, verifier: str, *, jti: str) -> dict[str, str]:
    """A token request for a code, authenticated with a fresh private_key_jwt assertion."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT,
        "code_verifier": verifier,
        "client_assertion_type": "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
        "client_assertion": _assertion(agency, base, jti),
    }


def _assertion(agency: Agency, base: str, jti: str) -> str:
    now = int(time.time())
    claims = {
        "iss": agency.client_id,
        "sub": agency.client_id,
        "aud": base,
        "iat": now,
        "exp": now + 60,
        "jti": jti,
    }
    return jwt.encode({"alg": "ES256", "kid": agency.key.thumbprint()}, claims, agency.key)


def test_protocol_failures_get_the_right_oauth_errors(base: str, browser_agent: httpx2.Client) -> None:
    person = citizen()
    agency = _agency("tax-portal", "tax", ["openid", "profile"])
    _sign_in(browser_agent, person)
    with _rp(base, agency) as rp:
        # Wrong PKCE verifier.
        url, _, _, _ = _start(base, rp)
        code = _authorize(browser_agent, url)["code"]
        error = _token_error(
            base,
            _code_form(agency, base, code, secrets.token_urlsafe(48), jti="a1"),
        )
        assert error["error"] == "invalid_grant"

        # A client assertion used twice.
        url, _, verifier, _ = _start(base, rp)
        code = _authorize(browser_agent, url)["code"]
        form = _code_form(agency, base, code, verifier, jti="once")
        assert httpx2.post(f"{base}/oidc/token", data=form).status_code == 200
        assert _token_error(base, form)["error"] == "invalid_client"

        # The same code twice (with a fresh assertion): refused, and the first tokens are withdrawn.
        url, _, verifier, _ = _start(base, rp)
        code = _authorize(browser_agent, url)["code"]
        form = _code_form(agency, base, code, verifier, jti="c1")
        first = httpx2.post(f"{base}/oidc/token", data=form).json()
        form["client_assertion"] = _assertion(agency, base, "c2")
        assert _token_error(base, form)["error"] == "invalid_grant"
        bearer = {"Authorization": f"Bearer {first['access_token']}"}
        assert httpx2.get(f"{base}/oidc/userinfo", headers=bearer).status_code == 401

        # An expired code.
        url, _, verifier, _ = _start(base, rp)
        code = _authorize(browser_agent, url)["code"]
        AuthorizationCode.objects.filter(used_at__isnull=True).update(expires_at="2000-01-01T00:00:00Z")
        form = _code_form(agency, base, code, verifier, jti="e1")
        assert _token_error(base, form)["error"] == "invalid_grant"

        # A redirect URI that is not registered exactly: an error page, never a redirect to it.
        url, _, _, _ = _start(base, rp)
        response = browser_agent.get(url.replace("callback", "callback/evil"))
        assert response.status_code == 400 and "Location" not in response.headers

        # No PKCE at all: refused, back to the (valid) redirect URI with an error.
        plain, _ = rp.create_authorization_url(f"{base}/oidc/authorize")
        response = browser_agent.get(plain)
        assert response.status_code == 302 and "error=invalid_request" in response.headers["Location"]


def test_subjects_are_pairwise_per_sector_and_uin_needs_its_scope(base: str, browser_agent: httpx2.Client) -> None:
    person = citizen()
    health_a = _agency("clinic-a", "health", ["openid", "uin"])
    health_b = _agency("clinic-b", "health", ["openid"])
    tax = _agency("revenue", "tax", ["openid"])
    _sign_in(browser_agent, person)
    subs: dict[str, str] = {}
    for agency, scope in ((health_a, "openid uin"), (health_b, "openid"), (tax, "openid")):
        with _rp(base, agency, scope) as rp:
            url, _, verifier, _ = _start(base, rp)
            token = rp.fetch_token(
                f"{base}/oidc/token", code=_authorize(browser_agent, url)["code"], code_verifier=verifier
            )
            subs[agency.client_id] = _id_claims(base, token["id_token"])["sub"]
            info = rp.get(f"{base}/oidc/userinfo").json()
            assert ("uin" in info) == (agency is health_a)
            if agency is health_a:
                assert info["uin"] == person.account.uin
    assert subs["clinic-a"] == subs["clinic-b"] != subs["revenue"]
    assert person.account.uin not in subs.values()


def test_step_up_to_high_asks_for_a_passkey(base: str, browser_agent: httpx2.Client) -> None:
    person = citizen()
    agency = _agency("land-registry", "land", ["openid"])
    _sign_in(browser_agent, person)
    with _rp(base, agency, "openid") as rp:
        url, _, _, _ = _start(base, rp, acr_values=levels.HIGH)
        response = browser_agent.get(url)
        assert response.status_code == 302 and response.headers["Location"].startswith("/auth/verify?")
        page = browser_agent.get(response.headers["Location"]).text
        assert "needs a passkey" in page  # TOTP cannot reach high; nothing is issued
        prompt_none, _, _, _ = _start(base, rp, acr_values=levels.HIGH, prompt="none")
        location = browser_agent.get(prompt_none).headers["Location"]
        assert location.startswith(REDIRECT) and "error=login_required" in location


def test_a_registered_death_stops_the_account_at_once(base: str, browser_agent: httpx2.Client) -> None:
    person = citizen()
    agency = _agency("pensions", "social", ["openid", "profile"])
    _sign_in(browser_agent, person)
    with _rp(base, agency) as rp:
        url, _, verifier, _ = _start(base, rp)
        rp.fetch_token(f"{base}/oidc/token", code=_authorize(browser_agent, url)["code"], code_verifier=verifier)
        assert rp.get(f"{base}/oidc/userinfo").status_code == 200
        event = registry.event_declare(
            declaration=registry.declaration_parse(
                kind="death", data={"uin": person.account.uin, "death_date": "2024-02-02"}
            ),
            actor=OFFICER,
        )
        registry.event_validate(event_id=event.pk, actor=OFFICER)
        registry.event_register(event_id=event.pk, actor=OFFICER)
        assert rp.get(f"{base}/oidc/userinfo").status_code == 401
        url, _, _, _ = _start(base, rp)
        assert browser_agent.get(url).headers["Location"].startswith("/auth/sign-in")  # the session ended too


# SQLite's in-memory test database uses a shared cache whose table locks fail at once instead of waiting,
# so concurrent writers there test the test database, not gov21; PostgreSQL runs this in CI.
@pytest.mark.postgres_only
def test_racing_redemptions_of_one_code_or_refresh_token_never_both_succeed(
    base: str, browser_agent: httpx2.Client
) -> None:
    person = citizen()
    agency = _agency("race-check", "racing", ["openid"])
    _sign_in(browser_agent, person)
    assertion = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"

    def post(form: dict[str, str]) -> int:
        return httpx2.post(f"{base}/oidc/token", data=form, timeout=10).status_code

    both = 0
    with _rp(base, agency, "openid") as rp, ThreadPoolExecutor(2) as pool:
        for trial in range(8):
            url, _, verifier, _ = _start(base, rp)
            code = _authorize(browser_agent, url)["code"]
            forms = [_code_form(agency, base, code, verifier, jti=f"r{trial}{i}") for i in range(2)]
            statuses = list(pool.map(post, forms))
            both += statuses == [200, 200]
            assert 200 in statuses
        url, _, verifier, _ = _start(base, rp)
        token = rp.fetch_token(
            f"{base}/oidc/token", code=_authorize(browser_agent, url)["code"], code_verifier=verifier
        )
        refresh_token = token["refresh_token"]
        for trial in range(8):
            forms = [
                {
                    "grant_type": "refresh_token",
                    "refresh_token": refresh_token,
                    "client_assertion_type": assertion,
                    "client_assertion": _assertion(agency, base, f"f{trial}{i}"),
                }
                for i in range(2)
            ]
            responses = list(pool.map(lambda form: httpx2.post(f"{base}/oidc/token", data=form, timeout=10), forms))
            statuses = [r.status_code for r in responses]
            both += statuses == [200, 200]
            winners = [r.json()["refresh_token"] for r in responses if r.status_code == 200]
            if not winners:  # a loser that arrives after the winner looks like reuse and ends the grant
                break
            refresh_token = winners[0]
    assert both == 0


def test_disabling_a_client_stops_its_tokens(base: str, browser_agent: httpx2.Client) -> None:
    from gov21.identity.services import client_disable

    person = citizen()
    agency = _agency("retired-system", "works", ["openid", "profile"])
    _sign_in(browser_agent, person)
    with _rp(base, agency) as rp:
        url, _, verifier, _ = _start(base, rp)
        rp.fetch_token(f"{base}/oidc/token", code=_authorize(browser_agent, url)["code"], code_verifier=verifier)
        assert rp.get(f"{base}/oidc/userinfo").status_code == 200
        client_disable(client_id="retired-system")
        assert rp.get(f"{base}/oidc/userinfo").status_code == 401
        response = browser_agent.get(_start(base, rp)[0])
        assert response.status_code == 400  # an unknown (disabled) client gets the error page


def test_a_replayed_authorization_request_is_refused(base: str, browser_agent: httpx2.Client) -> None:
    person = citizen()
    agency = _agency("replay-check", "replay", ["openid"])
    _sign_in(browser_agent, person)
    with _rp(base, agency, "openid") as rp:
        url, _, _, _ = _start(base, rp)
        assert "code" in _authorize(browser_agent, url)
        again = browser_agent.get(url)  # the same nonce a second time
        assert again.status_code == 302 and "error=invalid_request" in again.headers["Location"]
