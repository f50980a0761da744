"""A signed-in person's pages and bearer-token answers are never kept by a shared cache."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.identity.flows import citizen

pytestmark = pytest.mark.django_db


@pytest.mark.usefixtures("exchange")  # the counter reads the person's record through the exchange
def test_every_page_a_signed_in_citizen_sees_is_private_and_not_stored(client: Client) -> None:
    person = citizen()
    client.force_login(person.account.user)
    session = client.session
    session["gov21_rp"] = {"sub": "x", "acr": "", "id_token": "", "name": ""}
    session.save()

    response = client.get("/")  # the front door shows who is signed in

    assert response.status_code == 200
    assert {part.strip() for part in response["Cache-Control"].split(",")} >= {"private", "no-store"}


def test_an_api_answer_to_a_bearer_token_is_not_stored(client: Client) -> None:
    response = client.get("/api/v1/registry/persons/2345678901", HTTP_AUTHORIZATION="Bearer not-a-token")

    assert response.status_code == 401
    assert "no-store" in response["Cache-Control"]


def test_a_public_page_may_be_cached(client: Client) -> None:
    response = client.get("/")

    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")
