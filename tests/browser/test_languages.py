"""A new citizen walks the portal's main journeys in Spanish, French and Dutch: the services by life
event, activating the digital ID (with one mistake), setting up an authenticator app (with one
mistyped code), signing in through the identity provider, their profile, who used their data, their
consents, a change of address decided automatically, the start of a licence renewal, a certificate
check with a bad code and a good one, and a page that does not exist.

Every page view is read for English sentences, checked with axe-core at 1280 px and at 320 px, must
not scroll sideways at 320 px, and must weigh at most 15 KB compressed. The page views from the
activation form to the automatic decision are counted: at most 15."""

from __future__ import annotations

import gzip
import re
import time
from dataclasses import dataclass, field
from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from django.utils import timezone
from playwright.sync_api import Locator, Page, Response, expect

from gov21.identity import totp
from gov21.identity.services import activation_code_issue
from gov21.onestop import registers
from gov21.registry import services as registry
from gov21.registry.certificates import certificate_code
from gov21.registry.models import LifeEvent
from tests.browser import test_services_flows as flows
from tests.browser.english import page_english
from tests.browser.test_services_flows import Browsing, assert_accessible
from tests.identity.flows import OFFICER
from tests.registry.factories import register_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_services = flows._services
auditor = flows.auditor
browsing = flows.browsing

PASSWORD = "mango walk harbour lantern"
WIDE = {"width": 1280, "height": 800}
PHONE = {"width": 320, "height": 640}
# A page is one response over a slow line: its HTML, styles inline, at most 15 KB once compressed.
MAX_COMPRESSED = 15 * 1024
# From the activation form to a service decided automatically, mistakes left out.
MAX_VIEWS_TO_A_DECISION = 15


@dataclass
class Walk:
    """One person's page views in one language, each checked as it is shown; what is wrong is
    collected with the page it was found on, so that one page's fault hides none of the others."""

    page: Page
    base: str
    language: str
    views: list[str] = field(default_factory=list)
    english: dict[str, list[str]] = field(default_factory=dict)
    sideways: list[str] = field(default_factory=list)
    heavy: dict[str, int] = field(default_factory=dict)
    wrong_language: list[str] = field(default_factory=list)
    largest: tuple[int, str] = (0, "")

    def go(self, path: str, *, status: int | None = 200) -> None:
        response = self.page.goto(f"{self.base}{path}")
        self._check(response, status)

    def press(self, control: Locator, *, status: int | None = 200) -> None:
        """Press a button or follow a link; ``status`` None for a form answered with its errors."""
        with self.page.expect_navigation() as navigation:
            control.click()
        self._check(navigation.value, status)

    def _check(self, response: Response | None, status: int | None) -> None:
        assert response is not None, self.page.url
        parts = urlsplit(self.page.url)
        # The provider's long queries (state, nonce, PKCE) are left out of what a failure prints.
        query = parts.query if len(parts.query) <= 40 else "…"
        path = parts.path + (f"?{query}" if query else "")
        if status is None:
            assert response.status < 500, f"{path}: {response.status}"
        else:
            assert response.status == status, f"{path}: {response.status}"
        self.views.append(path)
        weight = len(gzip.compress(response.body()))
        if weight > self.largest[0]:
            self.largest = (weight, path)
        if weight > MAX_COMPRESSED:
            self.heavy[path] = weight
        if self.page.locator("html").get_attribute("lang") != self.language:
            self.wrong_language.append(path)
        self.page.set_viewport_size(WIDE)
        found = page_english(self.page)
        assert_accessible(self.page)
        self.page.set_viewport_size(PHONE)
        found += [s for s in page_english(self.page) if s not in found]
        if found:
            print(f"English on {path}: {found}")
            self.english.setdefault(path, []).extend(found)
        assert_accessible(self.page)
        if self.page.evaluate("document.documentElement.scrollWidth > document.documentElement.clientWidth"):
            self.sideways.append(path)
        self.page.set_viewport_size(WIDE)

    def assert_clean(self) -> None:
        assert not self.english, f"English sentences in {self.language}: {self.english}"
        assert not self.wrong_language, f"pages not in {self.language}: {self.wrong_language}"
        assert not self.sideways, f"pages that scroll sideways at 320 px: {self.sideways}"
        assert not self.heavy, f"pages over {MAX_COMPRESSED} bytes compressed: {self.heavy}"


def _wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _next_code(secret: str) -> str:
    """A code of the app's next time step: the provider refuses one already used, and accepts one step
    of clock difference."""
    return totp.hotp(totp._key(secret), totp.step_at(time.time()) + 1)


