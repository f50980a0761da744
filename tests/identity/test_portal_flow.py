from __future__ import annotations

import time

import pytest
from django.test import Client

from gov21.core import capacity
from gov21.core.capacity import Gate
from gov21.identity import totp
from tests.identity.flows import Person, citizen, portal_sign_in, staff

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


def _wait_for_code_step(client: Client, person: Person) -> None:
    response = client.post(
        "/auth/sign-in", {"identifier": person.identifier, "password": person.password, "next": "/auth/account"}
    )
    assert response.status_code == 302 and response["Location"].startswith("/auth/verify")


def test_a_code_step_refused_in_a_surge_keeps_the_sign_in_for_the_code_the_app_shows_later(client: Client) -> None:
    person = citizen()
    _wait_for_code_step(client, person)
    full = Gate(name="requests", slots=1, queue=0, wait_s=0, retry_after=5)  # no lane left either
    saved = capacity.REQUESTS
    capacity.REQUESTS = full  # type: ignore[misc]
    full.enter(lambda seconds: "")
    try:
        refused = client.post("/auth/verify", {"code": person.code(), "next": "/auth/account"}, HTTP_ACCEPT="text/html")
        assert refused.status_code == 503 and refused["Retry-After"] == "5"
        full.leave()
        # After the wait the person reads their app again: a newer code, same sign-in.
        response = client.post("/auth/verify", {"code": person.code(), "next": "/auth/account"})
    finally:
        capacity.REQUESTS = saved  # type: ignore[misc]
    assert response.status_code == 302 and response["Location"] == "/auth/account"
    assert client.get("/auth/account").status_code == 200


def test_a_code_that_ran_out_is_refused_and_the_current_one_still_finishes_the_sign_in(client: Client) -> None:
    person = citizen()
    _wait_for_code_step(client, person)
    stale = totp.hotp(totp._key(person.secret), totp.step_at(time.time()) - 3)  # read 90 s ago

    refused = client.post("/auth/verify", {"code": stale, "next": "/auth/account"})
    assert refused.status_code == 422
    assert 'name="code"' in refused.content.decode()  # asked again, not sent back to the password

    response = client.post("/auth/verify", {"code": person.code(), "next": "/auth/account"})
    assert response.status_code == 302 and response["Location"] == "/auth/account"
