"""A refused applicant asks online for a review: once per decision, within the service's time limit;
the case goes back to the agency's queue, where an officer other than the one who refused upholds or
overturns the refusal with a reason the applicant reads."""

from __future__ import annotations

import itertools
import re
from datetime import date, datetime, timedelta

import pytest
from django.db import IntegrityError, transaction
from django.test import Client, override_settings
from django.utils import timezone

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.identity.contracts import staff_create
from gov21.identity.models import Account
from gov21.onestop import definitions, registers
from gov21.onestop import services as engine
from gov21.onestop.models import (
    Application,
    Document,
    Notification,
    ReviewDecision,
    ReviewRequest,
    ServiceDefinition,
    Transition,
)
from tests.identity.flows import PASSWORD, Person, citizen, portal_sign_in, with_totp

pytestmark = pytest.mark.django_db
S = Application.State
QUEUE = "/office/cases/"
_DAYS = itertools.count()


@pytest.fixture(autouse=True)
def _nation(exchange: None) -> None:
    definitions.definitions_load()


def _licensing(name: str, *, role: str = "case_officer") -> Principal:
    return Principal(
        name=name,
        kind="staff",
        roles=frozenset({role}),
        agencies=frozenset({"licensing"}),
        grants=frozenset({(role, "licensing")}),
    )


def _officer(username: str, *roles: str) -> Person:
    user = staff_create(username=username, password=PASSWORD, roles=list(roles), agency="licensing")
    return with_totp(Person(username, PASSWORD, "", Account.objects.get(user_id=user.pk)))


def _signed_in(person: Person, next_url: str = "/my/") -> Client:
    client = Client()
    portal_sign_in(client, person, next_url=next_url)
    return client


def _refused(refused_by: str = "officer.lta") -> tuple[Person, Application]:
    """A driver of 75 or over whose renewal an officer refused."""
    person = citizen(born=date(1940, 3, 1) + timedelta(days=5 * next(_DAYS)))
    licence = registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    uin = person.identifier
    application = engine.application_start(service="renew-driving-licence", uin=uin, user_id=None)
    application = engine.application_consent(application=application, uin=uin)
    for question, value in {"licence_number": licence.number, "health": "no"}.items():
        application = engine.application_answer(application=application, uin=uin, question_id=question, raw=value)
    application = engine.application_submit(application=application, uin=uin)
    assert application.state == S.IN_REVIEW
    engine.case_decide(
        principal=_licensing(refused_by),
        reference=application.reference,
        approve=False,
        reason="No medical report was sent.",
    )
    application.refresh_from_db()
    return person, application


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def _ask(application: Application, disagreement: str = "I sent the report by post on 2 March.") -> ReviewRequest:
    return engine.application_review_request(
        application=application, uin=application.applicant_uin, disagreement=disagreement
    )


def test_working_days_skip_the_weekend() -> None:
    friday = timezone.make_aware(datetime(2026, 12, 4, 10, 0))
    assert timezone.localtime(engine.working_days_after(friday, 1)).date() == date(2026, 12, 7)
    assert timezone.localtime(engine.working_days_after(friday, 10)).date() == date(2026, 12, 18)
    assert engine.working_days_after(friday, 0) == friday


def test_working_days_skip_the_configured_public_holidays() -> None:
    friday = timezone.make_aware(datetime(2026, 12, 18, 10, 0))
    with override_settings(GOV21_PUBLIC_HOLIDAYS=frozenset({date(2026, 12, 25), date(2026, 12, 28)})):
        assert timezone.localtime(engine.working_days_after(friday, 5)).date() == date(2026, 12, 29)
        assert timezone.localtime(engine.working_days_after(friday, 1)).date() == date(2026, 12, 21)
    with override_settings(GOV21_PUBLIC_HOLIDAYS=frozenset()):
        assert timezone.localtime(engine.working_days_after(friday, 5)).date() == date(2026, 12, 25)


