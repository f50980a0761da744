"""The one-stop shop's citizen journeys in a real browser, each with JavaScript on and off: declare a
birth and download the certificate, renew a licence decided automatically, accept a proactive offer,
a case an officer asks more about, and a death reported once. axe-core checks every page visited
against WCAG 2.2 AA, and the lightest pages are weighed."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import axe_playwright_python  # type: ignore[import-untyped]
import pytest
from django.db import connection
from django.utils import timezone
from playwright.sync_api import Browser, BrowserContext, Locator, Page, Response
from pytest_django.live_server_helper import LiveServer

from gov21.core.principal import Principal
from gov21.exchange.pubsub import deliveries_run
from gov21.identity.models import Account
from gov21.identity.services import staff_create
from gov21.onestop import definitions, registers
from gov21.onestop.models import Application, Benefit, Offer
from gov21.registry import services as registry
from gov21.registry.models import LifeEvent
from gov21.registry.models import Person as Registered
from tests.identity.flows import PASSWORD, Person, citizen, with_totp
from tests.registry.factories import register_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))
WCAG_22_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
# A page of the portal must load over a slow mobile line: at most 100 kB (10^5 bytes) of responses.
MAX_PAGE_BYTES = 100_000
# Each flow with the page's scripts and without. The scripts run in the browser the same whatever
# the database, and the server's side of the flow is the no-js variant's too: the PostgreSQL pass
# runs the no-js variant, the SQLite pass both.
JAVASCRIPT = pytest.mark.parametrize(
    "javascript",
    [
        pytest.param(
            True,
            id="js",
            marks=pytest.mark.skipif(
                connection.vendor != "sqlite", reason="the scripts run the same whatever the database"
            ),
        ),
        pytest.param(False, id="no-js"),
    ],
)
AXE_JS = Path(axe_playwright_python.__file__).parent / "axe.min.js"


@pytest.fixture(autouse=True)
def _services() -> None:
    definitions.definitions_load()


# --- accessibility --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Violation:
    url: str
    rule: str
    impact: str
    help: str
    target: str
    javascript: bool


@dataclass
class Audit:
    """axe-core on every page a test visits. A page with JavaScript on is checked as it is. axe-core
    cannot run in a page whose scripts are off (its timers never fire), so such a page's DOM is
    copied into the auditor: a page of another context, on the same origin, whose own policy still
    forbids every script of the page, where axe-core runs."""

    auditor: Page
    axe: str
    violations: dict[tuple[str, bool, str, str], Violation] = field(default_factory=dict)
    pages_checked: list[str] = field(default_factory=list)

    def check(self, page: Page, *, javascript: bool) -> None:
        path = _path(page.url)
        if javascript:
            results = self._run(page)
        else:
            self._copy(page)
            results = self._run(self.auditor)
        self.pages_checked.append(path)
        for v in results["violations"]:
            for node in v["nodes"]:
                target = " ".join(str(t) for t in node["target"])
                key = (path, javascript, v["id"], target)
                if key not in self.violations:
                    # Printed as found: shown with the failure even if a later step of the journey fails.
                    print(f"axe-core: {path} {v['id']} ({v['impact']}) at {target}: {v['help']}")
                    self.violations[key] = Violation(path, v["id"], str(v["impact"]), v["help"], target, javascript)

    def _run(self, page: Page) -> dict[str, Any]:
        if not page.evaluate("() => typeof window.axe === 'object'"):
            page.evaluate(self.axe)
        options = {"runOnly": {"type": "tag", "values": WCAG_22_AA}, "resultTypes": ["violations"]}
        return dict(page.evaluate("options => axe.run(document, options)", options))

    def _copy(self, page: Page) -> None:
        origin = "{0.scheme}://{0.netloc}".format(urlsplit(page.url))
        if not self.auditor.url.startswith(origin):
            self.auditor.route(
                f"{origin}/__axe__",
                lambda route: route.fulfill(
                    body="<!doctype html><html><head></head><body></body></html>",
                    content_type="text/html; charset=utf-8",
                    headers={"Content-Security-Policy": "script-src 'none'"},
                ),
            )
            self.auditor.goto(f"{origin}/__axe__")
        self.auditor.evaluate(
            """html => {
                const copy = new DOMParser().parseFromString(html, "text/html");
                document.replaceChild(document.adoptNode(copy.documentElement), document.documentElement);
            }""",
            page.content(),
        )

    def report(self) -> str:
        pages: dict[tuple[str, bool], list[Violation]] = {}
        for v in self.violations.values():
            pages.setdefault((v.url, v.javascript), []).append(v)
        lines = [f"axe-core found {len(self.violations)} WCAG 2.2 AA violation(s) on {len(pages)} page(s):"]
        for (url, javascript), found in pages.items():
            shown = url if len(url) <= 100 else url[:99] + "…"
            lines.append(f"  {shown}  (JavaScript {'on' if javascript else 'off'})")
            lines += [f"    {v.rule} ({v.impact}) at {v.target!r}: {v.help}" for v in found]
        return "\n".join(lines)


@pytest.fixture(scope="module")
def auditor(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(locale="en")
    yield context.new_page()
    context.close()


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


@dataclass
class Browsing:
    """The browser contexts of one test, one per person, with or without JavaScript."""

    browser: Browser
    base: str
    audit: Audit
    contexts: list[BrowserContext] = field(default_factory=list)

    def open(self, *, javascript: bool) -> Page:
        context = self.browser.new_context(java_script_enabled=javascript, accept_downloads=True, locale="en")
        self.contexts.append(context)
        _OPEN[id(context)] = (self.audit, javascript)
        page = context.new_page()
        page.set_default_timeout(15_000)
        return page

    def assert_no_violations(self) -> None:
        assert self.audit.pages_checked, "no page was checked with axe-core"
        assert not self.audit.violations, self.audit.report()


# Which test's audit a browser context belongs to, and whether its JavaScript is on: what
# assert_accessible needs to know from the page alone.
_OPEN: dict[int, tuple[Audit, bool]] = {}


@pytest.fixture
def browsing(browser: Browser, live_server: LiveServer, auditor: Page) -> Iterator[Browsing]:
    audit = Audit(auditor, AXE_JS.read_text(encoding="utf-8"))
    session = Browsing(browser, str(live_server.url).rstrip("/"), audit)
    yield session
    for context in session.contexts:
        _OPEN.pop(id(context), None)
        context.close()


def assert_accessible(page: Page) -> None:
    """axe-core on the page now shown. Violations are collected with their URL and the test fails at
    its end with all of them (``Browsing.assert_no_violations``), so that one page's problem neither
    stops the journey nor hides the problems of the pages after it."""
    audit, javascript = _OPEN[id(page.context)]
    audit.check(page, javascript=javascript)


# --- moving through pages -------------------------------------------------------------------------


def visit(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response.status if response else 'no response'}"
    assert_accessible(page)


def submit(page: Page, control: Locator, to: str | re.Pattern[str] | None = None) -> None:
    """Press a button or follow a link, wait for the page it leads to, and check that page."""
    with page.expect_navigation() as navigation:
        control.click()
    response = navigation.value
    assert response is None or response.status < 500, f"{page.url}: {response.status}"
    if to is not None:
        pattern = to if isinstance(to, re.Pattern) else re.compile(re.escape(to) + r"(\?|$)")
        assert pattern.search(_path(page.url)), f"expected {pattern.pattern}, at {page.url}"
    assert_accessible(page)


def sign_in(page: Page, person: Person) -> None:
    """At the identity provider: password, authenticator code, and consent to the portal the first time."""
    assert "/auth/sign-in" in page.url, page.url
    page.fill("#identifier", person.identifier)
    page.fill("#password", person.password)
    submit(page, page.get_by_role("button", name="Continue", exact=True), re.compile(r"^/auth/verify\?"))
    page.fill("#code", person.code())
    submit(page, page.get_by_role("button", name="Confirm", exact=True))
    if urlsplit(page.url).path == "/oidc/authorize":
        submit(page, page.locator("#allow"))


def start_service(page: Page, person: Person, code: str) -> str:
    """From the service's start page: Start now, sign in, Start now again, agree to the pre-fill."""
    assert _path(page.url) == f"/services/{code}", page.url
    submit(page, page.locator("#start"), re.compile(r"^/auth/sign-in\?"))
    sign_in(page, person)
    assert _path(page.url) == f"/services/{code}", page.url
    submit(page, page.locator("#start"), re.compile(r"^/apply/A-[A-Z0-9]+/consent$"))
    reference = _path(page.url).split("/")[2]
    assert page.locator("#sources li").count() >= 1
    page.check("#agree")
    submit(page, page.locator("#continue"), f"/apply/{reference}")
    assert page.locator("#reference").inner_text() == reference
    submit(page, page.get_by_role("link", name="Answer the questions"), re.compile(r"/q/"))
    return reference


