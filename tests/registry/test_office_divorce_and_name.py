"""The registry's office pages for a divorce and a change of name: both are declared through the API
(the declare page says where), then queued, shown, validated and registered by a registrar here."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import EventState, LifeEvent, Person
from tests.identity.flows import portal_sign_in, staff
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
OFFICE = "/office/registry"


@pytest.fixture
def desk(client: Client) -> Client:
    portal_sign_in(client, staff("desk.one", "registrar"), next_url=f"{OFFICE}/")
    return client


def _days_ago(days: int) -> str:
    return (timezone.localdate() - timedelta(days=days)).isoformat()


def _married_couple(actor: Principal) -> tuple[Person, Person]:
    a = register_person(actor, given="Ruth", family="Charles", born=date(1990, 1, 1))
    b = register_person(actor, given="Jon", family="Baptiste", sex="M", born=date(1988, 6, 6))
    marriage = services.event_declare(
        declaration=services.declaration_parse(
            kind="marriage",
            data={"partner_a_uin": a.uin, "partner_b_uin": b.uin, "date": _days_ago(300), "parish": "XA-01"},
        ),
        actor=actor,
    )
    services.event_validate(event_id=marriage.pk, actor=actor)
    services.event_register(event_id=marriage.pk, actor=actor)
    return a, b


def _divorce(actor: Principal, a: Person, b: Person) -> LifeEvent:
    data = {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        "date": _days_ago(4),
        "court_reference": "HC-2026-31",
        "partner_a_new_family_name": "Alexis",
    }
    return services.event_declare(declaration=services.declaration_parse(kind="divorce", data=data), actor=actor)


def _name_change(actor: Principal, person: Person) -> LifeEvent:
    data = {"uin": person.uin, "date": _days_ago(2), "given_names": "Maria", "reason": "Deed poll"}
    return services.event_declare(declaration=services.declaration_parse(kind="name_change", data=data), actor=actor)


def _register_from_the_page(desk: Client, event: LifeEvent) -> str:
    for action in ("validate", "register"):
        response = desk.post(f"{OFFICE}/events/{event.pk}/{action}")
        assert response.status_code == 302, (action, response.content.decode()[:2000])
        assert response["Location"] == f"{OFFICE}/events/{event.pk}"
    return desk.get(f"{OFFICE}/events/{event.pk}").content.decode()


def test_the_declare_page_says_where_a_divorce_and_a_change_of_name_are_declared(desk: Client) -> None:
    page = desk.get(f"{OFFICE}/declare").content.decode()
    assert "Divorce" in page and "POST /api/v1/registry/events/divorces" in page
    assert "Change of name" in page and "POST /api/v1/registry/events/name-changes" in page


def test_the_queue_lists_a_divorce_and_a_change_of_name_by_whom_they_concern(
    desk: Client, registrar: Principal
) -> None:
    a, b = _married_couple(registrar)
    divorce = _divorce(registrar, a, b)
    renamed = register_person(registrar, given="Marie", born=date(1984, 8, 8))
    name_change = _name_change(registrar, renamed)
    page = desk.get(f"{OFFICE}/").content.decode()
    assert f'href="{OFFICE}/events/{divorce.pk}"' in page and f"{a.uin} &amp; {b.uin}" in page
    assert f'href="{OFFICE}/events/{name_change.pk}"' in page and renamed.uin in page
    only_divorces = desk.get(f"{OFFICE}/", {"kind": "divorce"}).content.decode()
    assert f"/events/{divorce.pk}" in only_divorces and f"/events/{name_change.pk}" not in only_divorces


def test_a_divorce_is_shown_and_registered_from_its_page(desk: Client, registrar: Principal) -> None:
    a, b = _married_couple(registrar)
    event = _divorce(registrar, a, b)
    page = desk.get(f"{OFFICE}/events/{event.pk}").content.decode()
    assert "Court reference" in page and "HC-2026-31" in page
    assert "First party&#x27;s new family name" in page and "Alexis" in page
    assert "Other party" in page and f"({b.uin})" in page
    page = _register_from_the_page(desk, event)
    event.refresh_from_db()
    assert event.state == EventState.REGISTERED and event.number in page
    assert "Issue certificate" not in page  # a divorce is not a certifiable registration
    a.refresh_from_db()
    assert (a.marital_status, a.family_name) == ("divorced", "Alexis")
    record = desk.get(f"{OFFICE}/persons/{a.uin}", {"purpose": "Divorce registration"}).content.decode()
    assert "Divorce registered" in record and "Alexis" in record


def test_a_change_of_name_is_shown_and_registered_from_its_page(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, given="Marie", family="Charles", born=date(1984, 8, 8))
    event = _name_change(registrar, person)
    page = desk.get(f"{OFFICE}/events/{event.pk}").content.decode()
    assert "Reason" in page and "Deed poll" in page and "Maria" in page
    page = _register_from_the_page(desk, event)
    person.refresh_from_db()
    assert (person.given_names, person.former_names) == ("Maria", ["Marie Charles"])
    assert f"Maria Charles ({person.uin})" in page
    record = desk.get(f"{OFFICE}/persons/{person.uin}", {"purpose": "Name change"}).content.decode()
    assert "Change of name: Deed poll" in record and "Marie Charles" in record


def test_a_divorce_overtaken_by_another_is_refused_on_its_page_not_crashed(desk: Client, registrar: Principal) -> None:
    a, b = _married_couple(registrar)
    first, second = _divorce(registrar, a, b), _divorce(registrar, a, b)
    _register_from_the_page(desk, first)
    response = desk.post(f"{OFFICE}/events/{second.pk}/validate")
    assert response.status_code == 409
    assert "These two people are not married to each other." in response.content.decode()
    second.refresh_from_db()
    assert second.state == EventState.DECLARED


def test_a_clerk_sees_a_change_of_name_but_cannot_register_it(client: Client, registrar: Principal) -> None:
    portal_sign_in(client, staff("clerk.two", "clerk"), next_url=f"{OFFICE}/")
    event = _name_change(registrar, register_person(registrar, born=date(1984, 8, 8)))
    page = client.get(f"{OFFICE}/events/{event.pk}").content.decode()
    assert "Deed poll" in page and "Register" not in page
    assert client.post(f"{OFFICE}/events/{event.pk}/validate").status_code == 403
    event.refresh_from_db()
    assert event.state == EventState.DECLARED