def test_public_holidays_are_read_as_iso_dates_and_a_wrong_one_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_PUBLIC_HOLIDAYS", "2026-12-25, 2027-01-01,")
    assert config.iso_dates(config.PUBLIC_HOLIDAYS) == frozenset({date(2026, 12, 25), date(2027, 1, 1)})
    monkeypatch.setenv("GOV21_PUBLIC_HOLIDAYS", "2026-12-25,25/12/2027")
    with pytest.raises(ValueError, match="GOV21_PUBLIC_HOLIDAYS must list dates as YYYY-MM-DD, not '25/12/2027'"):
        config.iso_dates(config.PUBLIC_HOLIDAYS)
    monkeypatch.delenv("GOV21_PUBLIC_HOLIDAYS")
    assert config.iso_dates(config.PUBLIC_HOLIDAYS) == frozenset()


def test_the_applicant_is_told_in_their_inbox_that_the_request_was_received_and_by_when_it_is_decided() -> None:
    person, application = _refused()
    assert not Notification.objects.filter(uin=person.identifier, template__endswith=".review_requested").exists()

    review = _ask(application)

    notice = Notification.objects.filter(uin=person.identifier, template__endswith=".review_requested").get()
    due = timezone.localtime(review.due_at).date()
    assert notice.subject == f"Your request for a review of {application.reference} was received"
    assert "An officer other than the one who decided will look at it" in notice.body
    assert f"by {due.day} {due:%B} {due.year}." in notice.body
    assert notice.link == f"/my/applications/{application.reference}" and notice.language == "en"


def test_the_review_received_message_speaks_the_language_the_applicant_applied_in() -> None:
    person, application = _refused()
    Application.objects.filter(pk=application.pk).update(language="es")
    application.refresh_from_db()

    _ask(application)

    notice = Notification.objects.filter(uin=person.identifier, template__endswith=".review_requested").get()
    assert notice.language == "es"
    assert notice.subject == f"Recibimos su solicitud de revisión de {application.reference}"
    assert "Un funcionario distinto del que decidió" in notice.body


def test_the_applicant_asks_for_a_review_checks_it_then_sees_what_happens_next() -> None:
    person, application = _refused()
    client = _signed_in(person)
    page_url = f"/my/applications/{application.reference}"
    review_url = f"{page_url}/review"

    refusal = client.get(page_url).content.decode()
    assert f'href="{review_url}"' in refusal and "Ask for a review" in refusal
    until = timezone.localtime(application.decided_at + timedelta(days=30)).date()
    assert f"until {until.day} " in _text(refusal)

    assert "What do you disagree with in the decision?" in client.get(review_url).content.decode()
    empty = client.post(review_url, {"step": "check", "disagreement": "  ", "new_information": ""})
    assert empty.status_code == 422 and "Say what you disagree with in the decision." in empty.content.decode()
    assert 'href="#disagreement"' in empty.content.decode()

    data = {"disagreement": "I sent the report by post on 2 March.", "new_information": "Report DR-55."}
    check = client.post(review_url, {**data, "step": "check"})
    said = _text(check.content.decode())
    assert check.status_code == 200 and "Check your request before sending it" in said
    assert "I sent the report by post on 2 March." in said and "Report DR-55." in said
    assert "An officer who did not make the decision looks at your application again" in said
    assert not ReviewRequest.objects.exists()
    change = client.post(review_url, {**data, "step": "change"}).content.decode()
    assert "I sent the report by post on 2 March.</textarea>" in change and "Report DR-55.</textarea>" in change
    assert not ReviewRequest.objects.exists()

    sent = client.post(review_url, {**data, "step": "confirm"})

    assert sent.status_code == 302 and sent["Location"] == page_url
    review = ReviewRequest.objects.get(application=application)
    assert (review.requested_by, review.decision_by, review.decision_at) == (
        person.identifier,
        "officer.lta",
        application.decided_at,
    )
    assert review.new_information == "Report DR-55." and review.working_days == 10
    assert review.due_at == engine.working_days_after(review.requested_at, 10)
    application.refresh_from_db()
    assert application.state == S.REVIEW_REQUESTED and application.due_at == review.due_at
    step = Transition.objects.filter(application=application).last()
    assert step is not None and (step.to_state, step.actor, step.actor_kind) == (
        S.REVIEW_REQUESTED,
        person.identifier,
        "citizen",
    )
    said = _text(client.get(page_url).content.decode())
    assert "Review requested" in said and "Your request for a review" in said
    assert "An officer other than the one who made the decision looks at your application again" in said
    due = timezone.localtime(review.due_at).date()
    assert f"decides by {due.day} " in said and "within 10 working days" in said
    assert "Ask for a review" not in said