def answer(page: Page, questions: dict[str, str | date]) -> None:
    """One question per page, as a person answers it: a date in three boxes, a choice by its label,
    a parish from the list, or text typed."""
    for qid, value in questions.items():
        assert _path(page.url).endswith(f"/q/{qid}"), f"expected question {qid}, at {page.url}"
        if isinstance(value, date):
            page.get_by_label("Day", exact=True).fill(str(value.day))
            page.get_by_label("Month", exact=True).fill(str(value.month))
            page.get_by_label("Year", exact=True).fill(str(value.year))
        elif page.locator(f"select#{qid}").count():
            page.select_option(f"#{qid}", value)
        elif page.locator(f"input[type=radio][name={qid}]").count():
            page.get_by_label(value, exact=True).check()
        else:
            page.fill(f"#{qid}", value)
        submit(page, page.locator("#continue"))
        refused = page.locator(".error-summary")
        assert not refused.count(), f"{qid} = {value!r} was refused: {refused.inner_text()}"


def check_and_send(page: Page, reference: str, shown: list[str]) -> None:
    assert _path(page.url) == f"/apply/{reference}/check", page.url
    answers = page.locator("#answers").inner_text()
    for text in shown:
        assert text in answers, answers
    assert "Verified" in page.locator("#verified").inner_text()
    submit(page, page.locator("#send"), f"/my/applications/{reference}")
    assert page.locator("#reference").inner_text() == reference


