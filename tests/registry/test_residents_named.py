"""The civil registry names the residents of settlements only to the disaster management office,
only for a lawful purpose with a reason, a page at a time; each person named finds the reading in
"who used my data" and in the registry's access log. Every call goes through the real gateway."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlencode

import pytest
from django.utils import timezone

from gov21.audit.contracts import access_records_for
from gov21.core.principal import Principal
from gov21.exchange.contracts import ExchangeResult, agency_client, agency_service, data_uses_for, exchange_call
from tests.registry.factories import register_person

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))
REASON = "welfare_check: Hurricane Ada, checking on the people of Port Clement"


def named(
    query: dict[str, str | int], *, client: tuple[str, str] = ("NDMO", "disaster-response"), issue: str = REASON
) -> ExchangeResult:
    return exchange_call(
        client=agency_client(*client),
        service=agency_service("CRO", "civil-registry", "residents"),
        path="/named",
        query=urlencode(query),
        user_id="ndmo.officer",
        issue=issue,
    )


def _years_ago(years: int, days: int = 10) -> date:
    today = timezone.localdate()
    return today.replace(year=today.year - years) - timedelta(days=days)


def test_the_residents_of_a_settlement_are_named_with_their_households_and_flags() -> None:
    child = register_person(REGISTRAR, given="Ana", family="Joseph", born=_years_ago(2), address_parish="XA-01",
                            address_settlement="Port Clement", address_line="4 Bay Road")  # fmt: skip
    elder = register_person(REGISTRAR, given="Ben", family="Joseph", born=_years_ago(80), address_parish="XA-01",
                            address_settlement="Port Clement", address_line="4 bay road ")  # fmt: skip
    alone = register_person(REGISTRAR, given="Cy", family="Alexis", born=_years_ago(40), address_parish="XA-01",
                            address_settlement="Port Clement", address_line="9 Hill Lane")  # fmt: skip
    register_person(REGISTRAR, address_parish="XA-01", address_settlement="Rosehall")

    result = named({"places": "XA-01/Port Clement", "purpose": "welfare_check"})

    assert result.status == 200, result.body
    answer = result.json()
    assert (answer["total"], answer["page"], answer["pages"]) == (3, 1, 1)
    people = {p["uin"]: p for p in answer["residents"]}
    assert set(people) == {child.uin, elder.uin, alone.uin}
    assert people[child.uin]["child_under_5"] and not people[child.uin]["aged_75_plus"]
    assert people[child.uin]["age"] == 2
    assert people[elder.uin]["aged_75_plus"] and people[elder.uin]["age"] == 80
    assert not people[alone.uin]["child_under_5"] and not people[alone.uin]["aged_75_plus"]
    # The same address line, however typed, is one household of two.
    assert people[child.uin]["household"] == people[elder.uin]["household"] != people[alone.uin]["household"]
    assert people[child.uin]["household_size"] == 2 and people[alone.uin]["household_size"] == 1
    assert people[child.uin]["address_line"] == "4 Bay Road" and people[child.uin]["birth_date"]


def test_each_person_named_sees_who_read_them_and_why() -> None:
    person = register_person(REGISTRAR, address_parish="XA-01", address_settlement="Belvedere")
    elsewhere = register_person(REGISTRAR, address_parish="XA-01", address_settlement="Rosehall")

    assert named({"places": "XA-01/Belvedere", "purpose": "welfare_check"}).status == 200

    uses = data_uses_for(subject=person.uin)
    assert len(uses) == 1
    assert uses[0]["client"].endswith("/GOV/NDMO/disaster-response") and uses[0]["purpose"] == REASON
    assert "struck by a disaster" in uses[0]["seen_as"]
    assert uses[0]["user_id"] == "ndmo.officer"
    accesses = [a for a in access_records_for(subject=person.uin) if a["action"] == "person.residents"]
    assert len(accesses) == 1 and accesses[0]["purpose"] == REASON
    assert accesses[0]["actor"] == "exchange:XA/GOV/NDMO/disaster-response (ndmo.officer)"
    assert data_uses_for(subject=elsewhere.uin) == []


def test_residents_are_named_a_page_at_a_time_in_the_order_of_their_addresses() -> None:
    for number in range(5):
        register_person(REGISTRAR, address_parish="XA-01", address_settlement="Belvedere",
                        address_line=f"{number} Cane Walk")  # fmt: skip
    query: dict[str, str | int] = {"places": "XA-01/Belvedere", "purpose": "evacuation", "size": 2}

    pages = [named(query | {"page": page}).json() for page in (1, 2, 3)]

    assert [p["pages"] for p in pages] == [3, 3, 3]
    lines = [r["address_line"] for p in pages for r in p["residents"]]
    assert lines == [f"{n} Cane Walk" for n in range(5)]
    beyond = named(query | {"page": 4})
    assert beyond.status == 422 and beyond.json()["code"] == "page_out_of_range"


@pytest.mark.parametrize(
    ("query", "issue", "field"),
    [
        ({"places": "XA-01/Belvedere", "purpose": "marketing"}, REASON, "purpose"),
        ({"places": "XA-01/Belvedere", "purpose": "evacuation"}, "", "purpose"),
        ({"places": "XA-01/Nowhere", "purpose": "evacuation"}, REASON, "places"),
        ({"places": "XA-02/Port Clement", "purpose": "evacuation"}, REASON, "places"),
        ({"places": "XA-01/Belvedere", "purpose": "evacuation", "page": 10**9}, REASON, "page"),
        ({"places": "XA-01/Belvedere", "purpose": "evacuation", "size": 5000}, REASON, "size"),
    ],
)
def test_bad_requests_are_refused_naming_the_field(query: dict[str, str | int], issue: str, field: str) -> None:
    person = register_person(REGISTRAR, address_parish="XA-01", address_settlement="Belvedere")

    result = named(query, issue=issue)

    assert result.status == 422, result.body
    assert result.json()["field"] == field
    assert data_uses_for(subject=person.uin) == []


@pytest.mark.parametrize("client", [("LTA", "licensing"), ("STATS", "statistics"), ("MSD", "benefits")])
def test_only_the_disaster_management_office_may_have_residents_named(client: tuple[str, str]) -> None:
    person = register_person(REGISTRAR, address_parish="XA-01", address_settlement="Belvedere")

    result = named({"places": "XA-01/Belvedere", "purpose": "welfare_check"}, client=client)

    assert result.error.endswith("AccessDenied")
    assert data_uses_for(subject=person.uin) == []
