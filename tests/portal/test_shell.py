"""The portal's shell as a person meets it, page by page without JavaScript: a header that shows only
what the person may use, error pages with a way on, forms that say every mistake at once in the
person's language, the authenticator set-up that forgives a typo, confirmation before what cannot
be undone, compressed pages and the site's icon. (The same in a real browser, and the layout at
320 px, in ``tests/browser/test_portal_shell.py``.)"""

from __future__ import annotations

import gzip
import re
import time

import pytest
from django.test import Client, RequestFactory

from gov21 import urls as root_urls
from gov21.core.ids import verhoeff_check_digit
from gov21.identity import totp
from gov21.identity.models import Consent
from gov21.identity.services import activation_code_issue
from gov21.onestop import definitions
from gov21.onestop.models import Application
from tests.identity.flows import OFFICER, PASSWORD, Person, citizen, portal_sign_in, staff
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _page(response) -> str:  # type: ignore[no-untyped-def]
    return str(response.content.decode())


def _nav(page: str) -> str:
    return page.split('<header class="site">')[1].split("</header>")[0]


# --- The header --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("roles", "registry", "cases"),
    [
        ((), False, False),
        (("reader",), False, False),
        (("clerk",), True, False),
        (("case_officer",), False, True),
        (("registrar",), True, True),
    ],
)
def test_the_header_shows_a_back_office_only_to_staff_it_lets_in(
    client: Client, roles: tuple[str, ...], registry: bool, cases: bool
) -> None:
    portal_sign_in(client, staff("desk.header", *roles), next_url="/office/registry/")
    nav = _nav(_page(client.get("/services")))
    assert ('href="/office/registry/"' in nav) is registry
    assert ('href="/office/cases/"' in nav) is cases
    # Every link shown opens its page rather than a refusal.
    for link in re.findall(r'href="(/office/[^"]*)"', nav):
        assert client.get(link).status_code == 200, link


def test_a_signed_in_citizen_sees_no_back_office_link_and_is_refused_with_a_way_on(client: Client) -> None:
    portal_sign_in(client, citizen(), next_url="/my/")
    nav = _nav(_page(client.get("/my/")))
    assert "Cases" not in nav and "Registry office" not in nav and 'id="nav-my"' in nav
    for path in ("/office/registry/", "/office/cases/", "/office/registry/declare/birth"):
        response = client.get(path)
        page = _page(response)
        assert response.status_code == 403, path
        assert "You cannot see this page" in page
        assert 'id="way-on" href="/my/"' in page
        assert f'href="{path}"' not in page.split("<main")[1], "the refusal leads back to itself"
        assert not re.search(r"\((event|case|person)\.[a-z]+\)", page)


# --- Error pages -------------------------------------------------------------------------------


def test_an_unknown_page_is_the_sites_own_404_with_a_way_on(client: Client) -> None:
    response = client.get("/no/such/page")
    page = _page(response)
    assert response.status_code == 404 and response["Content-Type"].startswith("text/html")
    assert "<h1>Page not found</h1>" in page and 'id="way-on" href="/sign-in"' in page
    assert '<header class="site">' in page
    spanish = client.get("/no/such/page", HTTP_ACCEPT_LANGUAGE="es")
    assert "Page not found" not in _page(spanish) and spanish.status_code == 404
    # The API keeps its problem details.
    api = client.get("/api/v1/no-such-thing")
    assert api.status_code == 404 and api["Content-Type"] == "application/problem+json"


def test_a_server_error_is_a_page_of_the_site_that_needs_no_database() -> None:
    request = RequestFactory().get("/my/")
    response = root_urls._server_error(request)
    page = _page(response)
    assert response.status_code == 500
    assert "Sorry, there is a problem with the service" in page and 'href="/"' in page
    api = root_urls._server_error(RequestFactory().get("/api/v1/registry/persons/1"))
    assert api.status_code == 500 and api["Content-Type"] == "application/problem+json"


def test_a_permission_denied_anywhere_is_the_refusal_page(client: Client) -> None:
    request = RequestFactory().get("/somewhere")
    request.user = type("Anonymous", (), {"is_authenticated": False})()
    request.session = {}  # type: ignore[assignment]
    response = root_urls._forbidden(request, PermissionError("event.read"))
    assert response.status_code == 403
    page = _page(response)
    assert "event.read" not in page and 'id="way-on" href="/sign-in"' in page


def test_a_form_sent_after_its_page_expired_says_what_to_do() -> None:
    strict = Client(enforce_csrf_checks=True)
    response = strict.post("/auth/sign-in", {"identifier": "2345176890", "password": "x"})
    page = _page(response)
    assert response.status_code == 403 and "This form has expired" in page and "CSRF" not in page
    assert "reload the page" in page and '<header class="site">' in page
    spanish = _page(strict.post("/auth/sign-in", {}, HTTP_ACCEPT_LANGUAGE="es"))
    assert "This form has expired" not in spanish and "CSRF" not in spanish


