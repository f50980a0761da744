from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from gov21.audit.models import AccessRecord
from gov21.core.ids import verhoeff_check_digit
from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import Certificate, EventState, LifeEvent, Person
from tests.identity.flows import portal_sign_in, staff
from tests.registry.declaring import declare_through_check
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
OFFICE = "/office/registry"
PURPOSE = {"purpose_reason": "registration"}


def _login(client: Client, *roles: str, username: str = "desk.one") -> Client:
    portal_sign_in(client, staff(username, *roles), next_url="/office/registry/")
    return client


@pytest.fixture
def desk(client: Client) -> Client:
    return _login(client, "registrar")


def _wrong_check_digit(uin: str) -> str:
    wrong = str((int(uin[-1]) + 1) % 10)
    assert wrong != verhoeff_check_digit(uin[:-1])
    return uin[:-1] + wrong


def _birth_form(mother: Person, *, born: date | None = None, **extra: str) -> dict[str, Any]:
    born = born or timezone.localdate() - timedelta(days=5)
    return {
        "given_names": "Aline Rose",
        "family_name": "Charles",
        "sex": "F",
        "birth_date_day": str(born.day),
        "birth_date_month": str(born.month),
        "birth_date_year": str(born.year),
        "birth_parish": "XA-02",
        "birth_settlement": "Mango Walk",
        "mother_uin": mother.uin,
        "father_uin": "",
        "informant": "The mother",
        **extra,
    }


def _declared_birth(actor: Principal, mother: Person, given: str = "Aline") -> LifeEvent:
    born = timezone.localdate() - timedelta(days=3)
    return services.event_declare(
        declaration=services.declaration_parse(
            kind="birth",
            data={
                "given_names": given,
                "family_name": "Charles",
                "sex": "F",
                "birth_date": born.isoformat(),
                "birth_parish": "XA-02",
                "mother_uin": mother.uin,
            },
        ),
        actor=actor,
    )


def test_every_page_renders_for_a_registrar(desk: Client, registrar: Principal) -> None:
    mother = register_person(registrar, given="Marie", born=date(1990, 5, 6))
    event = _declared_birth(registrar, mother)
    pages = {
        f"{OFFICE}/": "Declarations waiting for action",
        f"{OFFICE}/declare": "Declare a life event",
        f"{OFFICE}/declare/birth": "Declare a birth",
        f"{OFFICE}/declare/death": "Declare a death",
        f"{OFFICE}/events/{event.pk}": "Aline Charles",
        f"{OFFICE}/search": "Find a person",
        f"{OFFICE}/persons/{mother.uin}": "Open the record of",
        f"{OFFICE}/persons/{mother.uin}?purpose=Registration+work": "Every version of the record",
        f"{OFFICE}/persons/{mother.uin}/correct?purpose=Correction": "Correct a clerical error",
    }
    for url, text in pages.items():
        response = desk.get(url)
        assert response.status_code == 200, url
        assert text in response.content.decode(), url


def test_queue_lists_waiting_declarations_with_their_tags(desk: Client, registrar: Principal) -> None:
    mother = register_person(registrar, given="Marie", born=date(1990, 5, 6))
    waiting = _declared_birth(registrar, mother, given="Aline")
    late = services.event_declare(
        declaration=services.declaration_parse(
            kind="death",
            data={"uin": register_person(registrar, born=date(1940, 1, 1)).uin, "death_date": "2020-01-01"},
        ),
        actor=registrar,
    )
    page = desk.get(f"{OFFICE}/").content.decode()
    assert f'href="{OFFICE}/events/{waiting.pk}"' in page and f'href="{OFFICE}/events/{late.pk}"' in page
    assert "On time" in page and "Delayed" in page
    only_deaths = desk.get(f"{OFFICE}/", {"kind": "death"}).content.decode()
    assert f"/events/{late.pk}" in only_deaths and f"/events/{waiting.pk}" not in only_deaths


