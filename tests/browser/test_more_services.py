"""The one-stop shop's other services in a real browser, each journey with JavaScript on and off: tell us
you have moved, register a business name paid online, order a certified copy paid at a counter, give
notice of a marriage; and a change of address from start to finish in Spanish. axe-core checks every
page of ours visited (never the payment provider's hosted page: it is not ours)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page

from gov21.exchange.pubsub import deliveries_run
from gov21.onestop.models import Application, Business
from gov21.registry.models import LifeEvent
from gov21.registry.models import Person as Registered
from tests.browser import test_services_flows as flows
from tests.browser.test_services_flows import (
    JAVASCRIPT,
    REGISTRAR,
    Browsing,
    _officer,
    _path,
    answer,
    check_and_send,
    sign_in,
    start_service,
    submit,
    visit,
)
from tests.identity.flows import Person, citizen
from tests.onestop import conftest as services_conftest
from tests.onestop.payprovider import LoopbackPayProvider
from tests.registry.factories import register_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Fixtures of other modules, made visible here: pytest looks a fixture up by its name in the test's
# module. The browser journeys' (axe-core audit, one browser context per person, service definitions
# loaded) and the loopback payment provider's.
_services = flows._services
auditor = flows.auditor
browsing = flows.browsing
pay_provider = services_conftest.pay_provider

AUTOMATIC = "Automatically, because every check passed"


def send_with_fee(page: Page, reference: str, shown: list[str]) -> None:
    """Check the answers of a service with a fee and send: the next page asks how to pay."""
    assert _path(page.url) == f"/apply/{reference}/check", page.url
    answers = page.locator("#answers").inner_text()
    for text in shown:
        assert text in answers, answers
    assert "Verified" in page.locator("#verified").inner_text()
    submit(page, page.locator("#send"), f"/apply/{reference}/pay")


def pay_online(page: Page, provider: LoopbackPayProvider, reference: str, amount: str) -> None:
    """On the pay page: by card, at the provider's hosted page (not ours: axe-core is not run
    there), then back to the application."""
    page.get_by_label("Online, by card").check()
    with page.expect_navigation():
        page.locator("#pay").click()
    assert page.url.startswith(f"{provider.url}/pay/"), page.url
    assert page.locator("#amount").inner_text() == amount
    submit(page, page.get_by_role("button", name="Pay", exact=True), f"/my/applications/{reference}")


def officer_opens(desk: Page, base: str, officer: Person, reference: str, purpose: str) -> None:
    """The officer signs in, finds the case in the queue and opens it, saying why."""
    desk.goto(f"{base}/sign-in?next=/office/cases/")
    sign_in(desk, officer)
    assert _path(desk.url) == "/office/cases/", desk.url
    submit(desk, desk.get_by_role("link", name=reference, exact=True), f"/office/cases/{reference}")
    desk.get_by_label("Why are you opening this case?").fill(purpose)
    submit(desk, desk.get_by_role("button", name="Open the case"), f"/office/cases/{reference}")


def officer_approves(desk: Page, reference: str, reason: str) -> None:
    desk.get_by_label("Reason for the decision").fill(reason)
    submit(desk, desk.get_by_role("button", name="Approve", exact=True), f"/office/cases/{reference}")
    assert "is approved" in desk.locator("main [role=status]").first.inner_text()


# --- 1. a change of address -----------------------------------------------------------------------


@JAVASCRIPT
def test_a_citizen_who_moved_tells_us_once_and_the_profile_shows_the_new_address(
    browsing: Browsing, javascript: bool
) -> None:
    mover = citizen(given="Ruth", family="Alexis", born=date(1979, 5, 5))
    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/")
    page.get_by_label("Search for a service").fill("moving")
    submit(page, page.get_by_role("button", name="Search", exact=True), "/services")
    submit(page, page.get_by_role("link", name="Tell us you have moved"), "/services/change-of-address")

    reference = start_service(page, mover, "change-of-address")
    answer(
        page,
        {
            "parish": "XA-04",
            "settlement": "Mango Walk",
            "line": "12 Harbour Road",
            "moved_on": timezone.localdate() - timedelta(days=3),
            "email": "",
        },
    )
    check_and_send(page, reference, ["Windward", "Mango Walk", "12 Harbour Road"])

    assert "Done" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == AUTOMATIC
    told = page.locator("#next-steps").inner_text()
    assert "agencies that use your address" in told and "have been told" in told, told
    assert page.locator("#documents").count() == 0

    submit(page, page.get_by_role("link", name="Your account"), "/my/")
    submit(page, page.get_by_role("link", name="My profile"), "/my/profile")
    registry = page.locator("#person + dl")
    address = registry.locator("dt:has-text('Address') + dd").inner_text()
    assert address == "12 Harbour Road, Mango Walk, Windward", address
    assert "1 Bay Street" not in registry.inner_text()
    # Read now through the exchange, from the civil registry, named in words.
    assert "Source: Civil Registration Office" in page.locator("#person ~ p.hint").first.inner_text()

    assert deliveries_run() >= 1
    visit(page, f"{browsing.base}/my/inbox")
    assert "Your address was changed in the civil registry" in page.locator("#messages").inner_text()
    browsing.assert_no_violations()


# --- 2. a business name, paid online --------------------------------------------------------------


@JAVASCRIPT
def test_a_business_name_paid_online_is_registered_automatically_once(
    browsing: Browsing, javascript: bool, pay_provider: LoopbackPayProvider, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_PAY_URL", pay_provider.url)
    monkeypatch.setenv("GOV21_PAY_KEY", pay_provider.key)
    owner = citizen(given="Kim", family="Thomas", born=date(1988, 9, 9))
    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/")
    page.get_by_label("Search for a service").fill("business")
    submit(page, page.get_by_role("button", name="Search", exact=True), "/services")
    submit(page, page.get_by_role("link", name="Register a business name"), "/services/register-business-name")

    reference = start_service(page, owner, "register-business-name")
    answer(
        page,
        {
            "business_name": "Windward Kayaks Ltd.",
            "activity": "Kayak hire and tours",
            "address": "3 Beach Road, Mango Walk",
            "email": "",
        },
    )
    send_with_fee(page, reference, ["Windward Kayaks Ltd.", "Kayak hire and tours"])
    assert "XCD 30.00" in page.locator("h1").inner_text()
    pay_online(page, pay_provider, reference, "30.00")

    assert "Done" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == AUTOMATIC
    assert Business.objects.get(owner_uin=owner.identifier).name == "Windward Kayaks Ltd."

    visit(page, f"{browsing.base}/my/documents")
    row = page.locator("#documents tbody tr", has_text="Certificate of registration of a business name")
    assert row.count() == 1, page.locator("#documents").inner_text()
    submit(page, row.get_by_role("link"), re.compile(r"^/my/documents/[A-Z0-9-]+$"))
    assert page.locator("#status").inner_text() == "Valid"
    assert "Windward Kayaks Ltd." in page.locator("#facts").inner_text()
    submit(page, page.locator("#verify"), "/verify")
    result = page.locator("[data-status]")
    assert result.get_attribute("data-status") == "valid", result.inner_text()
    assert "genuine and valid" in result.inner_text()

    # Someone else asks for the same name, cased and punctuated differently: it is not registered
    # automatically, even once paid, but goes to an officer.
    rival = citizen(given="Leon", family="Pierre", born=date(1990, 10, 10))
    other = browsing.open(javascript=javascript)
    visit(other, f"{browsing.base}/services/register-business-name")
    second = start_service(other, rival, "register-business-name")
    answer(
        other,
        {"business_name": "WINDWARD kayaks ltd", "activity": "Kayaks", "address": "Anse Corail", "email": ""},
    )
    send_with_fee(other, second, ["WINDWARD kayaks ltd"])
    pay_online(other, pay_provider, second, "30.00")

    assert "Application sent" in other.locator("#confirmation").inner_text()
    assert other.locator("#state").inner_text() == "With an officer"
    assert other.locator("#decided-by").count() == 0
    assert other.locator("#documents").count() == 0
    application = Application.objects.get(reference=second)
    assert application.state == Application.State.IN_REVIEW
    assert {c["rule"]: c["passed"] for c in application.checks}["name_free"] is False
    assert list(Business.objects.values_list("name", flat=True)) == ["Windward Kayaks Ltd."]
    browsing.assert_no_violations()


# --- 3. a certified copy, paid at a counter -------------------------------------------------------


@JAVASCRIPT
def test_a_parent_orders_a_birth_certificate_copy_paid_at_the_counter(
    browsing: Browsing, javascript: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GOV21_PAY_URL", raising=False)
    parent = citizen(given="Alma", family="Grant", sex="F", born=date(1987, 3, 3))
    mother = Registered.objects.get(uin=parent.identifier)
    child = register_person(REGISTRAR, given="Iris", family="Grant", born=date(2019, 4, 4), mother=mother)
    number = LifeEvent.objects.get(subject=child, kind="birth").number
    assert number and number.startswith("B-"), number
    officer = _officer("officer.cro", agency="civil-registry")

    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/services/certificate-copy")
    reference = start_service(page, parent, "certificate-copy")
    answer(page, {"kind": "Birth certificate", "number": number.lower(), "relationship": "My child's"})
    send_with_fee(page, reference, ["Birth certificate", number, "My child's"])
    page.get_by_label("At a government office, within 14 days: show your reference").check()
    submit(page, page.locator("#pay"), f"/my/applications/{reference}")
    assert "fee to pay" in page.locator("#confirmation").inner_text()
    assert "Pay at a government office" in page.locator("#counter-payment").inner_text()

    desk = browsing.open(javascript=javascript)
    officer_opens(desk, browsing.base, officer, reference, "Taking the fee at the counter")
    confirm = desk.get_by_role("button", name=re.compile(r"^Confirm payment at the counter"))
    submit(desk, confirm, f"/office/cases/{reference}")
    recorded = desk.locator("main [role=status]").first.inner_text()
    assert "XCD 25.00 is recorded" in recorded and "With an officer" in recorded, recorded
    officer_approves(desk, reference, "The applicant is the mother named in the birth registration.")

    visit(page, f"{browsing.base}/my/applications/{reference}")
    assert "Done" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == "An officer"
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
    browsing.assert_no_violations()


# --- 4. notice of a marriage ----------------------------------------------------------------------


@JAVASCRIPT
def test_a_notice_of_marriage_is_approved_by_a_registrar(browsing: Browsing, javascript: bool) -> None:
    bride = citizen(given="Nadia", family="Felix", sex="F", born=date(1993, 1, 13))
    groom = register_person(REGISTRAR, given="Omar", family="Daniel", sex="M", born=date(1991, 11, 21))
    officer = _officer("registrar.cro", agency="civil-registry")
    wedding = timezone.localdate() + timedelta(days=40)

    page = browsing.open(javascript=javascript)
    visit(page, f"{browsing.base}/")
    submit(page, page.get_by_role("link", name="Getting married"), "/life/getting-married")
    submit(page, page.get_by_role("link", name="Give notice of an intended marriage"), "/services/marriage-notice")
    reference = start_service(page, bride, "marriage-notice")
    answer(
        page,
        {
            "partner_uin": groom.uin,
            "intended_date": wedding,
            "parish": "XA-02",
            "ceremony": "Civil, by a registrar",
            "email": "",
        },
    )
    check_and_send(page, reference, [groom.uin, "Saint Ambrose", "Civil, by a registrar"])
    assert "Application sent" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").count() == 0

    desk = browsing.open(javascript=javascript)
    officer_opens(desk, browsing.base, officer, reference, "Deciding the notice of marriage")
    case = desk.locator("main").inner_text()
    assert "Neither of you is married in the civil registry." in case
    assert "Omar" in case  # the partner's record, fetched from the registry
    officer_approves(desk, reference, "Both are free to marry; the notice is published for 15 days.")

    visit(page, f"{browsing.base}/my/applications/{reference}")
    assert "Done" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == "An officer"
    assert "Both are free to marry" in page.locator("#reasons").inner_text()
    submit(page, page.locator("#documents").get_by_role("link", name="Notice of intended marriage"))
    assert page.locator("#status").inner_text() == "Valid"
    facts = page.locator("#facts").inner_text()
    assert groom.uin in facts and wedding.isoformat() in facts and "Saint Ambrose" in facts, facts
    assert page.locator("#payload").input_value()
    browsing.assert_no_violations()


# --- 5. in Spanish --------------------------------------------------------------------------------


def test_a_change_of_address_in_spanish_without_javascript(browsing: Browsing) -> None:
    mover = citizen(given="Lucía", family="Romero", born=date(1984, 2, 20))
    page = browsing.open(javascript=False)
    page.goto(f"{browsing.base}/sign-in?next=/")
    sign_in(page, mover)
    assert _path(page.url) == "/", page.url
    submit(page, page.locator("footer button[name=language][value=es]"), "/")
    assert page.locator("html").get_attribute("lang") == "es"

    visit(page, f"{browsing.base}/services/change-of-address")
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Avísenos de que se ha mudado"
    start = page.locator("main").inner_text()
    assert "Antes de empezar" in start and "Necesita su nuevo domicilio" in start, start
    assert "Empezar ahora" in page.locator("#start").inner_text()
    submit(page, page.locator("#start"), re.compile(r"^/apply/A-[A-Z0-9]+/consent$"))
    reference = _path(page.url).split("/")[2]
    assert "Su nombre y su domicilio actual, del Registro Civil" in page.locator("#sources").inner_text()
    page.check("#agree")
    submit(page, page.locator("#continue"), f"/apply/{reference}")
    submit(page, page.get_by_role("link", name="Responder a las preguntas"), f"/apply/{reference}/q/parish")

    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "¿En qué parroquia está su nuevo domicilio?"
    assert page.locator("#continue").inner_text() == "Continuar"
    answer(page, {"parish": "XA-05", "settlement": "", "line": "7 Calle del Mar"})
    moved = timezone.localdate() - timedelta(days=1)
    assert page.locator("h1").inner_text() == "¿Cuándo se mudó?"
    page.get_by_label("Día", exact=True).fill(str(moved.day))
    page.get_by_label("Mes", exact=True).fill(str(moved.month))
    page.get_by_label("Año", exact=True).fill(str(moved.year))
    submit(page, page.locator("#continue"), f"/apply/{reference}/q/email")
    answer(page, {"email": ""})

    assert _path(page.url) == f"/apply/{reference}/check", page.url
    assert page.locator("html").get_attribute("lang") == "es"
    assert page.locator("h1").inner_text() == "Revise sus respuestas antes de enviarlas"
    answers = page.locator("#answers").inner_text()
    assert "Calle y casa" in answers and "7 Calle del Mar" in answers and "Grand Savane" in answers, answers
    assert "Verificado" in page.locator("#verified").inner_text()
    assert page.locator("#send").inner_text() == "Aceptar y enviar"
    submit(page, page.locator("#send"), f"/my/applications/{reference}")

    assert page.locator("html").get_attribute("lang") == "es"
    assert "Hecho" in page.locator("#confirmation").inner_text()
    assert page.locator("#decided-by").inner_text() == "Automáticamente, porque se cumplieron todas las comprobaciones"
    assert "Avísenos de que se ha mudado" in page.locator("main").inner_text()
    told = page.locator("#next-steps").inner_text()
    assert told.startswith("Su domicilio ha cambiado en el Registro Civil.") and "no necesita avisarles" in told, told
    assert Application.objects.get(reference=reference).language == "es"
    browsing.assert_no_violations()
