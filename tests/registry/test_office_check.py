"""Check your answers before declaring: a valid form leads to a page showing every answer in words,
each with a way back to change it, and only "Declare the ..." there records the declaration."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

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
CHECK = f"{OFFICE}/declare/birth/check"


@pytest.fixture
def desk(client: Client) -> Client:
    portal_sign_in(client, staff("desk.one", "registrar"), next_url=f"{OFFICE}/")
    return client


def _born() -> date:
    return timezone.localdate() - timedelta(days=5)


def _birth_form(mother_uin: str, **extra: str) -> dict[str, Any]:
    born = _born()
    return {
        "given_names": "Aline Rose",
        "family_name": "Charles",
        "sex": "F",
        "birth_date_day": str(born.day),
        "birth_date_month": str(born.month),
        "birth_date_year": str(born.year),
        "birth_parish": "XA-03",
        "birth_settlement": "Mango Walk",
        "mother_uin": mother_uin,
        "father_uin": "",
        "informant": "The mother",
        **extra,
    }


def _declared() -> int:
    return LifeEvent.objects.filter(state=EventState.DECLARED).count()


def _mother(registrar: Principal) -> Person:
    return register_person(registrar, given="Marie", born=date(1990, 5, 6))


def _answers(page: str) -> dict[str, str]:
    """The check page's answers, by field, as the registrar reads them (without the "Change" link)."""
    rows = page.split('<dl class="summary" id="check-answers">')[1].split("</dl>")[0]
    answers = {}
    for row in rows.split('<dd data-field="')[1:]:
        field, rest = row.split('">', 1)
        answers[field] = rest.split(" <a ", 1)[0]
    return answers


def test_a_valid_form_leads_to_its_answers_in_words_and_nothing_is_declared(desk: Client, registrar: Principal) -> None:
    mother = _mother(registrar)
    before = _declared()
    sent = desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin))
    assert sent.status_code == 302 and sent["Location"] == CHECK
    assert _declared() == before
    page = desk.get(CHECK).content.decode()
    assert "Check the answers before declaring" in page and "Declare the birth" in page
    for label in ("Child&#x27;s given names", "Sex", "Date of birth", "Parish of birth", "Mother&#x27;s UIN"):
        assert f"<dt>{label}</dt>" in page, label
    answers = _answers(page)
    assert answers["given_names"] == "Aline Rose"
    assert answers["sex"] == "Female"
    assert answers["birth_date"] == date_format(_born(), "j F Y") and str(_born().year) in answers["birth_date"]
    assert answers["birth_parish"] == "Anse Corail (XA-03)"
    assert answers["mother_uin"] == mother.uin
    assert answers["father_uin"] == "Not given"
    # The fields the form does not ask are not shown as answers.
    assert "address_parish" not in answers
    assert f'href="{OFFICE}/declare/birth?change=sex#sex_0"' in page
    assert _declared() == before


def test_change_goes_back_to_the_form_with_every_answer_kept(desk: Client, registrar: Principal) -> None:
    mother = _mother(registrar)
    desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin))
    form = desk.get(f"{OFFICE}/declare/birth", {"change": "given_names"}).content.decode()
    assert 'value="Aline Rose"' in form and 'value="Mango Walk"' in form and f'value="{mother.uin}"' in form
    assert re.search(r'<input type="radio" name="sex" value="F"[^>]*\bchecked', form)
    assert f'value="{_born().year}"' in form and '<option value="XA-03" selected>' in form
    assert "There is a problem" not in form
    # Opening the form afresh starts a new declaration.
    assert 'value="Aline Rose"' not in desk.get(f"{OFFICE}/declare/birth").content.decode()
    again = desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin, given_names="Aline Marie"))
    assert again["Location"] == CHECK
    page = desk.get(CHECK).content.decode()
    assert _answers(page)["given_names"] == "Aline Marie"
    response = desk.post(CHECK, {"answers": confirmation(page)})
    assert response.status_code == 302
    event = LifeEvent.objects.get(state=EventState.DECLARED, kind="birth")
    assert response["Location"] == f"{OFFICE}/events/{event.pk}"
    assert event.data["given_names"] == "Aline Marie" and event.data["birth_parish"] == "XA-03"
    # Once declared, the answers are gone: the check page sends back to the form.
    after = desk.get(CHECK)
    assert after.status_code == 302 and after["Location"] == f"{OFFICE}/declare/birth"