def test_the_queue_costs_the_same_queries_however_long_it_is(desk: Client, registrar: Principal) -> None:
    mothers = [register_person(registrar, born=date(1985, 1, 1) + timedelta(days=40 * i)) for i in range(6)]
    _declared_birth(registrar, mothers[0])
    with CaptureQueriesContext(connection) as short:
        assert desk.get(f"{OFFICE}/").status_code == 200
    for mother in mothers[1:]:
        _declared_birth(registrar, mother)
    with CaptureQueriesContext(connection) as long:
        page = desk.get(f"{OFFICE}/").content.decode()
    assert page.count("/events/") == 6
    assert len(long) == len(short)


def test_a_visitor_is_sent_to_sign_in(client: Client) -> None:
    for url in (f"{OFFICE}/", f"{OFFICE}/declare/birth", f"{OFFICE}/search", f"{OFFICE}/certificates/X.pdf"):
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith("/sign-in?next=")


def test_a_reader_cannot_declare(client: Client, registrar: Principal) -> None:
    _login(client, "reader", username="reader.desk")
    mother = register_person(registrar)
    for response in (
        client.get(f"{OFFICE}/declare/birth"),
        client.post(f"{OFFICE}/declare/birth", _birth_form(mother)),
        client.get(f"{OFFICE}/declare/birth/check"),
        client.post(f"{OFFICE}/declare/birth/check", {"answers": "x"}),
    ):
        assert response.status_code == 403
        page = response.content.decode()
        assert "Your role in the civil registry does not allow this." in page
        # Said in words, and leading on to the person's own page, not back to the page refused.
        assert "event.declare" not in page and 'id="way-on" href="/my/"' in page
    assert not LifeEvent.objects.filter(kind="birth", state=EventState.DECLARED).exists()
    event = LifeEvent.objects.get(subject=mother, kind="birth")
    certificate = services.certificate_issue(event_id=event.pk, actor=registrar)
    assert client.get(f"{OFFICE}/certificates/{certificate.serial}.pdf").status_code == 403


def test_an_account_without_a_registry_role_is_refused(client: Client) -> None:
    _login(client, username="no.role")
    response = client.get(f"{OFFICE}/")
    assert response.status_code == 403
    assert "no role in the civil registry" in response.content.decode()


def test_a_wrong_check_digit_is_shown_next_to_the_field_with_the_input_kept(desk: Client, registrar: Principal) -> None:
    mother = register_person(registrar, born=date(1990, 1, 1))
    wrong = _wrong_check_digit(mother.uin)
    response = desk.post(f"{OFFICE}/declare/birth", _birth_form(mother, mother_uin=wrong))
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert 'href="#mother_uin"' in page
    assert 'id="mother_uin_error"' in page and 'aria-invalid="true"' in page
    assert f'value="{wrong}"' in page and 'value="Aline Rose"' in page
    assert not LifeEvent.objects.filter(kind="birth", state=EventState.DECLARED).exists()


def test_a_date_in_the_future_is_shown_with_a_wrong_uin_in_one_round(desk: Client, registrar: Principal) -> None:
    mother = register_person(registrar, born=date(1990, 1, 1))
    tomorrow = timezone.localdate() + timedelta(days=1)
    form = _birth_form(mother, born=tomorrow, mother_uin=_wrong_check_digit(mother.uin))
    page = desk.post(f"{OFFICE}/declare/birth", form).content.decode()
    assert 'href="#mother_uin"' in page and "check digit of this UIN is wrong" in page
    assert 'href="#birth_date_0"' in page and "This date is in the future." in page


def test_a_rule_broken_in_the_service_is_shown_next_to_the_field_it_names(desk: Client, registrar: Principal) -> None:
    young = register_person(registrar, born=timezone.localdate() - timedelta(days=365 * 10))
    response = desk.post(f"{OFFICE}/declare/birth", _birth_form(young))
    assert response.status_code == 200
    assert 'href="#mother_uin"' in response.content.decode()
    tomorrow = timezone.localdate() + timedelta(days=1)
    mother = register_person(registrar, born=date(1990, 1, 1))
    page = desk.post(f"{OFFICE}/declare/birth", _birth_form(mother, born=tomorrow)).content.decode()
    assert "This date is in the future." in page and 'href="#birth_date_0"' in page
    assert f'value="{tomorrow.year}"' in page


