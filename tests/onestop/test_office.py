"""The back office of the one-stop shop: officers sign in through the real OpenID Connect flow and
work the cases the engine put in their agency's queue."""

from __future__ import annotations

import itertools
import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from gov21.audit.contracts import access_records_for
from gov21.core.principal import Principal
from gov21.identity.contracts import staff_create
from gov21.identity.models import Account
from gov21.onestop import definitions, payments, registers
from gov21.onestop import services as engine
from gov21.onestop.models import Application, Business, Document, Licence, Payment
from tests.identity.flows import PASSWORD, Person, citizen, portal_sign_in, staff, with_totp
from tests.registry.factories import register_person

S = Application.State
REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))
QUEUE = "/office/cases/"
PURPOSE = "Deciding the renewal"
# Persons born on distinct days, so that the registry does not hold them for possible duplicates.
_DAYS = itertools.count()


@pytest.fixture(autouse=True)
def _nation(exchange: None) -> None:
    definitions.definitions_load()


def _officer(username: str, *roles: str, agency: str = "licensing") -> Person:
    user = staff_create(username=username, password=PASSWORD, roles=list(roles), agency=agency)
    return with_totp(Person(username, PASSWORD, "", Account.objects.get(user_id=user.pk)))


def _signed_in(person: Person, next_url: str = QUEUE) -> Client:
    client = Client()
    portal_sign_in(client, person, next_url=next_url)
    return client


def _apply(service: str, uin: str, answers: dict[str, str]) -> Application:
    application = engine.application_start(service=service, uin=uin, user_id=None)
    application = engine.application_consent(application=application, uin=uin)
    for question, value in answers.items():
        application = engine.application_answer(application=application, uin=uin, question_id=question, raw=value)
    return engine.application_submit(application=application, uin=uin)


def _renewal(*, born: date) -> Application:
    """A licence renewal: with an officer for a driver of 75 or over, decided by the rules otherwise."""
    driver = register_person(REGISTRAR, born=born + timedelta(days=5 * next(_DAYS)))
    licence = registers.licence_issue(uin=driver.uin, issued_on=date(2016, 1, 1))
    return _apply("renew-driving-licence", driver.uin, {"licence_number": licence.number, "health": "no"})


def _for_an_officer() -> Application:
    application = _renewal(born=date(1940, 5, 1))
    assert application.state == S.IN_REVIEW
    return application


def _business_name_to_pay(name: str) -> Application:
    owner = register_person(REGISTRAR, born=date(1980, 1, 1) + timedelta(days=5 * next(_DAYS)))
    answers = {"business_name": name, "activity": "Boat trips", "address": "Quay 2"}
    application = _apply("register-business-name", owner.uin, answers)
    assert application.state == S.AWAITING_PAYMENT
    return application


def _open(client: Client, reference: str, purpose: str = PURPOSE) -> str:
    response = client.post(f"{QUEUE}{reference}", {"purpose": purpose})
    assert response.status_code == 302 and response["Location"] == f"{QUEUE}{reference}", response
    page = client.get(response["Location"])
    assert page.status_code == 200
    return page.content.decode()


def _row(html: str, reference: str) -> str:
    rows = [row for row in re.findall(r"<tr>.*?</tr>", html, flags=re.S) if f">{reference}</a>" in row]
    assert len(rows) == 1, f"{reference} is not listed once"
    return str(rows[0])


def _state(application: Application) -> str:
    application.refresh_from_db()
    return str(application.state)


# --- the queue ------------------------------------------------------------------------------------