def test_an_altered_confirmation_is_refused_and_nothing_is_declared(desk: Client, registrar: Principal) -> None:
    mother = _mother(registrar)
    before = _declared()
    desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin))
    signed = confirmation(desk.get(CHECK).content.decode())
    for altered in ("x" + signed, signed[:-2], "", "e30:1kXyZ:abc"):
        response = desk.post(CHECK, {"answers": altered})
        assert response.status_code == 400, altered
        page = response.content.decode()
        assert "There is a problem" in page and "the page was altered" in page
        assert _answers(page)["given_names"] == "Aline Rose"
        assert _declared() == before
    # The page shown with the refusal carries a confirmation that works.
    assert desk.post(CHECK, {"answers": confirmation(page)}).status_code == 302
    assert _declared() == before + 1


def test_answers_changed_in_another_window_are_shown_again_not_declared(desk: Client, registrar: Principal) -> None:
    mother = _mother(registrar)
    desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin))
    first = confirmation(desk.get(CHECK).content.decode())
    desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin, given_names="Rose"))
    response = desk.post(CHECK, {"answers": first})
    assert response.status_code == 409
    page = response.content.decode()
    assert "changed in another window" in page and _answers(page)["given_names"] == "Rose"
    assert not LifeEvent.objects.filter(state=EventState.DECLARED, kind="birth").exists()


def test_a_confirmation_from_another_kind_of_declaration_is_refused(desk: Client, registrar: Principal) -> None:
    person = register_person(registrar, born=date(1980, 2, 3))
    on = timezone.localdate() - timedelta(days=7)
    address = {
        "uin": person.uin,
        "date_day": str(on.day),
        "date_month": str(on.month),
        "date_year": str(on.year),
        "parish": "XA-03",
        "line": "12 Bay Street",
    }
    desk.post(f"{OFFICE}/declare/address", address)
    other = confirmation(desk.get(f"{OFFICE}/declare/address/check").content.decode())
    desk.post(f"{OFFICE}/declare/birth", _birth_form(_mother(registrar).uin))
    assert desk.post(CHECK, {"answers": other}).status_code == 409
    assert not LifeEvent.objects.filter(state=EventState.DECLARED).exists()


def _unregistered(body: str) -> str:
    """A well-formed UIN (right length, right check digit) that names nobody in the register."""
    uin = body + verhoeff_check_digit(body)
    assert not Person.objects.filter(uin=uin).exists()
    return uin


def test_every_error_comes_in_one_round_with_the_registers_own(desk: Client, registrar: Principal) -> None:
    nobody = _unregistered("234517689")
    # A well-formed UIN that names nobody, beside a missing answer: both said at once.
    response = desk.post(f"{OFFICE}/declare/birth", _birth_form(nobody, informant=""))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Enter who declared the birth" in page
    assert f"No person with UIN {nobody} is registered." in page and 'href="#mother_uin"' in page
    # With every answer given, each rule broken is said at once: no such mother, and no such father.
    father = _unregistered("345827196")
    page = desk.post(f"{OFFICE}/declare/birth", _birth_form(nobody, father_uin=father)).content.decode()
    assert 'href="#mother_uin"' in page and 'href="#father_uin"' in page
    assert 'id="mother_uin_error"' in page and 'id="father_uin_error"' in page
    assert not LifeEvent.objects.filter(state=EventState.DECLARED).exists()
    assert desk.get(CHECK)["Location"] == f"{OFFICE}/declare/birth"


def test_a_rule_broken_after_the_check_is_shown_on_the_form(desk: Client, registrar: Principal) -> None:
    mother = _mother(registrar)
    desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin))
    signed = confirmation(desk.get(CHECK).content.decode())
    # The mother's death is registered while the registrar reads the answers.
    death = services.event_declare(
        declaration=services.declaration_parse(
            kind="death", data={"uin": mother.uin, "death_date": (_born() - timedelta(days=400)).isoformat()}
        ),
        actor=registrar,
    )
    services.event_validate(event_id=death.pk, actor=registrar)
    services.event_register(event_id=death.pk, actor=registrar)
    response = desk.post(CHECK, {"answers": signed})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page and 'href="#mother_uin"' in page and 'value="Aline Rose"' in page
    assert f'action="{OFFICE}/declare/birth"' in page
    assert not LifeEvent.objects.filter(kind="birth", state=EventState.DECLARED).exists()


def test_the_confirmation_needs_the_pages_csrf_token(desk: Client, registrar: Principal) -> None:
    mother = _mother(registrar)
    desk.post(f"{OFFICE}/declare/birth", _birth_form(mother.uin))
    signed = confirmation(desk.get(CHECK).content.decode())
    strict = Client(enforce_csrf_checks=True)
    strict.cookies = desk.cookies
    response = strict.post(CHECK, {"answers": signed})
    assert response.status_code == 403 and "This form has expired" in response.content.decode()
    assert not LifeEvent.objects.filter(kind="birth", state=EventState.DECLARED).exists()


def test_an_unknown_kind_has_no_check_page(desk: Client) -> None:
    assert desk.get(f"{OFFICE}/declare/adoption/check").status_code == 404