def registrar_registers(reference: str) -> None:
    """The registrar validates and registers the declaration the application sent; the registry's
    event then reaches the service engine through the exchange."""
    application = Application.objects.get(reference=reference)
    assert application.state == Application.State.APPROVED, application.state
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    registry.event_register(event_id=event.pk, actor=REGISTRAR)
    assert deliveries_run() >= 1


def _officer(username: str, *, agency: str) -> Person:
    user = staff_create(username=username, password=PASSWORD, roles=["case_officer"], agency=agency)
    return with_totp(Person(username, PASSWORD, "", Account.objects.get(user_id=user.pk)))


def _aged(years: float) -> date:
    return timezone.localdate() - timedelta(days=round(years * 365.25))


# --- 1. a birth -----------------------------------------------------------------------------------


@JAVASCRIPT
def test_a_mother_declares_a_birth_and_downloads_the_certificate(browsing: Browsing, javascript: bool) -> None:
    mother = citizen(given="Marie", family="Charles", sex="F", born=date(1994, 2, 2))
    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/")
    submit(page, page.get_by_role("link", name="Having a baby"), "/life/having-a-baby")
    submit(page, page.get_by_role("link", name="Declare a birth"), "/services/declare-birth")

    reference = start_service(page, mother, "declare-birth")
    born = timezone.localdate() - timedelta(days=2)
    answer(
        page,
        {
            "given_names": "Lea Rose",
            "family_name": "Charles",
            "sex": "Female",
            "birth_date": born,
            "birth_parish": "XA-04",
            "birth_settlement": "Mango Walk",
            "parent_role": "I am the mother",
            "other_parent_uin": "",
            "email": "",
        },
    )
    check_and_send(page, reference, ["Lea Rose", "Female", "I am the mother", "Mango Walk"])
    assert "Application approved" in page.locator("#confirmation").inner_text()

    registrar_registers(reference)

    visit(page, f"{browsing.base}/my/")
    submit(page, page.get_by_role("link", name="My documents"), "/my/documents")
    row = page.locator("#documents tbody tr", has_text="Certificate of Birth")
    assert row.count() == 1, page.locator("#documents").inner_text()
    submit(page, row.get_by_role("link"), re.compile(r"^/my/documents/[A-Z0-9-]+$"))
    assert page.locator("#payload").input_value().startswith("GOV21:")
    with page.expect_download() as download:
        page.locator("#download").click()
    assert download.value.suggested_filename.endswith(".pdf")
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")

    visit(page, f"{browsing.base}/my/applications/{reference}")
    assert "Done" in page.locator("#confirmation").inner_text()
    browsing.assert_no_violations()


