"""Who used my data, in a real browser with JavaScript on and off: each use in words, the technical
identifiers behind a disclosure that opens without JavaScript, and no serious accessibility problem."""

from __future__ import annotations

import pytest

from gov21.exchange.contracts import exchange_call
from tests.browser import test_services_flows as flows
from tests.browser.test_services_flows import JAVASCRIPT, Browsing, sign_in, visit
from tests.identity.flows import citizen

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

_services = flows._services
auditor = flows.auditor
browsing = flows.browsing


@JAVASCRIPT
def test_a_citizen_reads_who_used_their_data_and_opens_the_details(browsing: Browsing, javascript: bool) -> None:
    person = citizen()
    page = browsing.open(javascript=javascript)
    page.goto(f"{browsing.base}/sign-in?next=/my/data-uses")
    sign_in(page, person)
    exchange_call(
        client="XA/GOV/MSD/benefits",
        service="XA/GOV/CRO/civil-registry/persons",
        path=f"/{person.identifier}",
        issue="Benefit claim 17",
        user_id="XA-officer-3",
    )
    visit(page, f"{browsing.base}/my/data-uses")

    newest = page.locator("#exchange-uses tbody tr").first
    shown = newest.inner_text()
    assert "Ministry of Social Development" in shown and "Official XA-officer-3" in shown
    assert "Your record in the civil registry" in shown and "Benefit claim 17" in shown
    request = newest.get_by_text(f"GET /{person.identifier}")
    assert not request.is_visible()  # the identifiers wait behind the disclosure

    newest.get_by_text("Technical details").click()

    assert request.is_visible()
    assert newest.get_by_text("XA/GOV/MSD/benefits").is_visible()
    browsing.assert_no_violations()