def test_missing_answers_are_all_listed(desk: Client) -> None:
    page = desk.post(f"{OFFICE}/declare/birth", {"birth_date_day": "31", "birth_date_month": "2"}).content.decode()
    for message in (
        "Enter the child&#x27;s given names",
        "Select the child&#x27;s sex",
        "Date of birth must include a year",
    ):
        assert message in page
    assert 'href="#sex_0"' in page


def test_the_parish_is_chosen_from_the_countrys_list(desk: Client, registrar: Principal) -> None:
    page = desk.get(f"{OFFICE}/declare/birth").content.decode()
    assert '<select name="birth_parish"' in page and '<option value="XA-03">Anse Corail (XA-03)</option>' in page
    mother = register_person(registrar, born=date(1990, 1, 1))
    refused = desk.post(f"{OFFICE}/declare/birth", _birth_form(mother, birth_parish="XA-99"))
    assert refused.status_code == 200 and "Select a valid choice" in refused.content.decode()
    assert declare_through_check(desk, "birth", _birth_form(mother, birth_parish="XA-03")).status_code == 302
    assert LifeEvent.objects.get(kind="birth", state=EventState.DECLARED).data["birth_parish"] == "XA-03"


def test_declare_validate_register_certify_and_download(desk: Client, registrar: Principal) -> None:
    mother = register_person(registrar, given="Marie", born=date(1990, 5, 6))
    response = declare_through_check(desk, "birth", _birth_form(mother))
    assert response.status_code == 302
    event = LifeEvent.objects.get(kind="birth", state=EventState.DECLARED)
    assert response["Location"] == f"{OFFICE}/events/{event.pk}"
    assert event.declared_by == "desk.one" and event.data["informant"] == "The mother"
    for action in ("validate", "register", "certificates"):
        response = desk.post(f"{OFFICE}/events/{event.pk}/{action}")
        assert response.status_code == 302, (action, response.content.decode()[:2000])
    page = desk.get(f"{OFFICE}/events/{event.pk}").content.decode()
    certificate = Certificate.objects.get(event=event)
    assert f"Certificate {certificate.serial} issued." in page
    assert f"GOV21:{certificate.credential}" in page
    pdf = desk.get(f"{OFFICE}/certificates/{certificate.serial}.pdf")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    qr = desk.get(f"{OFFICE}/certificates/{certificate.serial}/qr.png")
    assert qr.content.startswith(b"\x89PNG")
    event.refresh_from_db()
    assert event.state == EventState.CERTIFIED and event.number


def test_a_refused_transition_is_explained_not_crashed(desk: Client, registrar: Principal) -> None:
    event = _declared_birth(registrar, register_person(registrar, born=date(1990, 1, 1)))
    response = desk.post(f"{OFFICE}/events/{event.pk}/register")
    assert response.status_code == 409
    assert "cannot be registered" in response.content.decode()
    assert desk.post(f"{OFFICE}/events/999999/validate").status_code == 404