@pytest.mark.parametrize("language", ["es", "fr", "nl"])
def test_a_new_citizen_walks_the_portal_in_their_language(browsing: Browsing, language: str) -> None:
    person = register_person(OFFICER, given="Cora", family="Baptiste", born=date(1984, 3, 9))
    registers.licence_issue(uin=person.uin, issued_on=date(2016, 6, 1))
    birth = LifeEvent.objects.get(subject=person, kind="birth")
    certificate = registry.certificate_issue(event_id=birth.pk, actor=OFFICER)
    activation = activation_code_issue(uin=person.uin, officer=OFFICER)

    page = browsing.open(javascript=True)
    page.goto(f"{browsing.base}/")
    walk = Walk(page, browsing.base, language)
    # The language is picked on the first page, from the footer.
    walk.press(page.locator(f"footer button[name=language][value={language}]"))

    # A service found by life event; starting it asks for a digital ID the citizen does not have yet.
    walk.press(page.locator("#life-events a[href='/life/moving-home']"))
    walk.press(page.locator("main a[href='/services/change-of-address']"))
    walk.press(page.locator("#start"))
    assert urlsplit(page.url).path == "/auth/sign-in", page.url

    # Activation, with a wrong code first.
    start = len(walk.views)
    walk.press(page.locator("#activate"))
    page.fill("#uin", person.uin)
    page.fill("#code", "ABCD-EFGH-JKLM")
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    walk.press(page.locator("main form button[type=submit]"), status=None)
    expect(page.locator(".error-summary")).to_be_visible()
    mistakes = 1
    page.fill("#code", activation)
    page.fill("#password", PASSWORD)
    page.fill("#password_again", PASSWORD)
    walk.press(page.locator("main form button[type=submit]"))
    assert urlsplit(page.url).path == "/auth/account", page.url

    # An authenticator app, with one code mistyped.
    walk.press(page.locator("#totp-start"))
    secret = page.locator("#totp-secret").inner_text().strip()
    page.fill("#code", _wrong(totp.code_at(secret, time.time())))
    walk.press(page.locator("main form button[type=submit]").first, status=None)
    expect(page.locator("#code-error")).to_be_visible()
    mistakes += 1
    page.fill("#code", totp.code_at(secret, time.time()))
    walk.press(page.locator("main form button[type=submit]").first)
    expect(page.locator("#continue")).to_be_visible()

    # On to the service, through the provider, which asks once whether the portal may read the profile.
    walk.press(page.locator("#continue"))
    assert urlsplit(page.url).path == "/oidc/authorize", page.url
    walk.press(page.locator("#allow"))
    assert urlsplit(page.url).path == "/services/change-of-address", page.url

    # A change of address, decided automatically.
    walk.press(page.locator("#start"))
    page.check("#agree")
    walk.press(page.locator("#continue"))
    if page.locator("#tasks").count():
        walk.press(page.locator("#tasks li").nth(1).locator("a"))
    page.select_option("#parish", "XA-04")
    walk.press(page.locator("#continue"))
    page.fill("#settlement", "Mango Walk")
    walk.press(page.locator("#continue"))
    page.fill("#line", "12 Harbour Road")
    walk.press(page.locator("#continue"))
    moved = timezone.localdate() - timedelta(days=3)
    page.fill("#moved_on", str(moved.day))
    page.fill("#moved_on-month", str(moved.month))
    page.fill("#moved_on-year", str(moved.year))
    walk.press(page.locator("#continue"))
    walk.press(page.locator("#continue"))
    walk.press(page.locator("#send"))
    assert re.fullmatch(r"/my/applications/A-[A-Z0-9]+", urlsplit(page.url).path), page.url
    expect(page.locator("#decided-by")).to_be_visible()
    to_a_decision = len(walk.views) - start - mistakes

    # Signed out, and in again to their own page: password, then a code from the app.
    walk.press(page.locator("#nav-sign-out"))
    walk.go("/sign-in?next=/my/")
    assert urlsplit(page.url).path == "/auth/sign-in", page.url
    page.fill("#identifier", person.uin)
    page.fill("#password", PASSWORD)
    walk.press(page.locator("main form button[type=submit]").first)
    page.fill("#code", _next_code(secret))
    walk.press(page.locator("main form button[type=submit]").first)
    assert urlsplit(page.url).path == "/my/", page.url

    # What the citizen can see of themselves, and the decision read again.
    walk.press(page.locator("#my-links a[href='/my/profile']"))
    walk.go("/my/data-uses")
    walk.go("/my/consents")
    walk.go("/my/applications")
    walk.press(page.locator("main a[href^='/my/applications/A-']").first)
    expect(page.locator("#decided-by")).to_be_visible()

    # The start of a licence renewal: the registries' facts asked for.
    walk.go("/services/renew-driving-licence")
    walk.press(page.locator("#start"))
    expect(page.locator("#sources li").first).to_be_visible()

    # A certificate checked: a bad code, then a good one.
    walk.go("/verify")
    page.fill("#payload", "GOV21:not.a.code")
    walk.press(page.locator("form:has(#payload) button"), status=None)
    expect(page.locator("#verdict")).not_to_have_attribute("data-status", "valid")
    page.fill("#payload", certificate_code(certificate))
    walk.press(page.locator("form:has(#payload) button"))
    expect(page.locator("#verdict")).to_have_attribute("data-status", "valid")

    # A page that does not exist.
    walk.go("/no/such/page", status=404)
    expect(page.locator("#way-on")).to_be_visible()

    print(
        f"walk in {language}: {len(walk.views)} page views, largest {walk.largest[0]} B compressed"
        f" ({walk.largest[1]}), {to_a_decision} page views from activation to an automatic decision"
    )
    walk.assert_clean()
    browsing.assert_no_violations()
    assert to_a_decision <= MAX_VIEWS_TO_A_DECISION, walk.views[start:]