# --- 2. a licence renewed automatically -------------------------------------------------------------


@JAVASCRIPT
def test_a_driver_renews_a_licence_decided_automatically_and_the_code_verifies(
    browsing: Browsing, javascript: bool
) -> None:
    driver = citizen(born=date(1985, 6, 1))
    licence = registers.licence_issue(uin=driver.identifier, issued_on=date(2016, 6, 1))
    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/")
    page.get_by_label("Search for a service").fill("licence")
    submit(page, page.get_by_role("button", name="Search", exact=True), "/services")
    submit(page, page.get_by_role("link", name="Renew a driving licence"), "/services/renew-driving-licence")

    reference = start_service(page, driver, "renew-driving-licence")
    # The licence number comes from the licensing register: the driver is not asked to type it,
    # and the check page shows the number the register holds.
    assert page.locator("#licence_number").count() == 0
    answer(page, {"health": "No", "email": ""})
    check_and_send(page, reference, [licence.number, "No"])

    assert "Done" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == "Automatically, because every check passed"
    submit(page, page.locator("#documents").get_by_role("link", name="Driving licence"))
    assert page.locator("#status").inner_text() == "Valid"
    assert page.locator("#qr svg").count() == 1
    code = page.locator("#payload").input_value()
    assert code, "the licence page shows no code"

    submit(page, page.get_by_role("link", name="Verify a certificate"), "/verify")
    page.get_by_label("Code from the document").fill(code)
    submit(page, page.get_by_role("button", name="Check the code", exact=True), "/verify")
    result = page.locator("[data-status]")
    assert result.get_attribute("data-status") == "valid"
    assert "genuine and valid" in result.inner_text()

    # Afterwards: rate the service, find the application and the consent given, report a problem.
    visit(page, f"{browsing.base}/my/")
    submit(page, page.get_by_role("link", name="My applications"), "/my/applications")
    submit(page, page.get_by_role("link", name=reference, exact=True), f"/my/applications/{reference}")
    page.get_by_label("5", exact=True).check()
    page.get_by_label("Anything to tell us? (optional)").fill("Quick and clear.")
    submit(page, page.locator("#send-feedback"), f"/my/applications/{reference}")
    assert page.locator("#thanks").inner_text() == "Thank you for your feedback."
    visit(page, f"{browsing.base}/my/consents")
    assert reference in page.locator("#data-consents").inner_text()
    submit(page, page.get_by_role("link", name="Report a problem with this page"), "/feedback")
    page.get_by_label("What went wrong, or how could we do better?").fill("The licence page could show a photo.")
    submit(page, page.locator("#send"), "/feedback")
    assert page.locator("#thanks").count() == 1
    browsing.assert_no_violations()


# --- 3. a proactive offer -------------------------------------------------------------------------


@JAVASCRIPT
def test_a_parent_accepts_the_child_benefit_offer_with_one_action(browsing: Browsing, javascript: bool) -> None:
    mother = citizen(given="Ana", family="Joseph", sex="F", born=date(1992, 7, 7))
    register_person(
        REGISTRAR,
        given="Noah",
        family="Joseph",
        sex="M",
        born=timezone.localdate() - timedelta(days=5),
        mother=Registered.objects.get(uin=mother.identifier),
    )
    assert deliveries_run() >= 1
    page = browsing.open(javascript=javascript)
    page.goto(f"{browsing.base}/sign-in?next=/my/inbox")
    sign_in(page, mother)
    assert _path(page.url) == "/my/inbox", page.url
    assert "You can get child benefit for Noah Joseph" in page.locator("#messages").inner_text()

    submit(page, page.locator("#offers").get_by_role("link", name="Child benefit: Noah Joseph"))
    submit(page, page.locator("#accept"), re.compile(r"^/my/applications/A-[A-Z0-9]+$"))

    assert "Done" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == "Automatically, because every check passed"
    assert page.locator("#documents").get_by_role("link", name="Child benefit award").count() == 1
    assert Benefit.objects.filter(claimant_uin=mother.identifier, kind="child-benefit", status="active").count() == 1
    assert Offer.objects.get(uin=mother.identifier).state == Offer.State.ACCEPTED
    visit(page, f"{browsing.base}/my/inbox")
    assert page.locator("#offers").count() == 0
    browsing.assert_no_violations()