# --- Sign-in and activation --------------------------------------------------------------------


def _uin_with_wrong_check_digit() -> str:
    body = "234517689"
    return body + str((int(verhoeff_check_digit(body)) + 1) % 10)


def test_an_empty_activation_says_every_missing_field_at_once(client: Client) -> None:
    response = client.post("/auth/activate", {})
    page = _page(response)
    assert response.status_code == 422
    assert "do not match" not in page
    for field, words in (
        ("uin", "Enter your UIN"),
        ("code", "Enter the activation code"),
        ("password", "Choose a password"),
        ("password_again", "Type the password again"),
    ):
        assert f'href="#{field}"' in page and words in page and f'id="{field}-error"' in page


def test_activation_explains_a_wrong_check_digit_and_an_over_long_uin(client: Client) -> None:
    form = {"code": "ABCD-EFGH-JKLM", "password": PASSWORD, "password_again": PASSWORD}
    page = _page(client.post("/auth/activate", {**form, "uin": _uin_with_wrong_check_digit()}))
    assert "check digit of this UIN is wrong" in page and 'href="#uin"' in page
    page = _page(client.post("/auth/activate", {**form, "uin": "2" * 30}))
    assert "this has 30 characters" in page
    page = _page(client.post("/auth/activate", {**form, "uin": "2" * 101}))
    assert "Your UIN must be 100 characters or fewer." in page
    mismatch = _page(client.post("/auth/activate", {**form, "uin": "2345176890", "password_again": "other"}))
    assert "The two passwords are not the same" in mismatch


def test_sign_in_and_activation_errors_are_in_the_persons_language(client: Client) -> None:
    english = _page(client.post("/auth/sign-in", {}))
    assert "Enter your UIN" in english and "Enter your password" in english
    for language in ("es", "fr", "nl"):
        page = _page(client.post("/auth/sign-in", {}, HTTP_ACCEPT_LANGUAGE=language))
        assert "Enter your UIN" not in page and "Enter your password" not in page, language
        page = _page(
            client.post("/auth/activate", {"uin": _uin_with_wrong_check_digit()}, HTTP_ACCEPT_LANGUAGE=language)
        )
        assert "check digit" not in page and "Enter the activation code" not in page, language
        wrong = _page(
            client.post("/auth/sign-in", {"identifier": "2345176890", "password": "x"}, HTTP_ACCEPT_LANGUAGE=language)
        )
        assert "is not right" not in wrong and 'href="#identifier"' in wrong, language


def test_an_empty_second_factor_code_is_asked_for(client: Client) -> None:
    person = citizen()
    client.post("/auth/sign-in", {"identifier": person.identifier, "password": PASSWORD})
    response = client.post("/auth/verify", {"code": ""})
    assert "Enter the code from your authenticator app" in _page(response)


# --- Setting up the authenticator --------------------------------------------------------------


def _activated(client: Client) -> str:
    person = register_person(OFFICER)
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    response = client.post(
        "/auth/activate", {"uin": person.uin, "code": code, "password": PASSWORD, "password_again": PASSWORD}
    )
    assert response.status_code == 302 and response["Location"] == "/auth/account?enrol=1"
    return str(person.uin)


def _secret(page: str) -> str:
    found = re.search(r'id="totp-secret">([A-Z2-7]+)<', page)
    assert found, "no key on the page"
    return found.group(1)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_a_typo_keeps_the_key_and_the_clock_is_mentioned_only_after_several(client: Client) -> None:
    _activated(client)
    enrol = _page(client.get("/auth/account?enrol=1"))
    assert 'id="skip-enrol" href="/my/"' in enrol and 'id="nav-my"' in enrol and 'id="nav-sign-in"' not in enrol
    assert "basic: you signed in with your password only" in enrol
    # Every page of the site says so, not only the provider's own.
    services = _nav(_page(client.get("/services")))
    assert 'id="nav-my"' in services and 'id="nav-sign-in"' not in services and 'action="/auth/sign-out"' in services
    secret = _secret(_page(client.post("/auth/account?enrol=1", {"action": "totp_start"})))
    # Pressing "set up" again does not make a new key behind the person's back.
    assert _secret(_page(client.post("/auth/account?enrol=1", {"action": "totp_start"}))) == secret

    messages = []
    for _ in range(3):
        page = _page(
            client.post(
                "/auth/account?enrol=1", {"action": "totp_confirm", "code": _wrong(totp.code_at(secret, time.time()))}
            )
        )
        assert _secret(page) == secret and 'id="totp-qr"' in page
        messages.append(page.split('id="code-error">')[1].split("</p>")[0])
    assert all("not right" in m for m in messages)
    assert "clock" not in messages[0] and "date and time" not in messages[0]
    assert "date and time" in messages[2]

    done = _page(
        client.post("/auth/account?enrol=1", {"action": "totp_confirm", "code": totp.code_at(secret, time.time())})
    )
    assert "Your authenticator app is set up." in done and 'id="totp-secret"' not in done
    assert "substantial: you signed in with your password and a code from your app" in done
    assert 'id="continue" href="/my/"' in done and "Continue to your account" in done


