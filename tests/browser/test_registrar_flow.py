"""A registrar's day in a real browser: sign in, declare a birth, take it to a certificate, and check the
certificate as a member of the public would. Also an accessibility check (axe-core) of the main pages."""

from __future__ import annotations

import os
import re
import tempfile
from datetime import date, timedelta
from pathlib import Path

import pytest
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import Person
from tests.identity.flows import staff
from tests.registry.factories import register_person

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REGISTRAR = Principal(name="setup", kind="staff", roles=frozenset({"registrar"}))
SCREENSHOT = Path(tempfile.gettempdir()) / "office.png"


def _sign_in(page: Page, base: str) -> None:
    """Through the OpenID Connect provider: password, authenticator code, consent, back office."""
    person = staff("desk.browser", "registrar")
    page.goto(f"{base}/sign-in?next=/office/registry/")
    page.fill("#identifier", person.identifier)
    page.fill("#password", person.password)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#code", person.code())
    page.get_by_role("button", name="Confirm").click()
    page.click("#allow")
    page.wait_for_url(re.compile(r"/office/registry/$"))


def _mother() -> Person:
    return register_person(REGISTRAR, given="Marie", family="Charles", born=date(1990, 5, 6))


def _fill_birth(page: Page, mother: Person, born: date) -> None:
    page.get_by_label("Child's given names").fill("Aline Rose")
    page.get_by_label("Child's family name").fill("Charles")
    page.get_by_label("Female").check()
    page.get_by_label("Day").fill(str(born.day))
    page.get_by_label("Month").fill(str(born.month))
    page.get_by_label("Year").fill(str(born.year))
    parish = page.locator("#birth_parish")
    if parish.evaluate("e => e.tagName") == "SELECT":
        parish.select_option("XA-02")
    else:
        parish.fill("XA-02")
    page.get_by_label("Town or village of birth").fill("Mango Walk")
    page.get_by_label("Mother's UIN").fill(mother.uin)
    page.get_by_label("Informant").fill("The mother")


def _status(page: Page) -> str:
    return str(page.locator("main [role=status]").first.inner_text())


def test_declare_register_certify_and_verify(page: Page, live_server: LiveServer) -> None:
    mother = _mother()
    _sign_in(page, live_server.url)
    page.get_by_role("link", name="Declare a life event").click()
    page.get_by_role("link", name="Birth").click()

    born = timezone.localdate() - timedelta(days=4)
    _fill_birth(page, mother, born)
    page.get_by_role("button", name="Continue", exact=True).click()

    # Check the answers: in words, each with a way back to change it, which keeps the others.
    answers = page.locator("#check-answers")
    expect(answers).to_contain_text("Saint Ambrose (XA-02)")
    expect(answers).to_contain_text("Female")
    expect(answers).to_contain_text(str(born.year))
    page.get_by_role("link", name="Change Child's given names").click()
    expect(page.get_by_label("Child's given names")).to_have_value("Aline Rose")
    expect(page.get_by_label("Mother's UIN")).to_have_value(mother.uin)
    page.get_by_label("Child's given names").fill("Aline Marie")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("#check-answers")).to_contain_text("Aline Marie")
    page.get_by_role("button", name="Declare the birth").click()
    expect(page.locator("main [role=status]").first).to_contain_text("Declaration received")

    page.get_by_role("button", name="Validate").click()
    assert "validated" in _status(page)
    page.get_by_role("button", name="Register").click()
    assert re.search(r"Registered with number B-\d{4}-\d+", _status(page))
    page.get_by_role("button", name="Issue certificate").click()
    assert re.search(r"Certificate BC-\S+ issued", _status(page))
    page.screenshot(path=str(SCREENSHOT), full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name=re.compile("Download certificate")).click()
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF")

    page.get_by_text("Show the QR code and the text it holds").click()
    credential = page.get_by_test_id("credential").inner_text().strip()
    assert credential.startswith("GOV21:")

    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Code from the document").fill(credential)
    page.get_by_role("button", name="Check the code").click()
    result = page.locator("[data-status]")
    assert result.get_attribute("data-status") == "valid"
    assert result.get_by_role("heading").first.inner_text() == "Genuine and valid"

    header, payload, signature = credential.removeprefix("GOV21:").split(".")
    middle = len(payload) // 2
    swapped = "B" if payload[middle] == "A" else "A"
    tampered = f"GOV21:{header}.{payload[:middle]}{swapped}{payload[middle + 1 :]}.{signature}"
    page.get_by_label("Code from the document").fill(tampered)
    page.get_by_role("button", name="Check the code").click()
    assert page.locator("[data-status]").get_by_role("heading").first.inner_text() == "Not genuine"


def _axe_source() -> tuple[str | None, str]:
    """axe-core's script, from the axe-playwright-python package when it is installed; ``AXE_CORE_JS`` may
    name an axe.min.js to use instead (for example one installed with npm for a local run)."""
    given = os.environ.get("AXE_CORE_JS")
    if given:
        return Path(given).read_text(encoding="utf-8"), given
    try:
        import axe_playwright_python  # type: ignore[import-not-found]
    except ImportError:
        return None, "axe-core is not available: install axe-playwright-python or set AXE_CORE_JS to axe.min.js"
    found = sorted(Path(axe_playwright_python.__file__).parent.rglob("axe*.js"))
    if not found:
        return None, "axe-playwright-python is installed but holds no axe*.js"
    return found[0].read_text(encoding="utf-8"), str(found[0])