# --- 4. an officer asks for more ------------------------------------------------------------------


@JAVASCRIPT
def test_an_officer_asks_an_older_driver_for_more_and_approves(browsing: Browsing, javascript: bool) -> None:
    driver = citizen(born=_aged(80.5))
    licence = registers.licence_issue(uin=driver.identifier, issued_on=date(2016, 1, 1))
    officer = _officer("officer.lta", agency="licensing")

    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/services/renew-driving-licence")
    reference = start_service(page, driver, "renew-driving-licence")
    answer(page, {"health": "No", "email": ""})
    check_and_send(page, reference, [licence.number])
    assert "Application sent" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").count() == 0
    # The driver is told why a person decides, and what happens next.
    assert "aged 75 and over renew with an officer" in page.locator("#officer-why").inner_text()
    assert "An officer will decide by" in page.locator("#what-next").inner_text()

    desk = browsing.open(javascript=True)
    desk.goto(f"{browsing.base}/sign-in?next=/office/cases/")
    sign_in(desk, officer)
    assert _path(desk.url) == "/office/cases/", desk.url
    submit(desk, desk.get_by_role("link", name=reference, exact=True), f"/office/cases/{reference}")
    desk.get_by_label("Why are you opening this case?").fill("Deciding the renewal of a driver over 75")
    submit(desk, desk.get_by_role("button", name="Open the case"), f"/office/cases/{reference}")
    facts = desk.locator("main").inner_text()
    assert "Parish of address" in facts and "address_parish" not in facts and "recorded_at" not in facts
    desk.get_by_label("What information do you need?").fill("Send a medical report from your doctor.")
    submit(desk, desk.get_by_role("button", name="Ask for more information"), f"/office/cases/{reference}")
    assert "asked for more information" in desk.locator("main [role=status]").first.inner_text()

    visit(page, f"{browsing.base}/my/applications/{reference}")
    assert "Send a medical report from your doctor." in page.locator("#info-request").inner_text()
    page.fill("#response", "My doctor sent report DR-55 today.")
    submit(page, page.locator("#respond"), f"/my/applications/{reference}")
    assert page.locator("#info-request").count() == 0
    assert "My doctor sent report DR-55 today." in page.locator("#history").inner_text()

    visit(desk, f"{browsing.base}/office/cases/{reference}")
    assert "My doctor sent report DR-55 today." in desk.locator("main").inner_text()
    desk.get_by_label("Reason for the decision").fill("Medical report DR-55 says fit to drive.")
    submit(desk, desk.get_by_role("button", name="Approve", exact=True), f"/office/cases/{reference}")
    assert "is approved" in desk.locator("main [role=status]").first.inner_text()

    visit(page, f"{browsing.base}/my/applications/{reference}")
    assert "Done" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == "An officer"
    assert "Medical report DR-55 says fit to drive." in page.locator("#reasons").inner_text()
    submit(page, page.locator("#documents").get_by_role("link", name="Driving licence"))
    assert page.locator("#status").inner_text() == "Valid"
    assert page.locator("#payload").input_value()
    licence.refresh_from_db()
    assert licence.expires_on > timezone.localdate() + timedelta(days=365 * 9)
    browsing.assert_no_violations()


# --- 5. tell us once ------------------------------------------------------------------------------


