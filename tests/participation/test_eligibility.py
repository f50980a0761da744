"""Eligibility is asked of the civil registry when a signed-in person opens an open process's page:
the page says at once who may not take part, and a ballot sent afterwards finds the answer kept (the
registry is not read again for it). A refusal is said on the page and kept nowhere."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.exchange.contracts import data_uses_for
from gov21.participation.models import Ballot, Eligibility
from tests.identity.flows import citizen, csrf_from, portal_sign_in
from tests.participation.helpers import process

pytestmark = pytest.mark.django_db


def _reads(uin: str) -> int:
    return len([u for u in data_uses_for(subject=uin) if u["client"].endswith("DGO/participation")])


def test_opening_the_page_reads_eligibility_once_and_the_ballot_uses_the_answer_kept(client: Client) -> None:
    process("budget", parish="XA-01")
    voter = citizen()
    portal_sign_in(client, voter, next_url="/participation/p/")
    page = client.get("/participation/p/").content.decode()
    assert 'id="refusal"' not in page and _reads(voter.identifier) == 1

    cast = client.post("/participation/p/ballot", {"projects": ["park"], "csrfmiddlewaretoken": csrf_from(page)})
    again = client.post("/participation/p/ballot", {"projects": ["lights"], "csrfmiddlewaretoken": csrf_from(page)})

    assert cast.status_code == 200 and again.status_code == 200
    assert _reads(voter.identifier) == 1
    assert Ballot.objects.get().projects == ["lights"] and Eligibility.objects.count() == 1


def test_a_resident_of_another_parish_is_told_on_opening_the_page_and_nothing_is_kept(client: Client) -> None:
    process("budget", parish="XA-02")
    voter = citizen()
    portal_sign_in(client, voter, next_url="/participation/p/")
    page = client.get("/participation/p/").content.decode()

    assert 'id="refusal"' in page and "Only residents of the parish may take part in this process." in page
    assert not Eligibility.objects.exists()
    client.get("/participation/p/")
    assert _reads(voter.identifier) == 2
