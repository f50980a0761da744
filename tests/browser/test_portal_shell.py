"""The portal's shell as a new citizen meets it in a real browser: activating, setting up an
authenticator app with a typo on the way, the header once signed in, error pages with a way on,
pages without JavaScript, and pages on a 320 px phone screen."""

from __future__ import annotations

import re
import time
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from gov21.identity import totp
from gov21.identity.services import activation_code_issue
from tests.identity.flows import OFFICER
from tests.registry.factories import register_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "mango walk harbour lantern"
PHONE = {"width": 320, "height": 640}
WIDE = {"width": 1280, "height": 800}


def _base(live_server: LiveServer, settings: Any) -> str:
    base = str(live_server.url).rstrip("/")
    settings.BASE_URL = base
    return base


def _activate(page: Page, base: str) -> str:
    person = register_person(OFFICER, given="Cora", family="Baptiste-Williamson")
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    page.goto(f"{base}/auth/activate")
    page.fill("#uin", person.uin)
    page.fill("#code", code)
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    page.get_by_role("button", name="Activate").click()
    page.wait_for_url(re.compile(r"/auth/account\?enrol=1$"))
    return str(person.uin)


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _scrolls_sideways(page: Page) -> bool:
    return bool(page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"))


def _header_rows(page: Page) -> int:
    """How many rows the header's links and buttons take on the screen."""
    tops = page.evaluate(
        "[...document.querySelectorAll('header.site a, header.site button')]"
        ".filter(e => e.offsetParent !== null).map(e => Math.round(e.getBoundingClientRect().top))"
    )
    rows: list[int] = []
    for top in sorted(tops):
        if not rows or top - rows[-1] > 8:
            rows.append(top)
    return len(rows)


def test_a_new_citizen_sets_up_the_app_despite_typos_and_is_led_to_their_page(
    page: Page, live_server: LiveServer, settings: Any
) -> None:
    base = _base(live_server, settings)
    _activate(page, base)
    # Activated and signed in to the provider: the header no longer offers to sign in.
    assert page.locator("#nav-my").is_visible() and page.locator("#nav-sign-in").count() == 0
    assert page.locator("#skip-enrol").get_attribute("href") == "/my/"

    page.click("#totp-start")
    secret = page.locator("#totp-secret").inner_text().strip()
    # A code mistyped: the same key and QR code stay, the message says what is wrong, not the clock.
    page.fill("#code", _wrong(totp.code_at(secret, time.time())))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#code-error")).to_be_visible()
    assert page.locator("#totp-secret").inner_text().strip() == secret
    expect(page.locator("#totp-qr")).to_be_visible()
    first = page.locator("#code-error").inner_text()
    assert "not right" in first and "clock" not in first
    # Empty: asked for the code, not told it is wrong.
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#code-error")).to_contain_text("Enter the 6-digit code")
    for _ in range(2):
        page.fill("#code", _wrong(totp.code_at(secret, time.time())))
        page.get_by_role("button", name="Confirm").click()
    expect(page.locator("#code-error")).to_contain_text("date and time")
    assert page.locator("#totp-secret").inner_text().strip() == secret

    # Leaving and coming back keeps the key too: the entry on the phone still matches.
    page.goto(f"{base}/auth/account")
    assert page.locator("#totp-secret").inner_text().strip() == secret
    page.fill("#code", totp.code_at(secret, time.time()))
    page.get_by_role("button", name="Confirm").click()
    expect(page.locator("main [role=status]").first).to_contain_text("authenticator app is set up")
    # The level reached is said at once, in words.
    assert "substantial" in page.locator("#level").inner_text()
    assert "password and a code from your app" in page.locator("#level").inner_text()

    page.get_by_role("link", name="Continue to your account").click()
    page.get_by_role("button", name="Allow").or_(page.locator("#my-links")).first.wait_for()
    if page.locator("#allow").count():
        page.click("#allow")
    page.wait_for_url(re.compile(r"/my/$"))
    # A citizen sees no back-office link.
    header = page.locator("header.site").inner_text()
    assert "Cases" not in header and "Registry office" not in header

    # On a phone: the header keeps to two rows and no page scrolls sideways.
    page.set_viewport_size(PHONE)
    for path in ("/my/", "/my/data-uses", "/auth/account", "/"):
        page.goto(f"{base}{path}")
        assert _header_rows(page) <= 2, path
        assert not _scrolls_sideways(page), path


def test_a_restart_gives_a_new_key_only_when_asked(page: Page, live_server: LiveServer, settings: Any) -> None:
    base = _base(live_server, settings)
    _activate(page, base)
    page.click("#totp-start")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.goto(f"{base}/auth/account?enrol=1")
    assert page.locator("#totp-secret").inner_text().strip() == secret
    page.click("#totp-restart")
    assert page.locator("#totp-secret").inner_text().strip() != secret
    assert "Delete the entry you added before" in page.locator("main [role=status]").first.inner_text()


def test_error_pages_lead_somewhere_and_name_no_permission(page: Page, live_server: LiveServer, settings: Any) -> None:
    base = _base(live_server, settings)
    response = page.goto(f"{base}/no/such/page")
    assert response is not None and response.status == 404
    assert page.locator("h1").inner_text() == "Page not found"
    assert page.locator("#way-on").get_attribute("href") == "/sign-in"

    _activate(page, base)
    page.goto(f"{base}/sign-in?next=/my/")
    page.locator("#allow").or_(page.locator("#my-links")).first.wait_for()
    if page.locator("#allow").count():
        page.click("#allow")
    page.wait_for_url(re.compile(r"/my/$"))
    for path in ("/office/registry/", "/office/cases/"):
        response = page.goto(f"{base}{path}")
        assert response is not None and response.status == 403, path
        assert page.locator("h1").inner_text() == "You cannot see this page"
        assert not re.search(r"\b[a-z]+\.[a-z]+\b", page.locator("#refusal").inner_text()), path
        page.locator("#way-on").click()
        page.wait_for_url(re.compile(r"/my/$"))


def test_without_javascript_no_button_shows_that_needs_it(
    browser: Browser, live_server: LiveServer, settings: Any
) -> None:
    base = _base(live_server, settings)
    context = browser.new_context(java_script_enabled=False, locale="en", viewport=PHONE)
    try:
        page = context.new_page()
        page.goto(f"{base}/auth/sign-in")
        assert page.locator("#passkey-sign-in").count() == 1
        assert not page.locator("#passkey-sign-in").is_visible()
        assert not page.get_by_text("Or use a passkey").is_visible()
        assert page.get_by_role("button", name="Continue").is_visible()
        assert _header_rows(page) <= 2 and not _scrolls_sideways(page)
    finally:
        context.close()


def test_the_signed_in_header_fits_on_a_phone_and_on_one_row_wide_in_every_language(
    page: Page, live_server: LiveServer, settings: Any
) -> None:
    base = _base(live_server, settings)
    _activate(page, base)
    page.goto(f"{base}/sign-in?next=/my/")
    page.locator("#allow").or_(page.locator("#my-links")).first.wait_for()
    if page.locator("#allow").count():
        page.click("#allow")
    page.wait_for_url(re.compile(r"/my/$"))
    rows: dict[tuple[str, str, int], int] = {}
    for language in ("en", "es", "fr", "nl"):
        page.set_viewport_size(WIDE)
        choice = page.locator(f"footer button[name=language][value={language}]")
        if choice.is_enabled():  # the page's own language is shown, not offered
            with page.expect_navigation():
                choice.click()
        for path in ("/my/", "/"):
            page.goto(f"{base}{path}")
            assert page.locator("html").get_attribute("lang") == language
            assert page.locator("#nav-sign-out").is_visible(), (language, path)
            for width, size in ((1280, WIDE), (320, PHONE)):
                page.set_viewport_size(size)
                rows[(language, path, width)] = _header_rows(page)
    print(f"header rows: {rows}")
    too_many = {key: n for key, n in rows.items() if n > (1 if key[2] == 1280 else 3)}
    assert not too_many, f"header rows over 1 at 1280 px or over 3 at 320 px: {too_many}"
