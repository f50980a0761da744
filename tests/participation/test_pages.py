"""The citizen's pages: sign in at level substantial, vote in a parish budget and get a receipt,
be told in words when a ballot is over budget or a signature is a second one; light pages."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from gov21.participation.models import Ballot, Signature, StatementVote
from tests.identity.flows import citizen, csrf_from, portal_sign_in
from tests.participation.helpers import process

pytestmark = pytest.mark.django_db

PAGE_LIMIT = 100 * 1024


def _signed_in(client: Client, next_url: str = "/participation/p/") -> str:
    portal_sign_in(client, citizen(), next_url=next_url)
    page = client.get(next_url)
    assert page.status_code == 200 and len(page.content) <= PAGE_LIMIT
    return csrf_from(page.content.decode())


def test_a_resident_votes_in_the_parish_budget_and_a_ballot_over_budget_is_explained(client: Client) -> None:
    process("budget", parish="XA-01")
    token = _signed_in(client)

    over = client.post("/participation/p/ballot", {"projects": ["park", "clinic"], "csrfmiddlewaretoken": token})
    assert over.status_code == 422
    assert "cost more than the budget" in over.content.decode() and not Ballot.objects.exists()

    cast = client.post("/participation/p/ballot", {"projects": ["park", "lights"], "csrfmiddlewaretoken": token})
    assert cast.status_code == 200
    receipt = re.search(r'id="receipt-code">([^<]+)<', cast.content.decode())
    assert receipt is not None
    checked = client.get("/participation/p/", {"receipt": receipt.group(1)}).content.decode()
    assert "Your ballot is counted with these projects: lights, park" in checked


def test_a_second_signature_is_refused_in_words_and_not_counted(client: Client) -> None:
    process("petition")
    token = _signed_in(client)
    first = client.post("/participation/p/sign", {"csrfmiddlewaretoken": token})
    second = client.post("/participation/p/sign", {"csrfmiddlewaretoken": token})

    assert first.status_code == 302
    assert second.status_code == 409 and "You have already signed this petition." in second.content.decode()
    assert Signature.objects.count() == 1
    assert "1 signature" in client.get("/participation/p/").content.decode()


def test_a_visitor_is_sent_to_sign_in_at_level_substantial_and_nothing_is_counted(client: Client) -> None:
    process("petition")
    response = client.post("/participation/p/sign")
    assert response.status_code == 302 and "level=substantial" in response["Location"]
    assert not Signature.objects.exists()


def test_a_participant_votes_on_a_statement_without_javascript(client: Client) -> None:
    from gov21.participation.models import Statement

    process("consultation")
    token = _signed_in(client)
    client.post("/participation/p/statements", {"text": "More buses", "csrfmiddlewaretoken": token})
    statement = Statement.objects.get()
    bad = client.post(f"/participation/p/statements/{statement.pk}/vote", {"view": "7", "csrfmiddlewaretoken": token})
    assert bad.status_code == 422 and "Choose agree, disagree or pass." in bad.content.decode()
    client.post(f"/participation/p/statements/{statement.pk}/vote", {"view": "1", "csrfmiddlewaretoken": token})
    assert list(StatementVote.objects.values_list("value", flat=True)) == [1]
    assert "1 agree, 0 disagree, 0 pass" in client.get("/participation/p/").content.decode()
