"""The registry's office pages for a divorce, a change of name and a declarant's correction: declared
on their own pages (or through the API), then queued, shown, validated and registered here."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.audit.models import AccessRecord
from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import EventState, LifeEvent, Person
from tests.identity.flows import portal_sign_in, staff
from tests.registry.declaring import confirmation, declare_through_check
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


def _date_parts(prefix: str, days_ago: int) -> dict[str, str]:
    on = timezone.localdate() - timedelta(days=days_ago)
    return {f"{prefix}_day": str(on.day), f"{prefix}_month": str(on.month), f"{prefix}_year": str(on.year)}


def test_the_declare_page_links_to_a_page_for_every_event(desk: Client) -> None:
    page = desk.get(f"{OFFICE}/declare").content.decode()
    for path in ("birth", "death", "marriage", "divorce", "name-change", "address"):
        assert f'href="{OFFICE}/declare/{path}"' in page
    assert "POST /api/v1/registry/events/divorces" not in page
    assert "Declare a divorce" in desk.get(f"{OFFICE}/declare/divorce").content.decode()
    assert "Declare a change of name" in desk.get(f"{OFFICE}/declare/name-change").content.decode()


def test_a_divorce_is_declared_on_its_page(desk: Client, registrar: Principal) -> None:
    a, b = _married_couple(registrar)
    form = {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        **_date_parts("date", 3),
        "court_reference": "HCV 2026/0142",
        "partner_a_new_family_name": "Alexis",
        "partner_b_new_family_name": "",
    }
    response = declare_through_check(desk, "divorce", form)
    assert response.status_code == 302
    event = LifeEvent.objects.get(kind="divorce", state=EventState.DECLARED)
    assert response["Location"] == f"{OFFICE}/events/{event.pk}"
    assert event.data["court_reference"] == "HCV 2026/0142" and event.data["partner_a_new_family_name"] == "Alexis"
    assert event.subject == a and event.partner == b and event.declared_by == "desk.one"


def test_a_divorce_of_people_not_married_is_explained_next_to_the_party(desk: Client, registrar: Principal) -> None:
    a = register_person(registrar, given="Ruth", born=date(1990, 1, 1))
    b = register_person(registrar, given="Jon", sex="M", born=date(1988, 6, 6))
    form = {"partner_a_uin": a.uin, "partner_b_uin": b.uin, **_date_parts("date", 3)}
    response = desk.post(f"{OFFICE}/declare/divorce", form)
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page and "not married to each other" in page
    assert 'href="#partner_b_uin"' in page and 'id="partner_b_uin_error"' in page
    assert f'value="{a.uin}"' in page and f'value="{b.uin}"' in page
    assert not LifeEvent.objects.filter(kind="divorce").exists()


def test_a_change_of_name_is_declared_on_its_page_and_missing_answers_listed(
    desk: Client, registrar: Principal
) -> None:
    person = register_person(registrar, given="Marie", family="Charles", born=date(1984, 8, 8))
    empty = desk.post(f"{OFFICE}/declare/name-change", {})
    assert empty.status_code == 200
    page = empty.content.decode()
    for message in ("Enter the UIN of the person changing their name", "Give the reason for the change of name"):
        assert message in page
    form = {"uin": person.uin, **_date_parts("date", 1), "given_names": "", "family_name": "", "reason": "Deed poll"}
    neither = desk.post(f"{OFFICE}/declare/name-change", form).content.decode()
    assert "Give a new given name or family name." in neither and 'id="family_name_error"' in neither
    response = declare_through_check(desk, "name-change", {**form, "family_name": "Joseph"})
    assert response.status_code == 302
    event = LifeEvent.objects.get(kind="name_change")
    assert (event.data["family_name"], event.data["reason"], event.subject) == ("Joseph", "Deed poll", person)


def test_a_declarants_correction_is_entered_on_a_page_filled_with_what_was_declared(
    desk: Client, registrar: Principal
) -> None:
    person = register_person(registrar, given="Marie", family="Charles", born=date(1984, 8, 8))
    event = _name_change(registrar, person)
    services.event_request_correction(event_id=event.pk, note="The new given name is Mariah", actor=registrar)
    page = desk.get(f"{OFFICE}/events/{event.pk}").content.decode()
    assert f'href="{OFFICE}/events/{event.pk}/correct"' in page
    form_page = desk.get(f"{OFFICE}/events/{event.pk}/correct").content.decode()
    assert "Correct the declaration" in form_page and "The new given name is Mariah" in form_page
    assert 'value="Maria"' in form_page and 'value="Deed poll"' not in form_page  # a textarea holds the reason
    assert "Deed poll" in form_page and f'value="{person.uin}"' in form_page
    posted = {"uin": person.uin, **_date_parts("date", 2), "given_names": "Mariah", "family_name": "", "reason": ""}
    refused = desk.post(f"{OFFICE}/events/{event.pk}/correct", posted)
    assert refused.status_code == 200 and "Give the reason for the change of name" in refused.content.decode()
    checked = desk.post(f"{OFFICE}/events/{event.pk}/correct", {**posted, "reason": "Deed poll"})
    assert checked.status_code == 302 and checked["Location"] == f"{OFFICE}/events/{event.pk}/correct/check"
    check = desk.get(checked["Location"]).content.decode()
    assert "Check the correction before saving it" in check and "Mariah" in check
    response = desk.post(checked["Location"], {"answers": confirmation(check)})
    assert response.status_code == 302 and response["Location"] == f"{OFFICE}/events/{event.pk}"
    event.refresh_from_db()
    assert event.state == EventState.CORRECTED and event.data["given_names"] == "Mariah"
    assert desk.get(f"{OFFICE}/events/{event.pk}/correct").status_code == 409  # nothing to correct now


def test_a_reader_cannot_enter_a_correction(client: Client, registrar: Principal) -> None:
    portal_sign_in(client, staff("reader.one", "reader", "supervisor"), next_url=f"{OFFICE}/")
    event = _name_change(registrar, register_person(registrar, born=date(1984, 8, 8)))
    services.event_request_correction(event_id=event.pk, note="Check the date", actor=registrar)
    assert "/correct" not in client.get(f"{OFFICE}/events/{event.pk}").content.decode()
    assert client.get(f"{OFFICE}/events/{event.pk}/correct").status_code == 403


def test_the_queue_links_to_finding_a_person(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, given="Philomena", family="Auguste", born=date(1970, 7, 7))
    queue = desk.get(f"{OFFICE}/").content.decode()
    assert f'href="{OFFICE}/search"' in queue and "Find a person" in queue
    found = desk.get(f"{OFFICE}/search", {"query": "Philomena", "purpose_reason": "registration"})
    assert person.uin in found.content.decode()
    search = AccessRecord.objects.filter(action="person.search", actor="desk.one").get()
    assert search.purpose == "Registration work"


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
    assert "First party&#x27;s family name after the divorce" in page and "Alexis" in page
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
