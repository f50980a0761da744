from __future__ import annotations

import pytest
from django.test import Client

from tests.identity.flows import citizen, portal_sign_in, staff

pytestmark = pytest.mark.django_db


def test_citizen_signs_in_to_the_portal_and_sees_the_consent(client: Client) -> None:
    person = citizen()
    portal_sign_in(client, person)
    page = client.get("/my/").content.decode()
    assert "Public services portal" in page
    assert "oidc:gov21-portal" in page  # the profile read for the sign-in is in the data-use log


def test_staff_sign_in_reaches_the_office(client: Client) -> None:
    person = staff("desk.one", "registrar")
    portal_sign_in(client, person, next_url="/office/registry/")
    assert client.get("/office/registry/").status_code == 200