def test_starting_again_is_explicit_and_gives_a_new_key(client: Client) -> None:
    _activated(client)
    secret = _secret(_page(client.post("/auth/account", {"action": "totp_start"})))
    assert _secret(_page(client.get("/auth/account"))) == secret
    again = _page(client.post("/auth/account", {"action": "totp_restart"}))
    assert _secret(again) != secret and "Delete the entry you added before" in again
    old = client.post("/auth/account", {"action": "totp_confirm", "code": totp.code_at(secret, time.time())})
    assert "not right" in _page(old)


# --- Confirmation before what cannot be undone --------------------------------------------------


def test_withdrawing_a_consent_is_confirmed_first(client: Client) -> None:
    person: Person = citizen()
    portal_sign_in(client, person, next_url="/my/")
    consent = Consent.objects.get(account=person.account, revoked_at__isnull=True)
    page = _page(client.get("/my/"))
    assert f'href="?withdraw={consent.pk}"' in page and 'name="consent"' not in page
    confirm = _page(client.get("/my/", {"withdraw": consent.pk}))
    assert "Are you sure you want to stop sharing your data" in confirm and 'href="/my/" id="confirm-no"' in confirm
    # A bare post, as the old one-click button sent, only asks.
    asked = client.post("/my/", {"consent": consent.pk})
    assert asked.status_code == 200 and "Are you sure" in _page(asked)
    assert Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).exists()
    done = client.post("/my/", {"consent": consent.pk, "confirm": "yes"})
    assert done.status_code == 302 and done["Location"] == "/my/?withdrawn=1"
    assert not Consent.objects.filter(pk=consent.pk, revoked_at__isnull=True).exists()


def test_withdrawing_an_application_is_confirmed_first(client: Client) -> None:
    definitions.definitions_load()
    portal_sign_in(client, citizen(), next_url="/my/")
    started = client.post("/services/change-of-address/start")
    reference = str(started["Location"]).split("/apply/")[1].split("/")[0]
    page_url = f"/my/applications/{reference}"
    assert 'href="?withdraw=1"' in _page(client.get(page_url))
    confirm = _page(client.get(page_url, {"withdraw": "1"}))
    assert "Are you sure you want to withdraw your application?" in confirm and reference in confirm
    asked = client.post(page_url, {"action": "withdraw"})
    assert asked.status_code == 200 and "Are you sure" in _page(asked)
    assert Application.objects.get(reference=reference).state != Application.State.WITHDRAWN
    client.post(page_url, {"action": "withdraw", "confirm": "yes"})
    assert Application.objects.get(reference=reference).state == Application.State.WITHDRAWN


# --- Without JavaScript, compression and the icon ----------------------------------------------


def test_what_needs_javascript_is_hidden_and_stays_hidden_without_it(client: Client) -> None:
    page = _page(client.get("/auth/sign-in"))
    button = re.search(r"<button[^>]*id=\"passkey-sign-in\"[^>]*>", page)
    assert button and " hidden" in button.group(0)
    # The buttons' own display rule must not override the hidden attribute.
    assert "[hidden]{display:none!important}" in page
    _activated(client)
    security = _page(client.get("/auth/account"))
    # Naming a new passkey is no use without the button that adds it: both wait for the script.
    assert re.search(r'<div id="passkey-new" hidden data-needs-js>\s*<label for="passkey-name">', security)


def test_pages_are_compressed_with_length_randomised_and_apis_are_not(client: Client) -> None:
    plain = client.get("/")
    packed = client.get("/", HTTP_ACCEPT_ENCODING="gzip, br")
    assert "Content-Encoding" not in plain and packed["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in packed["Vary"]
    html = gzip.decompress(packed.content)
    assert html.startswith(b"<!doctype html>") and len(packed.content) < len(html) / 2
    # Django's BREACH mitigation: random bytes in the gzip header's file name make lengths vary.
    assert packed.content[3] & 0x08
    lengths = {len(client.get("/", HTTP_ACCEPT_ENCODING="gzip").content) for _ in range(8)}
    assert len(lengths) > 1
    keys = client.get("/.well-known/jwks.json", HTTP_ACCEPT_ENCODING="gzip")
    assert keys.status_code == 200 and "Content-Encoding" not in keys


def test_the_icon_is_an_svg_kept_for_a_year(client: Client) -> None:
    assert '<link rel="icon" href="/favicon.svg" type="image/svg+xml">' in _page(client.get("/"))
    icon = client.get("/favicon.svg")
    assert icon.status_code == 200 and icon["Content-Type"] == "image/svg+xml"
    assert icon.content.startswith(b"<svg") and len(icon.content) < 1000
    cache = icon["Cache-Control"]
    assert "max-age=31536000" in cache and "immutable" in cache and "public" in cache
    legacy = client.get("/favicon.ico")
    assert legacy.status_code == 301 and legacy["Location"] == "/favicon.svg"
