"""Claims released at userinfo: read from the civil registry through the exchange, kept a short while
for a token that asks again, and every release listed among the person's data uses."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from gov21.exchange.contracts import data_uses_for, log_chains_verify
from gov21.exchange.models import LogEntry
from gov21.identity import claims
from gov21.identity.models import OAuthToken
from tests.identity.flows import access_token_of, citizen

pytestmark = pytest.mark.django_db


def _userinfo(token: str) -> Any:
    return Client().get("/oidc/userinfo", headers={"Authorization": f"Bearer {token}"})


def _releases(uin: str) -> int:
    return sum(1 for use in data_uses_for(subject=uin) if str(use["user_id"]).startswith("oidc:"))


def test_asking_again_with_one_token_releases_the_same_claims_and_lists_every_release() -> None:
    person = citizen()
    token = access_token_of(person)
    first = _userinfo(token)
    releases, messages = _releases(person.identifier), LogEntry.objects.count()

    again = [_userinfo(token) for _ in range(3)]

    assert [response.status_code for response in again] == [200, 200, 200]
    assert all(response.json() == first.json() for response in again)
    assert first.json()["family_name"]
    assert _releases(person.identifier) == releases + 3, "a release was not recorded for the person"
    assert LogEntry.objects.count() == messages, "the registry was read again for a token whose read is kept"
    assert all(check["ok"] for check in log_chains_verify())


def test_once_the_kept_read_is_older_than_allowed_the_registry_is_read_again(monkeypatch: pytest.MonkeyPatch) -> None:
    person = citizen()
    token = access_token_of(person)
    monkeypatch.setattr(claims, "READ_KEPT_S", 0.0)
    messages = LogEntry.objects.count()

    assert _userinfo(token).status_code == 200

    assert LogEntry.objects.count() == messages + 2  # the identity agency's and the registry's gateway


def test_a_revoked_token_gets_nothing_though_its_read_is_still_kept() -> None:
    person = citizen()
    token = access_token_of(person)
    assert _userinfo(token).status_code == 200
    releases = _releases(person.identifier)
    OAuthToken.objects.filter(account=person.account).update(revoked_at=timezone.now())

    response = _userinfo(token)

    assert response.status_code == 401 and "sub" not in response.json()
    assert _releases(person.identifier) == releases


def test_a_worker_lets_go_of_reads_older_than_they_may_be_released_again(monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept reads are persons' records: a worker holds those of the last READ_KEPT_S, not thousands."""
    monkeypatch.setattr(claims, "_reads", type(claims._reads)())
    old = claims._Read({"family_name": "Old"}, "m1", at=1000.0)
    claims._keep(("t1", "u1"), old)
    claims._keep(("t2", "u2"), claims._Read({"family_name": "Recent"}, "m2", at=1000.0 + claims.READ_KEPT_S - 1))
    assert list(claims._reads) == [("t1", "u1"), ("t2", "u2")]

    claims._keep(("t3", "u3"), claims._Read({"family_name": "New"}, "m3", at=1000.0 + claims.READ_KEPT_S))

    assert list(claims._reads) == [("t2", "u2"), ("t3", "u3")]
