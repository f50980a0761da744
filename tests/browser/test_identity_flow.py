"""A citizen's digital ID in a real browser: activate with the code from a service counter, add an
authenticator app or a passkey, then sign in to the public services portal through the OpenID Connect
provider, consent to sharing data, and withdraw that consent again."""

from __future__ import annotations

import re
import secrets
import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import httpx2
import pytest
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from joserfc import jwt
from joserfc.jwk import KeySet
from playwright.sync_api import Browser, Page, Request
from pytest_django.live_server_helper import LiveServer

from gov21.identity import totp
from gov21.identity.levels import HIGH
from gov21.identity.services import activation_code_issue, client_register
from tests.identity.flows import OFFICER
from tests.registry.factories import register_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mango walk harbour lantern"
PORTAL = "Public services portal"


def _base(live_server: LiveServer, settings: Any) -> str:
    """The address to browse on. WebAuthn wants a domain as its relying-party id, never an IP address,
    and the portal's issuer (settings.BASE_URL) must be the host the browser uses."""
    base = str(live_server.url).replace("127.0.0.1", "localhost").rstrip("/")
    settings.BASE_URL = base
    return base


def _new_page(browser: Browser) -> Page:
    context = browser.new_context(accept_downloads=True, locale="en")
    page = context.new_page()
    page.set_default_timeout(15_000)
    return page


def _activate(page: Page, base: str, given: str, family: str) -> str:
    """Register a person, issue an activation code at the counter and activate the ID in the browser."""
    person = register_person(OFFICER, given=given, family=family)
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    page.goto(f"{base}/auth/activate")
    page.fill("#uin", person.uin)
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(re.compile(r"/auth/account\?enrol=1$"))
    return str(person.uin)


def _consent_and_land(page: Page) -> None:
    items = page.locator("#consent-items").inner_text()
    assert "name" in items and "date of birth" in items, items
    page.click("#allow")
    page.wait_for_url(re.compile(r"/my/$"))


def test_citizen_activates_enrols_totp_signs_in_and_consents(
    page: Page, browser: Browser, live_server: LiveServer, settings: Any
) -> None:
    base = _base(live_server, settings)
    uin = _activate(page, base, "Ana", "Joseph")

    page.click("#totp-start")
    secret = page.locator("#totp-secret").inner_text().strip()
    assert re.fullmatch(r"[A-Z2-7]+", secret), secret
    enrolled_at = time.time()
    page.fill("#code", totp.code_at(secret, enrolled_at))
    page.get_by_role("button", name="Confirm").click()
    assert "Your authenticator app is set up." in page.locator("main [role=status]").first.inner_text()
    recovery = page.locator("#recovery-codes li")
    assert recovery.count() >= 5
    assert all(text.strip() for text in recovery.all_inner_texts())

    # A fresh browser context: no cookies, so neither the provider nor the portal knows this person.
    fresh = _new_page(browser)
    try:
        fresh.goto(f"{base}/sign-in?next=/my/")
        fresh.wait_for_url(re.compile(r"/auth/sign-in\?"))
        fresh.fill("#identifier", uin)
        fresh.fill("#password", PASSWORD)
        fresh.get_by_role("button", name="Continue").click()
        fresh.wait_for_url(re.compile(r"/auth/verify\?"))
        # The enrolment used its step; a code is accepted once only, so use a later step (one step of drift).
        step = max(totp.step_at(enrolled_at) + 1, totp.step_at(time.time()))
        fresh.fill("#code", totp.hotp(totp._key(secret), step))
        fresh.get_by_role("button", name="Confirm").click()
        fresh.wait_for_url(re.compile(r"/oidc/authorize\?"))
        _consent_and_land(fresh)

        assert fresh.locator("#signed-in-name").inner_text().strip() == "Ana Joseph"
        consents = fresh.locator("#consents")
        assert PORTAL in consents.inner_text()
        row = consents.locator("tbody tr", has_text=PORTAL)
        assert row.count() == 1
        row.get_by_role("link", name="Withdraw").click()
        # Withdrawing is asked about first, on a page of its own; "No" keeps the consent.
        assert "stop sharing your data" in fresh.locator("h1").inner_text()
        fresh.click("#confirm-yes")
        fresh.wait_for_url(re.compile(r"/my/\?withdrawn=1$"))
        assert "Consent withdrawn" in fresh.locator("main [role=status]").first.inner_text()
        assert fresh.locator("#consents").count() == 0 or PORTAL not in fresh.locator("#consents").inner_text()
        assert "You share data with no service." in fresh.locator("main").inner_text()
    finally:
        fresh.context.close()