def _serious_violations(page: Page, axe: str) -> list[str]:
    # Evaluated through the browser's debugging protocol: the page's content security policy would
    # block axe-core added as an inline <script>, as it blocks any injected script.
    page.evaluate(axe)
    results = page.evaluate("async () => await axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} at {[n['target'] for n in v['nodes']]}"
        for v in results["violations"]
        if v["impact"] in ("serious", "critical")
    ]


def test_main_pages_have_no_serious_accessibility_problems(page: Page, live_server: LiveServer) -> None:
    axe, origin = _axe_source()
    if axe is None:
        if os.environ.get("CI"):
            pytest.fail(origin)
        pytest.skip(origin)
    mother = _mother()
    services.event_declare(
        declaration=services.declaration_parse(
            kind="birth",
            data={
                "given_names": "Aline",
                "family_name": "Charles",
                "sex": "F",
                "birth_date": (timezone.localdate() - timedelta(days=2)).isoformat(),
                "birth_parish": "XA-02",
                "mother_uin": mother.uin,
            },
        ),
        actor=REGISTRAR,
    )
    _sign_in(page, live_server.url)
    problems: dict[str, list[str]] = {}
    problems["queue"] = _serious_violations(page, axe)

    page.goto(f"{live_server.url}/office/registry/declare/birth")
    page.get_by_label("Mother's UIN").fill(mother.uin[:-1] + str((int(mother.uin[-1]) + 1) % 10))
    page.get_by_role("button", name="Continue", exact=True).click()
    # The answer is awaited: a bare is_visible() would look at the page before the form is answered.
    expect(page.get_by_text("There is a problem")).to_be_visible()
    problems["birth form with errors"] = _serious_violations(page, axe)
    _fill_birth(page, mother, timezone.localdate() - timedelta(days=1))
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("#check-answers")).to_be_visible()
    problems["birth answers to check"] = _serious_violations(page, axe)

    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Code from the document").fill("GOV21:not.a.code")
    page.get_by_role("button", name="Check the code").click()
    problems["verify"] = _serious_violations(page, axe)

    assert not any(problems.values()), problems


def test_a_document_is_checked_from_its_qr_address_or_its_serial_number(page: Page, live_server: LiveServer) -> None:
    from gov21.core.credentials import verification_url
    from gov21.registry.certificates import certificate_code
    from gov21.registry.models import LifeEvent

    person = register_person(REGISTRAR, given="Ophelia", family="Auguste", born=date(2001, 4, 5))
    event = LifeEvent.objects.get(subject=person, kind="birth")
    certificate = services.certificate_issue(event_id=event.pk, actor=REGISTRAR)

    # What a phone's camera opens: the page, already checked, with what the certificate states.
    page.goto(verification_url(certificate_code(certificate)))
    verdict = page.locator("#verdict")
    assert verdict.get_attribute("data-status") == "valid"
    assert verdict.get_by_role("heading").first.inner_text() == "Genuine and valid"
    assert "Ophelia Auguste" in verdict.inner_text()

    # Without a camera: the serial number typed, then a wrong date of birth, then the right one.
    page.goto(f"{live_server.url}/verify")
    page.get_by_label("Serial number").fill(certificate.serial)
    page.get_by_label("Day").fill("6")
    page.get_by_label("Month").fill("4")
    page.get_by_label("Year").fill("2001")
    page.get_by_role("button", name="Check the serial number").click()
    assert page.locator("#verdict").get_by_role("heading").inner_text() == "No such document"
    assert "Ophelia" not in page.locator("main").inner_text()
    page.get_by_label("Day").fill("5")
    page.get_by_role("button", name="Check the serial number").click()
    assert page.locator("#verdict").get_attribute("data-status") == "valid"


def test_a_change_of_name_is_declared_and_a_person_found_from_the_queue(page: Page, live_server: LiveServer) -> None:
    person = register_person(REGISTRAR, given="Philomena", family="Auguste", born=date(1970, 7, 7))
    _sign_in(page, live_server.url)
    page.get_by_role("link", name="Find a person").click()
    page.get_by_label("Why do you need this person's data?").select_option("registration")
    page.get_by_label("UIN or name").fill("Philomena")
    page.get_by_role("button", name="Search").click()
    assert person.uin in page.locator("main table").inner_text()

    page.goto(f"{live_server.url}/office/registry/")
    page.get_by_role("link", name="Declare a life event").click()
    page.get_by_role("link", name="Change of name").click()
    page.get_by_label("UIN of the person changing their name").fill(person.uin)
    on = timezone.localdate() - timedelta(days=1)
    page.get_by_label("Day").fill(str(on.day))
    page.get_by_label("Month").fill(str(on.month))
    page.get_by_label("Year").fill(str(on.year))
    page.get_by_label("New family name (optional)").fill("Joseph")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.get_by_text("Give the reason for the change of name").first).to_be_visible()
    page.get_by_label("Reason for the change").fill("Deed poll")
    page.get_by_role("button", name="Continue", exact=True).click()
    expect(page.locator("#check-answers")).to_contain_text("Deed poll")
    page.get_by_role("button", name="Declare the change of name").click()
    expect(page.locator("main [role=status]").first).to_contain_text("Declaration received")
