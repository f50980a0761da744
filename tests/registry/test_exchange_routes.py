"""The civil registry's services on the exchange take a person's authority from the identity
provider's assertion, never from X-Road-UserId; a certified copy never supersedes a certificate.

Every request goes through the real gateway (signed, rights-checked, logged) as the service engine
would send it; assertions come from a real sign-in through OpenID Connect."""

from __future__ import annotations

import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx2
import orjson
import pytest
from django.utils import timezone

from gov21.core.crypto import KeyStore, random_token
from gov21.core.principal import Principal
from gov21.exchange.contracts import ExchangeResult, agency_client, agency_service, exchange_call
from gov21.identity.assertions import ASSERTION_TYP, assertion_issuer, assertion_keys
from gov21.identity.contracts import person_assertion_issue
from gov21.registry import services as registry
from gov21.registry.models import Certificate, LifeEvent, Person
from tests.identity import flows
from tests.registry.factories import register_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))


def engine() -> str:
    return agency_client("PORTAL", "services")


def declarations() -> str:
    return agency_service("CRO", "civil-registry", "declarations")


def copies() -> str:
    return agency_service("CRO", "civil-registry", "copies")


def _moved(uin: str) -> dict[str, str]:
    return {"uin": uin, "date": timezone.localdate().isoformat(), "parish": "XA-05", "line": "9 Cane Walk"}


def declare_move(uin: str, *, assertion: str = "", user_id: str = "") -> ExchangeResult:
    return exchange_call(
        client=engine(),
        service=declarations(),
        path="/address_change",
        method="POST",
        body=orjson.dumps(_moved(uin)),
        content_type="application/json",
        user_id=user_id,
        assertion=assertion,
    )


def order_copy(number: str, *, assertion: str = "", user_id: str = "") -> ExchangeResult:
    return exchange_call(
        client=engine(),
        service=copies(),
        path="/",
        method="POST",
        body=orjson.dumps({"number": number}),
        content_type="application/json",
        user_id=user_id,
        assertion=assertion,
    )


def assertion_for(token: str, *, purpose: str = "address_change", audience: str = "", actor: str = "") -> str:
    return person_assertion_issue(
        access_token=token, audience=audience or declarations(), purpose=purpose, actor=actor or engine()
    )