@JAVASCRIPT
def test_a_death_reported_once_closes_the_licence_and_benefit(browsing: Browsing, javascript: bool) -> None:
    parent = register_person(REGISTRAR, given="Joseph", family="Lawrence", sex="M", born=date(1950, 3, 3))
    informant = citizen(given="Grace", family="Lawrence", born=date(1980, 4, 4), father=parent)
    licence = registers.licence_issue(uin=parent.uin)
    Benefit.objects.create(kind="pension", claimant_uin=parent.uin, started_on=date(2025, 1, 1), weekly_amount=9000)

    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/")
    submit(page, page.get_by_role("link", name="Death and bereavement"), "/life/death-and-bereavement")
    submit(page, page.get_by_role("link", name="Report a death"), "/services/report-death")
    reference = start_service(page, informant, "report-death")
    answer(
        page,
        {
            "deceased_uin": parent.uin,
            "death_date": timezone.localdate() - timedelta(days=1),
            "place_parish": "XA-01",
            "relationship": "Mother or father",
            "email": "",
        },
    )
    check_and_send(page, reference, [parent.uin, "Mother or father"])
    assert "Application approved" in page.locator("#confirmation").inner_text()

    registrar_registers(reference)

    licence.refresh_from_db()
    assert licence.status == "closed"
    assert Benefit.objects.get(claimant_uin=parent.uin).status == "closed"
    visit(page, f"{browsing.base}/my/")
    submit(page, page.get_by_role("link", name="Inbox"), "/my/inbox")
    told = page.locator("#messages li", has_text="The death of Joseph Lawrence is registered")
    assert told.count() == 1, page.locator("#messages").inner_text()
    body = told.inner_text()
    assert f"driving licence {licence.number} closed" in body and "pension stopped" in body, body
    visit(page, f"{browsing.base}/my/applications/{reference}")
    assert "Done" in page.locator("#confirmation").inner_text()
    browsing.assert_no_violations()


# --- 6. languages ---------------------------------------------------------------------------------


@JAVASCRIPT
def test_the_footer_switches_the_language_of_the_page(browsing: Browsing, javascript: bool) -> None:
    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/")
    assert page.locator("html").get_attribute("lang") == "en"
    for code in ("es", "fr", "nl", "en"):
        submit(page, page.locator(f"footer button[name=language][value={code}]"), "/")
        assert page.locator("html").get_attribute("lang") == code
        assert page.locator(f"footer button[name=language][value={code}]").is_disabled()
    browsing.assert_no_violations()


# --- 8. page weight -------------------------------------------------------------------------------


def weigh(page: Page, url: str) -> tuple[int, list[str]]:
    """Load the page and add up the bodies of every response it took, redirects included."""
    responses: list[Response] = []

    def record(response: Response) -> None:
        responses.append(response)

    page.on("response", record)
    try:
        visit(page, url)
        page.wait_for_load_state("load")
    finally:
        page.remove_listener("response", record)
    sizes = [(r.url, r.request.sizes()["responseBodySize"]) for r in responses]
    return sum(size for _, size in sizes), [f"{size:>7} B  {_path(url)}" for url, size in sizes]


@JAVASCRIPT
def test_the_home_a_question_and_the_profile_weigh_at_most_100_kb(browsing: Browsing, javascript: bool) -> None:
    driver = citizen(born=date(1983, 8, 8))
    licence = registers.licence_issue(uin=driver.identifier)
    page = browsing.open(javascript=javascript)
    weights: dict[str, tuple[int, list[str]]] = {"home": weigh(page, f"{browsing.base}/")}

    submit(page, page.get_by_role("link", name="Renew a driving licence"), "/services/renew-driving-licence")
    reference = start_service(page, driver, "renew-driving-licence")
    weights["question"] = weigh(page, f"{browsing.base}/apply/{reference}/q/licence_number")
    assert page.get_by_label("What is your driving licence number?").count() == 1
    weights["profile"] = weigh(page, f"{browsing.base}/my/profile")
    assert licence.number in page.locator("#licences ~ table").first.inner_text()

    for name, (total, _) in weights.items():
        print(f"page weight, JavaScript {'on' if javascript else 'off'}: {name} {total} bytes")
    heavy = {name: lines for name, (total, lines) in weights.items() if total > MAX_PAGE_BYTES}
    assert not heavy, f"pages over {MAX_PAGE_BYTES} bytes: {heavy}"
    browsing.assert_no_violations()
