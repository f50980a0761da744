"""A declarant's correction typed at the counter is checked as a declaration is: its answers in words on
a page of their own, and only "Save the correction" there changes the declaration."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.formats import date_format

from gov21.core.ids import verhoeff_check_digit
from gov21.core.principal import Principal
from gov21.registry import services
from gov21.registry.models import EventState, LifeEvent, Person
from tests.identity.flows import portal_sign_in, staff
from tests.registry.declaring import OFFICE, confirmation
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


@pytest.fixture
def desk(client: Client) -> Client:
    portal_sign_in(client, staff("desk.one", "registrar"), next_url=f"{OFFICE}/")
    return client


def _sent_back(registrar: Principal) -> tuple[Person, LifeEvent]:
    person = register_person(registrar, given="Marie", family="Charles", born=date(1984, 8, 8))
    on = (timezone.localdate() - timedelta(days=2)).isoformat()
    data = {"uin": person.uin, "date": on, "given_names": "Maria", "reason": "Deed poll"}
    event = services.event_declare(
        declaration=services.declaration_parse(kind="name_change", data=data), actor=registrar
    )
    services.event_request_correction(event_id=event.pk, note="The new given name is Mariah", actor=registrar)
    return person, event


def _form(person: Person, days_ago: int = 3, **extra: str) -> dict[str, str]:
    on = timezone.localdate() - timedelta(days=days_ago)
    return {
        "uin": person.uin,
        "date_day": str(on.day),
        "date_month": str(on.month),
        "date_year": str(on.year),
        "given_names": "Mariah",
        "family_name": "",
        "reason": "Deed poll",
        **extra,
    }


def _unchanged(event: LifeEvent) -> bool:
    fresh = LifeEvent.objects.get(pk=event.pk)
    return fresh.state == EventState.CORRECTION_REQUESTED and fresh.data["given_names"] == "Maria"


def test_a_valid_correction_leads_to_its_answers_in_words_and_nothing_is_saved(
    desk: Client, registrar: Principal
) -> None:
    person, event = _sent_back(registrar)
    correct, check_url = f"{OFFICE}/events/{event.pk}/correct", f"{OFFICE}/events/{event.pk}/correct/check"
    assert "Continue" in desk.get(correct).content.decode()

    sent = desk.post(correct, _form(person))

    assert sent.status_code == 302 and sent["Location"] == check_url
    assert _unchanged(event)
    page = desk.get(check_url).content.decode()
    assert "Check the correction before saving it" in page and "Save the correction" in page
    answers = page.split('id="check-answers">')[1].split("</dl>")[0]
    assert 'data-field="given_names">Mariah ' in answers
    assert date_format(timezone.localdate() - timedelta(days=3), "j F Y") in answers
    assert 'data-field="family_name">Not given ' in answers
    assert f'href="{correct}?change=given_names#given_names"' in answers
    assert _unchanged(event)


def test_change_goes_back_to_the_form_with_the_corrected_answers_kept(desk: Client, registrar: Principal) -> None:
    person, event = _sent_back(registrar)
    correct = f"{OFFICE}/events/{event.pk}/correct"
    desk.post(correct, _form(person, reason="Deed poll of March"))

    again = desk.get(f"{correct}?change=reason").content.decode()

    assert 'value="Mariah"' in again and "Deed poll of March" in again
    assert 'value="Maria"' not in again
    assert 'value="Maria"' in desk.get(correct).content.decode()  # without "change": what was declared
    assert _unchanged(event)


def test_an_altered_or_foreign_confirmation_is_refused_and_nothing_is_saved(desk: Client, registrar: Principal) -> None:
    person, event = _sent_back(registrar)
    check_url = f"{OFFICE}/events/{event.pk}/correct/check"
    desk.post(f"{OFFICE}/events/{event.pk}/correct", _form(person))
    signed = confirmation(desk.get(check_url).content.decode())

    altered = desk.post(check_url, {"answers": signed[:-2] + ("AA" if not signed.endswith("AA") else "BB")})
    assert altered.status_code == 400 and "the page was altered" in altered.content.decode()
    assert _unchanged(event)

    # The same answers confirmed as a new declaration's are not this correction's.
    desk.post(f"{OFFICE}/declare/name-change", _form(person))
    declaration_signed = confirmation(desk.get(f"{OFFICE}/declare/name-change/check").content.decode())
    foreign = desk.post(check_url, {"answers": declaration_signed})
    assert foreign.status_code == 409 and "changed in another window" in foreign.content.decode()
    assert _unchanged(event)

    # The form sent again in another window: the confirmation of the page read before is refused.
    desk.post(f"{OFFICE}/events/{event.pk}/correct", _form(person, given_names="Mariam"))
    stale = desk.post(check_url, {"answers": signed})
    assert stale.status_code == 409 and "Mariam" in stale.content.decode()
    assert _unchanged(event)


def test_only_the_confirmation_saves_the_correction_once(desk: Client, registrar: Principal) -> None:
    person, event = _sent_back(registrar)
    check_url = f"{OFFICE}/events/{event.pk}/correct/check"
    desk.post(f"{OFFICE}/events/{event.pk}/correct", _form(person))

    saved = desk.post(check_url, {"answers": confirmation(desk.get(check_url).content.decode())})

    assert saved.status_code == 302 and saved["Location"] == f"{OFFICE}/events/{event.pk}"
    event.refresh_from_db()
    assert event.state == EventState.CORRECTED and event.data["given_names"] == "Mariah"
    assert event.data["date"] == (timezone.localdate() - timedelta(days=3)).isoformat()
    assert desk.get(check_url).status_code == 409  # corrected: nothing waits for a correction now


def test_a_correction_refused_by_the_register_is_shown_on_the_form_and_not_checked(
    desk: Client, registrar: Principal
) -> None:
    person, event = _sent_back(registrar)
    body = "471108153"
    nobody = body + verhoeff_check_digit(body)
    assert not Person.objects.filter(uin=nobody).exists()
    # A form refused for one answer still says the UIN names nobody: every problem in one round.
    refused = desk.post(f"{OFFICE}/events/{event.pk}/correct", _form(person, uin=nobody, reason="")).content.decode()
    assert "Give the reason for the change of name" in refused and f"No person with UIN {nobody}" in refused
    unknown = desk.post(f"{OFFICE}/events/{event.pk}/correct", _form(person, uin=nobody))
    assert unknown.status_code == 200 and f"No person with UIN {nobody}" in unknown.content.decode()
    assert _unchanged(event)
    assert desk.get(f"{OFFICE}/events/{event.pk}/correct/check").status_code == 302  # no answers kept
