"""Ratings given after an application ("rate this service") feed the service's numbers in the back
office: how many rated it, the mean rating and how many wrote a comment."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.onestop import selectors
from gov21.onestop.contracts import feedback_record
from gov21.onestop.definitions import definitions_load
from tests.identity.flows import portal_sign_in, staff

pytestmark = pytest.mark.django_db


def test_ratings_are_counted_and_averaged_by_service_and_shown_to_the_administrator() -> None:
    definitions_load()
    active = selectors.definition_versions().filter(active=True).first()
    assert active is not None
    code = active.code
    feedback_record(rating=5, comment="", service_code=code, reference="A-1")
    feedback_record(rating=4, comment="Quick & easy", service_code=code, reference="A-2")
    feedback_record(rating=None, comment="A problem on a page", page="/services")

    numbers = selectors.feedback_numbers()

    assert numbers[code].ratings == 2 and numbers[code].average == 4.5 and numbers[code].comments == 1
    assert set(numbers) == {code}  # feedback on a page, not a service, is not a service's rating
    admin = Client()
    portal_sign_in(admin, staff("services.admin1", "administrator"), next_url="/office/services/")
    html = admin.get("/office/services/").content.decode()
    cell = html.split(f'id="rating-{code}-{active.version}">')[1].split("</td>")[0]
    assert cell == "4.5 out of 5 (2 ratings), 1 comment"