def test_the_queue_lists_only_the_agencys_open_cases_and_marks_those_late(
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    late, soon, later = _for_an_officer(), _for_an_officer(), _for_an_officer()
    other_agency = _business_name_to_pay("Coral Bay Kayaks")
    # Time passes: one case is past its due date, another is due tomorrow.
    Application.objects.filter(pk=late.pk).update(due_at=timezone.now() - timedelta(days=1))
    Application.objects.filter(pk=soon.pk).update(due_at=timezone.now() + timedelta(days=1))
    client = _signed_in(_officer("officer.lta", "case_officer"))

    # Sign-in session, user, roles, the queue itself: not one query more per row.
    with django_assert_max_num_queries(5):
        response = client.get(QUEUE)

    assert response.status_code == 200
    html = response.content.decode()
    assert other_agency.reference not in html
    assert '<span class="tag bad">Overdue</span>' in _row(html, late.reference)
    assert '<span class="tag warn">Due soon</span>' in _row(html, soon.reference)
    assert "Overdue" not in _row(html, later.reference) and "Due soon" not in _row(html, later.reference)
    assert "Renew a driving licence" in _row(html, later.reference)
    assert "3 cases, the earliest due first" in html
    # The earliest due first.
    assert html.index(late.reference) < html.index(soon.reference) < html.index(later.reference)

    overdue = client.get(QUEUE, {"overdue": "on"}).content.decode()
    assert late.reference in overdue and soon.reference not in overdue and later.reference not in overdue
    by_reference = client.get(QUEUE, {"q": soon.reference}).content.decode()
    assert soon.reference in by_reference and late.reference not in by_reference
    assert "No case matches these filters." in client.get(QUEUE, {"mine": "on"}).content.decode()


def test_cases_assigned_to_me_are_found_with_the_filter() -> None:
    mine, theirs = _for_an_officer(), _for_an_officer()
    client = _signed_in(_officer("officer.lta", "case_officer"))
    _open(client, mine.reference)

    assert client.post(f"{QUEUE}{mine.reference}/assign", {"me": "1"}).status_code == 302

    html = client.get(QUEUE, {"mine": "on"}).content.decode()
    assert mine.reference in html and theirs.reference not in html
    assert "officer.lta" in _row(html, mine.reference)


# --- opening a case -------------------------------------------------------------------------------


def test_a_case_opens_only_with_a_purpose_which_is_recorded_with_the_view() -> None:
    application = _for_an_officer()
    uin = application.applicant_uin
    client = _signed_in(_officer("officer.lta", "case_officer"))

    asked = client.get(f"{QUEUE}{application.reference}")
    assert asked.status_code == 200
    assert "Why are you opening this case?" in asked.content.decode()
    assert uin not in asked.content.decode()

    refused = client.post(f"{QUEUE}{application.reference}", {"purpose": "   "})
    assert refused.status_code == 422
    assert "Say why you are opening this case." in refused.content.decode()
    assert uin not in refused.content.decode()
    assert client.get(f"{QUEUE}{application.reference}").content.decode().count("Why are you opening") == 1
    assert not [r for r in access_records_for(subject=uin) if r["action"] == "case.read"]

    html = _open(client, application.reference)

    records = [r for r in access_records_for(subject=uin) if r["action"] == "case.read"]
    assert len(records) == 1
    assert records[0]["actor"] == "officer.lta"
    assert records[0]["purpose"] == f"{PURPOSE} ({application.reference})"
    assert f"<code>{uin}</code>" in html
    assert "What is your driving licence number?" in html  # the question's label, not its id
    assert "CRO/civil-registry/persons" in html  # where the verified facts came from
    assert "Drivers under 17 or aged 75 and over renew with an officer" in html  # the failed check
    assert "_sources" not in html and "_missing" not in html
    assert "Renew a driving licence" in html and "version 2" in html
    # The registries' facts under the titles their services declare, not their field names.
    assert "<dt>Parish of address</dt>" in html and "<dt>Recorded on</dt>" in html
    assert "<dt>Licences</dt>" in html and "Licence number: " in html and "Expires on: " in html
    assert "address_parish" not in html and "recorded_at" not in html and "expires_on" not in html
    assert "From the Civil Registration Office on" in html


# --- working a case -------------------------------------------------------------------------------


def test_an_officer_asks_for_more_information_then_approves_with_a_reason() -> None:
    application = _for_an_officer()
    client = _signed_in(_officer("officer.lta", "case_officer"))
    _open(client, application.reference)

    asked = client.post(f"{QUEUE}{application.reference}/request-info", {"message": "Send a medical report."})

    assert asked.status_code == 302
    assert _state(application) == S.INFO_REQUESTED
    html = client.get(asked["Location"]).content.decode()
    assert "The applicant is asked for more information." in html
    assert "Send a medical report." in html
    assert "Reason for the decision" not in html  # nothing to decide while the applicant is asked

    engine.application_respond(application=application, uin=application.applicant_uin, response="Report DR-55.")
    assert "Report DR-55." in client.get(f"{QUEUE}{application.reference}").content.decode()

    decided = client.post(
        f"{QUEUE}{application.reference}/decide", {"decision": "approve", "reason": "Report DR-55 says fit to drive."}
    )

    assert decided.status_code == 302
    assert _state(application) == S.COMPLETED
    assert application.decided_by == "officer.lta"
    document = Document.objects.get(application=application, kind="driving-licence")
    html = client.get(decided["Location"]).content.decode()
    assert f"<code>{document.serial}</code>" in html
    assert "Report DR-55 says fit to drive." in html
    assert "With an officer → Completed" not in html and "Approved → Completed" in html


def test_a_refusal_without_a_reason_is_shown_and_changes_nothing() -> None:
    application = _for_an_officer()
    client = _signed_in(_officer("officer.lta", "case_officer"))
    _open(client, application.reference)

    response = client.post(f"{QUEUE}{application.reference}/decide", {"decision": "refuse", "reason": "  "})

    assert response.status_code == 422
    html = response.content.decode()
    assert 'href="#decide-reason"' in html  # the error summary leads to the field
    assert 'id="decide-reason-error"' in html and "Give the reason for the decision" in html
    assert _state(application) == S.IN_REVIEW
    assert application.decision == ""


def test_an_officer_of_another_agency_is_refused_the_case() -> None:
    application = _for_an_officer()
    uin = application.applicant_uin
    client = _signed_in(staff("officer.cro", "case_officer"))  # civil registry

    shown = client.get(f"{QUEUE}{application.reference}")
    opened = client.post(f"{QUEUE}{application.reference}", {"purpose": "Curious"})

    for response in (shown, opened):
        assert response.status_code == 403
        assert "This case belongs to another agency." in response.content.decode()
        assert uin not in response.content.decode()
    assert application.reference not in client.get(QUEUE).content.decode()
    assert not [r for r in access_records_for(subject=uin) if r["action"] == "case.read"]
    # Working it without opening it leads back to the question, which refuses.
    tried = client.post(f"{QUEUE}{application.reference}/decide", {"decision": "refuse", "reason": "No"})
    assert tried.status_code == 302 and tried["Location"] == f"{QUEUE}{application.reference}"
    assert _state(application) == S.IN_REVIEW


def test_staff_without_a_case_role_and_citizens_are_refused() -> None:
    clerk = _signed_in(staff("clerk.one", "clerk"))
    assert clerk.get(QUEUE).status_code == 403
    assert "does not allow working the cases" in clerk.get(QUEUE).content.decode()

    person = _signed_in(citizen())
    assert person.get(QUEUE).status_code == 403


def test_a_visitor_is_sent_to_sign_in() -> None:
    response = Client().get(f"{QUEUE}automatic")
    assert response.status_code == 302 and "next=/office/cases/automatic" in response["Location"]


def test_a_supervisor_assigns_and_sees_the_workload_and_a_case_officer_does_not() -> None:
    first, second = _for_an_officer(), _for_an_officer()
    Application.objects.filter(pk=second.pk).update(due_at=timezone.now() - timedelta(hours=1))
    supervisor = _signed_in(_officer("supervisor.lta", "supervisor"))
    _open(supervisor, first.reference)

    assigned = supervisor.post(f"{QUEUE}{first.reference}/assign", {"to": "officer.lta"})

    assert assigned.status_code == 302
    first.refresh_from_db()
    assert first.assigned_to == "officer.lta"
    response = supervisor.get(f"{QUEUE}workload")
    assert response.status_code == 200
    html = response.content.decode()
    assert '<dd id="total">2</dd>' in html
    assert '<dd id="overdue">1 <span class="tag bad">Overdue</span></dd>' in html
    assert "<tr><td>officer.lta</td><td>1</td><td>0</td></tr>" in html
    assert "<tr><td>Not assigned yet</td><td>1</td><td>1</td></tr>" in html
    assert "Renew a driving licence" in html

    officer = _signed_in(_officer("officer.lta", "case_officer"))
    refused = officer.get(f"{QUEUE}workload")
    assert refused.status_code == 403 and "Only a supervisor" in refused.content.decode()
    _open(officer, second.reference)
    to_someone = officer.post(f"{QUEUE}{second.reference}/assign", {"to": "officer.two"})
    assert to_someone.status_code == 403
    second.refresh_from_db()
    assert second.assigned_to == ""


def test_an_automatic_decision_overturned_on_review_revokes_the_document() -> None:
    application = _renewal(born=date(1980, 5, 1))
    assert application.state == S.COMPLETED and application.decided_by == engine.SYSTEM_ACTOR
    client = _signed_in(_officer("officer.lta", "case_officer"))

    listed = client.get(f"{QUEUE}automatic").content.decode()
    assert f'href="{QUEUE}{application.reference}"' in listed
    html = _open(client, application.reference, purpose="Sampling automatic decisions")
    assert "Review the automatic decision" in html and "automatically, by the rules" in html

    upheld = client.post(f"{QUEUE}{application.reference}/review", {"outcome": "uphold", "note": "Checks fine."})
    assert upheld.status_code == 302 and _state(application) == S.COMPLETED
    overturned = client.post(
        f"{QUEUE}{application.reference}/review", {"outcome": "overturn", "note": "The licence was suspended."}
    )

    assert overturned.status_code == 302
    assert _state(application) == S.REFUSED and application.decided_by == "officer.lta"
    document = Document.objects.get(application=application)
    assert document.status == Document.Status.REVOKED
    # The renewal itself is undone: the licence expires when it did before.
    licence = Licence.objects.get(holder_uin=application.applicant_uin)
    assert licence.expires_on.isoformat() == application.verified["_output"]["previous_expiry"]
    html = client.get(overturned["Location"]).content.decode()
    assert "Revoked" in html and "The licence was suspended." in html
    assert "Automatic decision reviewed and upheld: Checks fine." in html
    assert "Review the automatic decision" not in html


def test_cash_taken_at_the_counter_moves_a_business_name_on() -> None:
    application = _business_name_to_pay("Coral Bay Kayaks")
    payment = payments.payment_start_counter(application=application, amount=3000, currency="XCD")
    client = _signed_in(_officer("officer.bra", "case_officer", agency="business-register"))
    html = _open(client, application.reference, purpose="Payment at the counter")
    assert "Confirm payment at the counter" in html and "XCD 30.00" in html

    confirmed = client.post(f"{QUEUE}{application.reference}/payments/{payment.pk}/confirm")

    assert confirmed.status_code == 302
    payment.refresh_from_db()
    assert (payment.status, payment.confirmed_by) == (Payment.Status.SUCCESS, "officer.bra")
    assert _state(application) == S.COMPLETED
    assert Business.objects.filter(name="Coral Bay Kayaks", owner_uin=application.applicant_uin).exists()
    paid = [t for t in application.transitions.all() if t.note == "Fee paid"]
    assert [(t.actor, t.actor_kind) for t in paid] == [("officer.bra", "staff")]
    page = client.get(confirmed["Location"]).content.decode()
    assert "The payment of XCD 30.00 is recorded." in page
    assert "Confirm payment at the counter" not in page

    again = client.post(f"{QUEUE}{application.reference}/payments/{payment.pk}/confirm")
    assert again.status_code == 409 and "take no cash" in again.content.decode()


def test_a_payment_of_another_case_is_not_confirmed_through_this_one() -> None:
    application = _business_name_to_pay("Coral Bay Kayaks")
    elsewhere = _business_name_to_pay("Reef Divers")
    payment = payments.payment_start_counter(application=elsewhere, amount=3000, currency="XCD")
    client = _signed_in(_officer("officer.bra", "case_officer", agency="business-register"))
    _open(client, application.reference, purpose="Payment at the counter")

    response = client.post(f"{QUEUE}{application.reference}/payments/{payment.pk}/confirm")

    assert response.status_code == 409 and "no such payment" in response.content.decode()
    payment.refresh_from_db()
    assert payment.status == Payment.Status.STARTED


# --- hostile input --------------------------------------------------------------------------------


@pytest.mark.parametrize("reference", ["A-NOSUCH23", "%00", "A-%0D%0ASet-Cookie", "x" * 300])
def test_a_case_that_does_not_exist_is_a_not_found_page(reference: str) -> None:
    client = _signed_in(_officer("officer.lta", "case_officer"))

    for response in (
        client.get(f"{QUEUE}{reference}"),
        client.post(f"{QUEUE}{reference}", {"purpose": PURPOSE}),
    ):
        assert response.status_code == 404
        assert "<h1>Not found</h1>" in response.content.decode()


def test_nul_bytes_and_overlong_text_are_refused_with_a_message() -> None:
    application = _for_an_officer()
    client = _signed_in(_officer("officer.lta", "case_officer"))

    purpose = client.post(f"{QUEUE}{application.reference}", {"purpose": "look\x00ing"})
    assert purpose.status_code == 422 and "characters we cannot accept" in purpose.content.decode()
    _open(client, application.reference)

    for form in (
        {"decision": "refuse", "reason": "No\x00"},
        {"decision": "approve", "reason": "x" * 2001},
        {"decision": "maybe", "reason": "Fine"},
    ):
        response = client.post(f"{QUEUE}{application.reference}/decide", form)
        assert response.status_code == 422, form
        assert "There is a problem" in response.content.decode()
    asked = client.post(f"{QUEUE}{application.reference}/request-info", {"message": "\x00"})
    assert asked.status_code == 422 and "characters we cannot accept" in asked.content.decode()
    assigned = client.post(f"{QUEUE}{application.reference}/assign", {"to": "officer\x00lta"})
    assert assigned.status_code in (403, 422)
    assert _state(application) == S.IN_REVIEW and application.decision == "" and application.assigned_to == ""

    search = client.get(QUEUE, {"q": "A-\x00", "state": "nonsense"})
    assert search.status_code == 200 and "The filters could not be used" in search.content.decode()