def forged(uin: str, *, store: KeyStore | None = None, **changes: Any) -> str:
    """An assertion with the claims the provider would write, altered, signed by ``store``."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": assertion_issuer(),
        "sub": uin,
        "kind": "citizen",
        "aud": declarations(),
        "purpose": "address_change",
        "act": {"sub": engine()},
        "azp": "gov21-portal",
        "acr": "low",
        "iat": now,
        "exp": now + 120,
        "jti": random_token(18),
    }
    claims.update(changes)
    return (store or assertion_keys()).sign(claims, typ=ASSERTION_TYP)


def _address(uin: str) -> tuple[str, str]:
    person = Person.objects.get(uin=uin)
    return person.address_parish, person.address_line


@pytest.fixture
def citizen() -> flows.Person:
    return flows.citizen()


@pytest.fixture
def token(citizen: flows.Person) -> str:
    return flows.access_token_of(citizen)


def test_an_address_change_with_only_x_road_userid_is_declared_not_registered(citizen: flows.Person) -> None:
    before = _address(citizen.identifier)

    result = declare_move(citizen.identifier, user_id=citizen.identifier)

    assert result.status == 201, result.body
    assert result.json()["state"] == "declared" and result.json()["number"] is None
    assert _address(citizen.identifier) == before
    event = LifeEvent.objects.get(pk=result.json()["declaration"])
    assert event.declarant_uin == "" and citizen.identifier not in event.declared_by


def test_an_address_change_with_the_persons_own_assertion_is_registered_at_once(
    citizen: flows.Person, token: str
) -> None:
    result = declare_move(citizen.identifier, assertion=assertion_for(token))

    assert result.status == 201, result.body
    assert result.json()["state"] == "registered" and result.json()["number"]
    assert _address(citizen.identifier) == ("XA-05", "9 Cane Walk")
    event = LifeEvent.objects.get(pk=result.json()["declaration"])
    assert event.declarant_uin == citizen.identifier


def _refused(result: ExchangeResult, code: str) -> None:
    assert 400 <= result.status < 500, result.body
    assert result.headers.get("content-type", "").startswith("application/problem+json"), result.headers
    problem = result.json()
    assert problem["type"] == code, problem
    assert problem["detail"] and problem["status"] == result.status


def test_an_assertion_for_another_uin_is_refused(citizen: flows.Person, token: str) -> None:
    other = register_person(REGISTRAR)
    before = _address(other.uin)

    result = declare_move(other.uin, assertion=assertion_for(token), user_id=other.uin)

    _refused(result, "assertion_wrong_person")
    assert _address(other.uin) == before


@pytest.mark.parametrize(
    ("make", "code"),
    [
        ("expired", "assertion_expired"),
        ("other_purpose", "assertion_wrong_purpose"),
        ("other_audience", "assertion_wrong_audience"),
        ("other_actor", "assertion_wrong_client"),
        ("other_key", "assertion_invalid"),
        ("long_lived", "assertion_invalid"),
        ("not_a_jws", "assertion_invalid"),
    ],
)
def test_an_assertion_that_does_not_hold_is_refused(
    citizen: flows.Person, token: str, tmp_path: Path, make: str, code: str
) -> None:
    uin = citizen.identifier
    now = int(time.time())
    assertion = {
        "expired": lambda: forged(uin, iat=now - 400, exp=now - 280),
        "other_purpose": lambda: assertion_for(token, purpose="death"),
        "other_audience": lambda: assertion_for(token, audience=copies()),
        "other_actor": lambda: assertion_for(token, actor=agency_client("MSD", "benefits")),
        "other_key": lambda: forged(uin, store=KeyStore(tmp_path, purpose="person-assertions")),
        "long_lived": lambda: forged(uin, exp=now + 86400),
        "not_a_jws": lambda: "not.a.jws",
    }[make]()
    before = _address(uin)

    result = declare_move(uin, assertion=assertion, user_id=uin)

    _refused(result, code)
    assert result.status == 403
    assert _address(uin) == before


def test_an_assertion_is_accepted_once(citizen: flows.Person, token: str) -> None:
    assertion = assertion_for(token)
    assert declare_move(citizen.identifier, assertion=assertion).status == 201

    again = declare_move(citizen.identifier, assertion=assertion, user_id=citizen.identifier)

    _refused(again, "assertion_reused")
    assert LifeEvent.objects.filter(subject__uin=citizen.identifier, kind="address_change").count() == 1


def test_no_assertion_is_issued_for_an_ended_sign_in(citizen: flows.Person) -> None:
    from gov21.core.errors import DomainError
    from gov21.identity.models import OAuthToken

    token = flows.access_token_of(citizen)
    OAuthToken.objects.filter(account=citizen.account).update(revoked_at=timezone.now())

    with pytest.raises(DomainError) as refused:
        assertion_for(token)
    assert refused.value.status == 401


def test_an_officers_assertion_declares_with_the_officer_named_and_registers_nothing(citizen: flows.Person) -> None:
    officer = flows.staff("officer.cro", "case_officer")
    token = flows.access_token_of(officer)
    before = _address(citizen.identifier)

    result = declare_move(citizen.identifier, assertion=assertion_for(token), user_id=citizen.identifier)

    assert result.status == 201, result.body
    assert result.json()["state"] == "declared"
    assert _address(citizen.identifier) == before
    event = LifeEvent.objects.get(pk=result.json()["declaration"])
    assert "staff:officer.cro" in event.declared_by and event.declarant_uin == ""


# --- certified copies ------------------------------------------------------------------------------


def _birth_of_child(mother: Person) -> LifeEvent:
    child = register_person(REGISTRAR, born=date(2015, 6, 1), mother=mother)
    return LifeEvent.objects.get(subject__uin=child.uin, kind="birth")


def _verified_at(base: str, credential: str) -> str:
    response = httpx2.post(f"{base}/api/v1/registry/verify", json={"payload": credential}, timeout=10)
    assert response.status_code == 200, response.text
    return str(response.json()["status"])


def test_a_copy_leaves_the_holders_certificate_valid_at_verify(live_server: Any, citizen: flows.Person) -> None:
    mother = Person.objects.get(uin=citizen.identifier)
    birth = _birth_of_child(mother)
    original = registry.certificate_issue(event_id=birth.pk, actor=REGISTRAR)
    assert birth.number
    token = flows.access_token_of(citizen)

    result = order_copy(birth.number, assertion=assertion_for(token, purpose="certificate_copy", audience=copies()))

    assert result.status == 201, result.body
    copy = result.json()
    assert copy["serial"] != original.serial
    assert _verified_at(live_server.url, original.credential) == "valid"
    assert _verified_at(live_server.url, copy["credential"]) == "valid"
    assert Certificate.objects.get(serial=original.serial).superseded_by is None


def test_a_registrars_reissue_still_supersedes() -> None:
    mother = register_person(REGISTRAR, born=date(1985, 1, 1))
    birth = _birth_of_child(mother)
    first = registry.certificate_issue(event_id=birth.pk, actor=REGISTRAR)
    second = registry.certificate_issue(event_id=birth.pk, actor=REGISTRAR)

    first.refresh_from_db()
    assert first.status == "superseded" and first.superseded_by == second


def test_a_copy_without_an_assertion_is_refused(citizen: flows.Person) -> None:
    birth = _birth_of_child(Person.objects.get(uin=citizen.identifier))
    assert birth.number

    result = order_copy(birth.number, user_id=citizen.identifier)

    _refused(result, "copy_not_entitled")
    assert not Certificate.objects.filter(event=birth).exists()


def test_a_copy_of_a_registration_that_does_not_name_the_person_is_refused(citizen: flows.Person) -> None:
    stranger = register_person(REGISTRAR, born=date(1980, 1, 1))
    birth = _birth_of_child(stranger)
    assert birth.number
    token = flows.access_token_of(citizen)

    result = order_copy(birth.number, assertion=assertion_for(token, purpose="certificate_copy", audience=copies()))

    _refused(result, "assertion_wrong_person")
    assert not Certificate.objects.filter(event=birth).exists()