def test_another_citizen_can_neither_see_nor_ask_for_a_review_of_the_application() -> None:
    _person, application = _refused()
    stranger = citizen(born=date(1985, 1, 1))
    other = _signed_in(stranger)
    review_url = f"/my/applications/{application.reference}/review"

    assert other.get(review_url).status_code == 404
    response = other.post(review_url, {"step": "confirm", "disagreement": "Let me in."})

    assert response.status_code == 404 and "Let me in." not in response.content.decode()
    assert not ReviewRequest.objects.exists()
    with pytest.raises(DomainError) as refused:
        engine.application_review_request(application=application, uin=stranger.identifier, disagreement="x y z")
    assert refused.value.status == 404
    visitor = Client().get(review_url)
    assert visitor.status_code == 302 and visitor["Location"].startswith("/sign-in?next=")
    application.refresh_from_db()
    assert application.state == S.REFUSED


def test_a_second_request_about_the_same_decision_is_refused() -> None:
    person, application = _refused()
    client = _signed_in(person)
    review_url = f"/my/applications/{application.reference}/review"
    _ask(application)

    again = client.post(review_url, {"step": "confirm", "disagreement": "Once more."})

    assert again.status_code == 409 and "You have already asked for a review of this decision." in _text(
        again.content.decode()
    )
    assert client.get(review_url)["Location"] == f"/my/applications/{application.reference}"
    engine.case_review_request_decide(
        principal=_licensing("officer.two"), reference=application.reference, upheld=True, reason="No report came."
    )
    application.refresh_from_db()
    assert application.state == S.REFUSED
    with pytest.raises(DomainError) as refused:
        _ask(application, "And again.")
    assert refused.value.code == "review_already_requested"
    # The database itself keeps one request per decision.
    with pytest.raises(IntegrityError), transaction.atomic():
        review = ReviewRequest.objects.get()
        review.pk = None
        review.save()
    assert ReviewRequest.objects.count() == 1
    page = _text(client.get(f"/my/applications/{application.reference}").content.decode())
    assert "Ask for a review" not in page and "visit a government office with your reference" in page


def test_a_request_after_the_time_limit_is_refused_and_the_limit_comes_from_the_service() -> None:
    person, application = _refused()
    client = _signed_in(person)
    review_url = f"/my/applications/{application.reference}/review"
    Application.objects.filter(pk=application.pk).update(decided_at=timezone.now() - timedelta(days=31))

    page = _text(client.get(f"/my/applications/{application.reference}").content.decode())
    assert "Ask for a review" not in page and "visit a government office with your reference" in page
    assert client.get(review_url)["Location"] == f"/my/applications/{application.reference}"
    late = client.post(review_url, {"step": "confirm", "disagreement": "I was away."})

    assert late.status_code == 409
    assert "within 30 days of the decision, and that time has passed" in _text(late.content.decode())
    assert not ReviewRequest.objects.exists()

    # A service may allow longer, and give its officers another number of working days.
    service = ServiceDefinition.objects.get(pk=application.service_id)
    definition = {**service.definition, "review": {"request_within_days": 60, "decide_within_working_days": 3}}
    definitions.definition_check(definition)
    ServiceDefinition.objects.filter(pk=service.pk).update(definition=definition)
    assert client.post(review_url, {"step": "confirm", "disagreement": "I was away."}).status_code == 302
    review = ReviewRequest.objects.get()
    assert review.working_days == 3 and review.due_at == engine.working_days_after(review.requested_at, 3)
    with pytest.raises(DomainError):
        definitions.definition_check({**definition, "review": {"request_within_days": 0}})
    with pytest.raises(DomainError):
        definitions.definition_check({**definition, "review": {"appeal_to": "minister"}})


