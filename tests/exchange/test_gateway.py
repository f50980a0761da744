from __future__ import annotations

import pytest

from gov21.exchange import chain, node
from gov21.exchange.contracts import data_uses_for, exchange_call
from gov21.identity.principal import Principal
from tests.registry.factories import register_person

pytestmark = pytest.mark.usefixtures("exchange")

PERSONS = "XA/GOV/CRO/civil-registry/persons"


def test_an_agency_with_a_right_reads_a_person_and_the_use_is_recorded(registrar: Principal) -> None:
    person = register_person(registrar)

    result = exchange_call(
        client="XA/GOV/MSD/benefits", service=PERSONS, path=f"/{person.uin}", issue="case 17", user_id="XA-officer-3"
    )

    assert result.status == 200, result.body
    assert result.json()["uin"] == person.uin
    assert result.headers["x-road-request-hash"]
    uses = data_uses_for(subject=person.uin)
    assert [(u["client"], u["purpose"], u["user_id"]) for u in uses] == [
        ("XA/GOV/MSD/benefits", "case 17", "XA-officer-3")
    ]
    assert chain.verify("log:main", node.verify_own).entries == 2  # consumer and provider entries


def test_an_agency_without_a_right_is_refused_and_the_refusal_is_logged(registrar: Principal) -> None:
    person = register_person(registrar)

    result = exchange_call(client="XA/GOV/STATS/statistics", service=PERSONS, path=f"/{person.uin}", issue="x")

    assert result.status == 500
    assert result.error == "Server.ServerProxy.AccessDenied"
    assert result.headers["x-road-error"] == "Server.ServerProxy.AccessDenied"
    assert data_uses_for(subject=person.uin) == []
    assert chain.verify("log:main", node.verify_own).entries == 2


def test_a_path_built_from_bad_input_is_bad_input_and_not_an_exchange_failure(registrar: Principal) -> None:
    from gov21.core.errors import DomainError
    from gov21.exchange.contracts import exchange_json

    person = register_person(registrar)

    with pytest.raises(DomainError) as refused:
        exchange_json(client="XA/GOV/MSD/benefits", service=PERSONS, path=f"/{person.uin}/../x", issue="case 1")

    assert refused.value.status == 400
    assert "Client.BadRequest" in refused.value.detail