def test_reject_needs_a_reason_and_keeps_the_form_open(desk: Client, registrar: Principal) -> None:
    event = _declared_birth(registrar, register_person(registrar, born=date(1990, 1, 1)))
    page = desk.post(f"{OFFICE}/events/{event.pk}/reject", {"reason": "  "}).content.decode()
    assert "Give the reason for rejecting" in page and 'href="#reject-reason"' in page
    response = desk.post(f"{OFFICE}/events/{event.pk}/reject", {"reason": "The mother is not the informant's"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == EventState.REJECTED


def test_a_correction_can_be_requested(desk: Client, registrar: Principal) -> None:
    event = _declared_birth(registrar, register_person(registrar, born=date(1990, 1, 1)))
    response = desk.post(f"{OFFICE}/events/{event.pk}/request-correction", {"note": "Spell the name as on the form"})
    assert response.status_code == 302
    event.refresh_from_db()
    assert event.state == EventState.CORRECTION_REQUESTED
    page = desk.get(f"{OFFICE}/events/{event.pk}").content.decode()
    assert "Spell the name as on the form" in page and "Correction requested" in page
    assert f"/events/{event.pk}" in desk.get(f"{OFFICE}/").content.decode()


def test_possible_duplicates_are_resolved_from_the_page(desk: Client, registrar: Principal) -> None:
    mother = register_person(registrar, given="Marie", born=date(1990, 5, 6))
    first = _declared_birth(registrar, mother, given="Aline")
    second = _declared_birth(registrar, mother, given="Aline")
    candidate = second.duplicates.get()
    page = desk.get(f"{OFFICE}/events/{second.pk}").content.decode()
    assert "Possible duplicate" in page and f"/events/{first.pk}" in page
    assert f"{OFFICE}/events/{second.pk}/duplicates/{candidate.pk}" in page
    services.event_validate(event_id=second.pk, actor=registrar)
    blocked = desk.post(f"{OFFICE}/events/{second.pk}/register")
    assert blocked.status_code == 409 and "resolve the possible duplicates" in blocked.content.decode()
    response = desk.post(f"{OFFICE}/events/{second.pk}/duplicates/{candidate.pk}", {"resolution": "distinct"})
    assert response.status_code == 302
    assert desk.post(f"{OFFICE}/events/{second.pk}/register").status_code == 302
    # The first declaration was flagged by nothing, but a third one is: mark that one a duplicate.
    third = _declared_birth(registrar, mother, given="Aline")
    flagged = third.duplicates.filter(resolution="").first()
    assert flagged is not None
    desk.post(f"{OFFICE}/events/{third.pk}/duplicates/{flagged.pk}", {"resolution": "duplicate"})
    third.refresh_from_db()
    assert third.state == EventState.REJECTED
    again = desk.post(f"{OFFICE}/events/{third.pk}/duplicates/{flagged.pk}", {"resolution": "duplicate"})
    assert again.status_code == 409 and "already been resolved" in again.content.decode()


def test_the_person_page_records_the_stated_purpose(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, given="Ruth", born=date(1980, 2, 3))
    before = AccessRecord.objects.filter(subject=person.uin, action="person.read").count()
    asking = desk.get(f"{OFFICE}/persons/{person.uin}")
    assert "Why do you need this person" in asking.content.decode()
    assert AccessRecord.objects.filter(subject=person.uin, action="person.read").count() == before
    no_detail = desk.get(f"{OFFICE}/persons/{person.uin}", {"purpose_reason": "investigation"})
    assert "Give details of the investigation" in no_detail.content.decode()
    page = desk.get(
        f"{OFFICE}/persons/{person.uin}", {"purpose_reason": "investigation", "purpose_detail": "Case 42/2026"}
    )
    assert page.status_code == 200 and "Ruth" in page.content.decode()
    record = AccessRecord.objects.filter(subject=person.uin, action="person.read").latest("at")
    assert record.purpose == "Investigation: Case 42/2026" and record.actor == "desk.one"


def test_the_record_as_of_a_past_date(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, born=date(1980, 2, 3))
    url = f"{OFFICE}/persons/{person.uin}"
    today = timezone.localdate()
    page = desk.get(
        url,
        {
            "purpose": "Registration work",
            "as_of_day": str(today.day),
            "as_of_month": str(today.month),
            "as_of_year": str(today.year),
        },
    ).content.decode()
    assert "As it stood at the end of" in page
    assert AccessRecord.objects.filter(subject=person.uin, action="person.read_as_of").exists()
    page = desk.get(
        url, {"purpose": "Registration work", "as_of_day": "1", "as_of_month": "1", "as_of_year": "1999"}
    ).content.decode()
    assert "was not yet registered" in page and 'href="#as_of_0"' in page


def test_search_by_name_pages_through_and_by_uin_opens_the_record(desk: Client, registrar: Principal) -> None:
    people = [register_person(registrar, family="Quashie") for _ in range(21)]
    first = desk.get(f"{OFFICE}/search", {**PURPOSE, "query": "quashie"}).content.decode()
    assert first.count("?purpose=Registration+work") == 20
    assert "Next page" in first
    next_url = first.split('rel="next"')[0].rsplit('href="', 1)[1].split('"')[0].replace("&amp;", "&")
    second = desk.get(f"{OFFICE}/search{next_url}").content.decode()
    assert people[-1].uin in second and "Next page" not in second
    search = AccessRecord.objects.filter(action="person.search").latest("at")
    assert search.purpose == "Registration work"
    response = desk.get(f"{OFFICE}/search", {**PURPOSE, "query": people[0].uin})
    assert response.status_code == 302
    assert response["Location"] == f"{OFFICE}/persons/{people[0].uin}?purpose=Registration+work"
    wrong = desk.get(f"{OFFICE}/search", {**PURPOSE, "query": _wrong_check_digit(people[0].uin)}).content.decode()
    assert 'href="#query"' in wrong
    unstated = desk.get(f"{OFFICE}/search", {"query": "quashie"}).content.decode()
    assert 'href="#purpose_reason"' in unstated and people[0].uin not in unstated


def test_a_registrar_corrects_a_record(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, given="Jon", family="Baptiste", born=date(1980, 2, 3))
    form_page = desk.get(f"{OFFICE}/persons/{person.uin}/correct", {"purpose": "Correction"}).content.decode()
    original = form_page.split('name="original" value="')[1].split('"')[0]
    data = {
        "original": original,
        "purpose": "Correction",
        "given_names": "John",
        "family_name": "Baptiste",
        "sex": person.sex,
        "birth_date_day": "3",
        "birth_date_month": "2",
        "birth_date_year": "1980",
        "birth_parish": person.birth_parish,
        "birth_settlement": person.birth_settlement,
    }
    missing = desk.post(f"{OFFICE}/persons/{person.uin}/correct", data).content.decode()
    assert "Give the reason for the correction" in missing and 'value="John"' in missing
    tampered = desk.post(f"{OFFICE}/persons/{person.uin}/correct", {**data, "reason": "x", "original": "x" + original})
    assert "out of date" in tampered.content.decode()
    response = desk.post(f"{OFFICE}/persons/{person.uin}/correct", {**data, "reason": "Misspelt at registration"})
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.given_names == "John" and person.version == 2
    version = person.versions.get(version=2)
    assert version.changed == ["given_names"] and version.author == "desk.one"
    history = desk.get(response["Location"]).content.decode()
    assert "Jon → John" in history and "Correction: Misspelt at registration" in history


def test_a_clerk_cannot_correct_a_record(client: Client, registrar: Principal) -> None:
    _login(client, "clerk", username="clerk.desk")
    person = register_person(registrar)
    assert client.get(f"{OFFICE}/persons/{person.uin}/correct", {"purpose": "Correction"}).status_code == 403
    page = client.get(f"{OFFICE}/persons/{person.uin}", {"purpose": "Registration work"}).content.decode()
    assert "Correct this record" not in page


def test_a_certificate_is_revoked_with_a_reason(desk: Client, registrar: Principal) -> None:
    event = LifeEvent.objects.get(subject=register_person(registrar, born=date(1990, 1, 1)), kind="birth")
    certificate = services.certificate_issue(event_id=event.pk, actor=registrar)
    url = f"{OFFICE}/events/{event.pk}/certificates/{certificate.serial}/revoke"
    page = desk.post(url, {"reason": ""}).content.decode()
    assert "Give the reason for revoking" in page and f'href="#revoke-{certificate.serial}-reason"' in page
    assert desk.post(url, {"reason": "Issued to the wrong person"}).status_code == 302
    certificate.refresh_from_db()
    assert certificate.status == "revoked"
    assert desk.post(url, {"reason": "again"}).status_code == 409


def test_a_death_is_declared(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, born=date(1940, 1, 1))
    data = {
        "uin": person.uin,
        "death_date_day": "2",
        "death_date_month": "2",
        "death_date_year": "2024",
        "place_parish": "",
        "cause": "",
        "informant": "The son",
    }
    early = desk.post(f"{OFFICE}/declare/death", {**data, "death_date_year": "1939"}).content.decode()
    assert 'href="#death_date_0"' in early
    response = declare_through_check(desk, "death", data)
    assert response.status_code == 302
    assert LifeEvent.objects.get(kind="death").data["uin"] == person.uin


def _date_parts(prefix: str, on: date) -> dict[str, str]:
    return {f"{prefix}_day": str(on.day), f"{prefix}_month": str(on.month), f"{prefix}_year": str(on.year)}


def _marriage_form(a: Person, b: Person, **extra: str) -> dict[str, Any]:
    return {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        **_date_parts("date", timezone.localdate() - timedelta(days=2)),
        "parish": "XA-02",
        "partner_a_new_family_name": "",
        "partner_b_new_family_name": "Baptiste",
        **extra,
    }


def _address_form(person: Person, **extra: str) -> dict[str, Any]:
    return {
        "uin": person.uin,
        **_date_parts("date", timezone.localdate() - timedelta(days=7)),
        "parish": "XA-03",
        "settlement": "Mango Walk",
        "line": "12 Bay Street",
        **extra,
    }


def test_the_declare_page_links_to_every_form(desk: Client) -> None:
    page = desk.get(f"{OFFICE}/declare").content.decode()
    for path in ("birth", "death", "marriage", "address"):
        assert f'href="{OFFICE}/declare/{path}"' in page
    assert "/api/v1/registry/events/marriages" not in page and "address-changes" not in page
    assert "Declare a marriage" in desk.get(f"{OFFICE}/declare/marriage").content.decode()
    assert "Declare a change of address" in desk.get(f"{OFFICE}/declare/address").content.decode()


def test_a_marriage_is_declared(desk: Client, registrar: Principal) -> None:
    a = register_person(registrar, given="Jon", sex="M", born=date(1990, 1, 1))
    b = register_person(registrar, given="Ruth", family="Charles", born=date(1991, 2, 2))
    response = declare_through_check(desk, "marriage", _marriage_form(a, b))
    assert response.status_code == 302
    event = LifeEvent.objects.get(kind="marriage", state=EventState.DECLARED)
    assert response["Location"] == f"{OFFICE}/events/{event.pk}"
    assert event.data == {
        "partner_a_uin": a.uin,
        "partner_b_uin": b.uin,
        "date": (timezone.localdate() - timedelta(days=2)).isoformat(),
        "parish": "XA-02",
        "partner_a_new_family_name": "",
        "partner_b_new_family_name": "Baptiste",
    }
    assert event.subject == a and event.partner == b and event.declared_by == "desk.one"


def test_an_under_age_marriage_is_shown_next_to_the_party(desk: Client, registrar: Principal) -> None:
    a = register_person(registrar, given="Jon", sex="M", born=date(1990, 1, 1))
    young = register_person(registrar, given="Ruth", born=timezone.localdate() - timedelta(days=365 * 12))
    response = desk.post(f"{OFFICE}/declare/marriage", _marriage_form(a, young, partner_b_new_family_name="Rose"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "years old on the day of marriage" in page
    assert 'href="#partner_b_uin"' in page and 'id="partner_b_uin_error"' in page
    assert f'value="{young.uin}"' in page and f'value="{a.uin}"' in page and 'value="Rose"' in page
    assert not LifeEvent.objects.filter(kind="marriage").exists()


def test_a_change_of_address_is_declared(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, born=date(1980, 2, 3))
    response = declare_through_check(desk, "address", _address_form(person))
    assert response.status_code == 302
    event = LifeEvent.objects.get(kind="address_change", state=EventState.DECLARED)
    assert response["Location"] == f"{OFFICE}/events/{event.pk}"
    assert event.data == {
        "uin": person.uin,
        "date": (timezone.localdate() - timedelta(days=7)).isoformat(),
        "parish": "XA-03",
        "settlement": "Mango Walk",
        "line": "12 Bay Street",
    }
    assert event.subject == person


def test_a_wrong_check_digit_on_the_address_form_is_shown_next_to_the_field(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, born=date(1980, 2, 3))
    wrong = _wrong_check_digit(person.uin)
    response = desk.post(f"{OFFICE}/declare/address", _address_form(person, uin=wrong))
    assert response.status_code == 200
    page = response.content.decode()
    assert 'href="#uin"' in page and 'id="uin_error"' in page and 'aria-invalid="true"' in page
    assert f'value="{wrong}"' in page and 'value="12 Bay Street"' in page
    assert not LifeEvent.objects.filter(kind="address_change").exists()