def test_citizen_adds_a_passkey_and_signs_in_with_it_alone(page: Page, live_server: LiveServer, settings: Any) -> None:
    base = _base(live_server, settings)
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    _activate(page, base, "Ben", "Clarke")

    page.fill("#passkey-name", "Test laptop")
    page.click("#passkey-add")
    passkeys = page.locator("table", has=page.get_by_role("columnheader", name="Last used"))
    status = page.locator("#passkey-status")
    # Whichever comes first: the reloaded page listing the passkey, or the error the script shows.
    passkeys.get_by_role("cell", name="Test laptop").or_(page.locator("#passkey-status:not([hidden])")).wait_for()
    assert status.is_hidden(), f"the passkey was not added: {status.inner_text()}"
    assert passkeys.locator("tbody tr").count() == 1

    # Sign out of everything by dropping the cookies; the virtual authenticator keeps its credential.
    page.context.clear_cookies()
    visited: list[Request] = []

    def record(request: Request) -> None:
        visited.append(request)

    page.on("request", record)
    page.goto(f"{base}/sign-in?next=/my/")
    page.wait_for_url(re.compile(r"/auth/sign-in\?"))
    page.click("#passkey-sign-in")
    page.wait_for_url(re.compile(r"/oidc/authorize\?"))
    _consent_and_land(page)
    assert page.locator("#signed-in-name").inner_text().strip() == "Ben Clarke"
    assert PORTAL in page.locator("#consents").inner_text()

    # Neither a password nor a second-factor code was sent: the passkey alone signed the person in.
    posted = [r.url for r in visited if r.method == "POST"]
    assert not any(re.search(r"/auth/(sign-in|verify)(\?|$)", url) for url in posted), posted
    assert not any("/auth/verify" in r.url for r in visited), [r.url for r in visited]
    assert any("/auth/passkey/sign-in" in url for url in posted), posted

    # A service that needs level high: a passkey on an identity checked at the counter reaches it
    # without any further step, and the ID token says so.
    redirect = "http://127.0.0.1:9/land-registry/callback"
    registered = client_register(
        client_id="land-registry",
        name="Land titles",
        agency="Lands Department",
        sector="land",
        purpose="Transfer a land title",
        redirect_uris=[redirect],
        scopes=["openid", "profile"],
        auth_method="client_secret_basic",
        jwks=None,
        created_by="test",
    )
    verifier = secrets.token_urlsafe(48)
    query = urlencode(
        {
            "response_type": "code",
            "client_id": "land-registry",
            "redirect_uri": redirect,
            "scope": "openid",
            "state": "s1",
            "nonce": "n1",
            "acr_values": HIGH,
            "code_challenge": create_s256_code_challenge(verifier),
            "code_challenge_method": "S256",
        }
    )
    page.goto(f"{base}/oidc/authorize?{query}")
    with page.expect_request(lambda request: request.url.startswith(redirect)) as landed:
        page.click("#allow")
    code = parse_qs(urlsplit(landed.value.url).query)["code"][0]
    token = httpx2.post(
        f"{base}/oidc/token",
        data={"grant_type": "authorization_code", "code": code, "redirect_uri": redirect, "code_verifier": verifier},
        auth=("land-registry", str(registered.secret)),
    ).json()
    keys = KeySet.import_key_set(httpx2.get(f"{base}/oidc/jwks.json").json())
    claims = jwt.decode(token["id_token"], keys, algorithms=["ES256"]).claims
    assert claims["acr"] == HIGH and "hwk" in claims["amr"]