def test_the_officer_who_refused_cannot_decide_the_review_another_upholds_it() -> None:
    deciding = _officer("officer.lta", "case_officer")
    person, application = _refused(refused_by="officer.lta")
    _ask(application, "The report was sent.")
    reference = application.reference

    first = _signed_in(deciding, next_url=QUEUE)
    queue = first.get(QUEUE).content.decode()
    assert reference in queue and "Review requested" in queue
    first.post(f"{QUEUE}{reference}", {"purpose": "Reviewing the refusal"})
    own = first.get(f"{QUEUE}{reference}").content.decode()
    assert "The report was sent." in own and 'id="review-own-decision"' in own
    assert 'id="reconsider-reason"' not in own
    refused = first.post(f"{QUEUE}{reference}/reconsider", {"outcome": "overturn", "reason": "My own mistake."})
    assert refused.status_code == 403
    assert "another officer must decide the review" in refused.content.decode()
    assert not ReviewDecision.objects.exists()
    with pytest.raises(DomainError) as assigned:
        engine.case_assign(principal=_licensing("boss", role="supervisor"), reference=reference, to="officer.lta")
    assert assigned.value.code == "four_eyes"

    second = _signed_in(_officer("officer.two", "case_officer"), next_url=QUEUE)
    second.post(f"{QUEUE}{reference}", {"purpose": "Reviewing the refusal"})
    page = second.get(f"{QUEUE}{reference}").content.decode()
    assert 'id="review-request"' in page and 'id="reconsider-reason"' in page
    empty = second.post(f"{QUEUE}{reference}/reconsider", {"outcome": "uphold", "reason": " "})
    assert empty.status_code == 422 and 'href="#reconsider-reason"' in empty.content.decode()
    upheld = second.post(f"{QUEUE}{reference}/reconsider", {"outcome": "uphold", "reason": "No report was received."})

    assert upheld.status_code == 302
    application.refresh_from_db()
    assert application.state == S.REFUSED and application.decided_by == "officer.lta"
    decision = ReviewDecision.objects.get()
    assert (decision.outcome, decision.decided_by, decision.reason) == (
        "upheld",
        "officer.two",
        "No report was received.",
    )
    said = _text(_signed_in(person).get(f"/my/applications/{reference}").content.decode())
    assert "The refusal is upheld: the decision stands." in said and "No report was received." in said
    notice = Notification.objects.filter(uin=person.identifier, template__endswith=".review_decided").get()
    assert "upheld" in notice.subject and "No report was received." in notice.body


def test_a_review_overturned_approves_the_application() -> None:
    person, application = _refused(refused_by="officer.lta")
    _ask(application)
    client = _signed_in(_officer("officer.two", "case_officer"), next_url=QUEUE)
    client.post(f"{QUEUE}{application.reference}", {"purpose": "Reviewing the refusal"})

    response = client.post(
        f"{QUEUE}{application.reference}/reconsider",
        {"outcome": "overturn", "reason": "The report arrived by post: fit to drive."},
    )

    assert response.status_code == 302
    application.refresh_from_db()
    assert application.state == S.COMPLETED and application.decided_by == "officer.two"
    assert Document.objects.filter(application=application, kind="driving-licence").exists()
    said = _text(_signed_in(person).get(f"/my/applications/{application.reference}").content.decode())
    assert "The refusal is overturned: your application is approved." in said
    assert "The report arrived by post: fit to drive." in said
