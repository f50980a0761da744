"""A refused driver asks for a review in a real browser, checks the request before sending it, reads
what happens next, and later reads the outcome an officer who did not refuse decided."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from gov21.core.principal import Principal
from gov21.onestop import definitions, registers
from gov21.onestop import services as engine
from gov21.onestop.models import Application, ReviewRequest
from tests.browser.test_registrar_flow import _axe_source, _serious_violations
from tests.identity.flows import Person, citizen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def _licensing(name: str) -> Principal:
    return Principal(
        name=name,
        kind="staff",
        roles=frozenset({"case_officer"}),
        agencies=frozenset({"licensing"}),
        grants=frozenset({("case_officer", "licensing")}),
    )


def _refused() -> tuple[Person, Application]:
    definitions.definitions_load()
    person = citizen(born=date(1940, 3, 1))
    licence = registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    uin = person.identifier
    application = engine.application_start(service="renew-driving-licence", uin=uin, user_id=None)
    application = engine.application_consent(application=application, uin=uin)
    for question, value in {"licence_number": licence.number, "health": "no"}.items():
        application = engine.application_answer(application=application, uin=uin, question_id=question, raw=value)
    application = engine.application_submit(application=application, uin=uin)
    engine.case_decide(
        principal=_licensing("officer.lta"),
        reference=application.reference,
        approve=False,
        reason="No medical report was sent.",
    )
    return person, application


def _sign_in(page: Page, base: str, person: Person, next_url: str) -> None:
    page.goto(f"{base}/sign-in?next={next_url}")
    page.fill("#identifier", person.identifier)
    page.fill("#password", person.password)
    page.get_by_role("button", name="Continue", exact=True).click()
    page.fill("#code", person.code())
    page.get_by_role("button", name="Confirm", exact=True).click()
    page.wait_for_url(re.compile(r"/(oidc/authorize|my/applications/).*"))
    if "/oidc/authorize" in page.url:
        page.click("#allow")
    page.wait_for_url(re.compile(re.escape(next_url) + "$"))


def test_a_refused_driver_asks_for_a_review_and_reads_the_outcome(page: Page, live_server: LiveServer) -> None:
    person, application = _refused()
    page_url = f"/my/applications/{application.reference}"
    _sign_in(page, live_server.url, person, page_url)

    expect(page.locator("#reasons")).to_contain_text("No medical report was sent.")
    page.get_by_role("link", name="Ask for a review").click()
    expect(page.get_by_role("heading", name="Ask for a review of the decision")).to_be_visible()
    page.locator("#review-continue").click()
    expect(page.locator(".error-summary")).to_contain_text("Say what you disagree with in the decision.")
    axe, _origin = _axe_source()
    problems: dict[str, list[str]] = {}
    if axe is not None:
        problems["review form with an error"] = _serious_violations(page, axe)
    page.get_by_label("What do you disagree with in the decision?").fill("I posted the medical report on 2 March.")
    page.get_by_label("New information (optional)").fill("Report DR-55 from Dr Auguste.")
    page.locator("#review-continue").click()

    expect(page.get_by_role("heading", name="Check your request before sending it")).to_be_visible()
    expect(page.locator("#review-disagreement")).to_contain_text("I posted the medical report on 2 March.")
    assert not ReviewRequest.objects.exists()
    if axe is not None:
        problems["review to check"] = _serious_violations(page, axe)
    page.get_by_role("button", name="Ask for the review").click()

    expect(page.locator("#review-next")).to_contain_text("An officer other than the one who made the decision")
    expect(page.locator("#review-next")).to_contain_text("10 working days")
    expect(page.locator("#state")).to_contain_text("Review requested")
    expect(page.get_by_role("link", name="Ask for a review")).to_have_count(0)
    if axe is not None:
        problems["review requested"] = _serious_violations(page, axe)
    assert not any(problems.values()), problems

    engine.case_review_request_decide(
        principal=_licensing("officer.two"),
        reference=application.reference,
        upheld=True,
        reason="No report reached the licensing office.",
    )
    page.reload()
    expect(page.locator("#review-outcome")).to_contain_text("The refusal is upheld: the decision stands.")
    expect(page.locator("#review-reason")).to_contain_text("No report reached the licensing office.")
    expect(page.locator("#state")).to_contain_text("Refused")
