"""What a citizen does with their own application, named by its reference: the portal's journey.

Each function finds the application among the citizen's own (NotFound for anyone else's, so nobody
learns of another's), calls the shop's reads and writes on its row, and hands back an
:class:`ApplicationView`; the rows never leave the shop."""

from __future__ import annotations

from typing import Any

from gov21.onestop import payments
from gov21.onestop.definitions import text
from gov21.onestop.documents import document_title
from gov21.onestop.models import Application
from gov21.onestop.records import (
    ApplicationState,
    ApplicationView,
    ConfirmationView,
    DocumentLink,
    Fee,
    Option,
    Outcome,
    PaymentSummary,
    PrefillSource,
    Question,
    ReviewSummary,
    TransitionSummary,
    VerifiedPerson,
)
from gov21.onestop.selectors import application_for, application_state_label
from gov21.onestop.services import application_answer as _answer
from gov21.onestop.services import (
    application_confirm,
    application_for_second_party,
    application_paid,
    definition_of,
    eligibility,
    fee_text,
    offer_accept,
    question_get,
    questions_visible,
    review_latest,
    review_open_until,
    review_terms,
    unanswered,
)
from gov21.onestop.services import application_consent as _consent
from gov21.onestop.services import application_respond as _respond
from gov21.onestop.services import application_review_request as _review_request
from gov21.onestop.services import application_start as _start
from gov21.onestop.services import application_submit as _submit
from gov21.onestop.services import application_withdraw as _withdraw

_PERSON_FIELDS = tuple(VerifiedPerson.model_fields)


def _question(q: dict[str, Any]) -> Question:
    return Question(
        id=q["id"],
        type=q["type"],
        label=q["label"],
        hint=q.get("hint"),
        required=q.get("required", True),
        options=[Option(value=o["value"], label=o["label"]) for o in q.get("options", [])],
    )


def _outcome(result: dict[str, Any]) -> Outcome:
    return Outcome(passed=bool(result.get("passed")), reason=result.get("reason"))


def _person(application: Application) -> VerifiedPerson:
    person = application.verified.get("person") or {}
    return VerifiedPerson(**{k: str(person[k]) for k in _PERSON_FIELDS if person.get(k) not in (None, "")})


def _fee(definition: dict[str, Any]) -> Fee | None:
    fee = definition.get("fee")
    if not fee:
        return None
    return Fee(amount=fee["amount"], currency=fee["currency"], description=fee["description"])


def _review(application: Application) -> ReviewSummary | None:
    review = review_latest(application)
    if review is None:
        return None
    decision = getattr(review, "decision", None)
    return ReviewSummary(
        requested_at=review.requested_at,
        disagreement=review.disagreement,
        new_information=review.new_information,
        working_days=review.working_days,
        due_at=review.due_at,
        outcome=decision.outcome if decision is not None else "",
        outcome_reason=decision.reason if decision is not None else "",
        decided_at=decision.decided_at if decision is not None else None,
    )


def _view(application: Application) -> ApplicationView:
    d = definition_of(application)
    return ApplicationView(
        reference=application.reference,
        service_code=application.service.code,
        state=ApplicationState(application.state),
        state_label=application.get_state_display(),
        consented=application.consent_at is not None,
        answers=dict(application.answers),
        person=_person(application),
        checks=[_outcome(c) for c in application.checks],
        reasons=[_outcome(r) for r in application.reasons],
        decided_by=application.decided_by,
        due_at=application.due_at,
        info_request=application.info_request,
        transitions=[
            TransitionSummary(
                at=t.at,
                to_state=t.to_state,
                state_label=application_state_label(t.to_state),
                note=t.note,
                actor_kind=t.actor_kind,
            )
            for t in application.transitions.all()
        ],
        documents=[DocumentLink(serial=x.serial, title=document_title(x)) for x in application.documents.all()],
        payments=[PaymentSummary(method=p.method, status=p.status) for p in application.payments.all()],
        title=d["title"],
        prefill=[PrefillSource(label=p["label"], service=p["service"]) for p in d.get("prefill", [])],
        fee=_fee(d),
        fee_text=fee_text(d),
        next_steps=d["output"].get("next_steps"),
        questions=[_question(q) for q in questions_visible(application)],
        missing=[q["id"] for q in unanswered(application)],
        # Only a decision can be reviewed: an undecided application asks nothing more.
        review=_review(application) if application.decided_at is not None else None,
        review_until=review_open_until(application),
        review_working_days=review_terms(d)[1],
    )


def application_view(*, uin: str, reference: str) -> ApplicationView:
    """The citizen's own application ``reference``; NotFound for anyone else's."""
    return _view(application_for(uin=uin, reference=reference))


def application_question(*, uin: str, reference: str, question_id: str) -> Question:
    """A question of the citizen's own application's service, asked now or not; NotFound if none."""
    return _question(question_get(application_for(uin=uin, reference=reference), question_id))


def application_start(*, service: str, uin: str, user_id: int | None, language: str) -> ApplicationView:
    """A new draft application of ``service`` for the citizen."""
    return _view(_start(service=service, uin=uin, user_id=user_id, language=language))


def application_accept_offer(
    *, offer_id: int, uin: str, user_id: int | None, language: str, access_token: str = ""
) -> ApplicationView:
    """The citizen accepts an offer: the application it makes, consented, sent and decided."""
    return _view(
        offer_accept(offer_id=offer_id, uin=uin, user_id=user_id, language=language, access_token=access_token)
    )


def application_consent(*, uin: str, reference: str) -> list[Outcome]:
    """The citizen agrees to have facts fetched; the outcomes of the service's eligibility rules."""
    application = _consent(application=application_for(uin=uin, reference=reference), uin=uin)
    return [Outcome(passed=o.passed, reason=o.reason) for o in eligibility(application)]


def application_answer(*, uin: str, reference: str, question_id: str, raw: Any) -> ApplicationView:
    """The citizen's answer to one question, cleaned and kept; a DomainError saying what is wrong."""
    application = application_for(uin=uin, reference=reference)
    return _view(_answer(application=application, uin=uin, question_id=question_id, raw=raw))


def application_submit(*, uin: str, reference: str, access_token: str = "") -> ApplicationView:
    """Send the citizen's application (see the shop's ``application_submit`` for ``access_token``)."""
    application = application_for(uin=uin, reference=reference)
    return _view(_submit(application=application, uin=uin, access_token=access_token))


def application_pay_online(*, uin: str, reference: str, language: str, return_url: str) -> str:
    """Start paying the service's fee online; the provider's page to send the citizen to."""
    application = application_for(uin=uin, reference=reference)
    fee = definition_of(application)["fee"]
    payment = payments.payment_start_hosted(
        application=application,
        amount=fee["amount"],
        currency=fee["currency"],
        description=text(fee["description"], language),
        return_url=return_url,
    )
    return str(payment.next_url)


def application_pay_at_counter(*, uin: str, reference: str) -> None:
    """Record that the citizen will pay the service's fee at an office."""
    application = application_for(uin=uin, reference=reference)
    fee = definition_of(application)["fee"]
    payments.payment_start_counter(application=application, amount=fee["amount"], currency=fee["currency"])


def application_payment_check(*, uin: str, reference: str, access_token: str = "") -> None:
    """Ask the provider about the citizen's latest online payment; once it is paid, the application
    goes on to its checks. Nothing happens when there is no online payment."""
    application = application_for(uin=uin, reference=reference)
    payment = application.payments.filter(method="hosted").order_by("-pk").first()
    if payment is None:
        return
    if payments.payment_refresh(payment=payment).status == "success":
        application_paid(
            application=application, actor=application.applicant_uin, actor_kind="citizen", access_token=access_token
        )


def application_respond(*, uin: str, reference: str, response: str) -> None:
    """The citizen's answer to an officer's request for more information."""
    _respond(application=application_for(uin=uin, reference=reference), uin=uin, response=response)


def application_withdraw(*, uin: str, reference: str) -> None:
    """The citizen withdraws their application while it is undecided."""
    _withdraw(application=application_for(uin=uin, reference=reference), uin=uin)


def application_review_request(
    *, uin: str, reference: str, disagreement: str, new_information: str = ""
) -> ApplicationView:
    """The citizen asks for a review of their application's refusal (see the shop's
    ``application_review_request``): once per decision, within the service's time limit."""
    application = application_for(uin=uin, reference=reference)
    _review_request(application=application, uin=uin, disagreement=disagreement, new_information=new_information)
    return _view(application_for(uin=uin, reference=reference))


def _confirmation(application: Application) -> ConfirmationView:
    d = definition_of(application)
    person = application.verified.get("person") or {}
    return ConfirmationView(
        reference=application.reference,
        title=d["title"],
        confirm=d["second_party"]["confirm"],
        applicant_name=f"{person.get('given_names', '')} {person.get('family_name', '')}".strip(),
        state=ApplicationState(application.state),
        state_label=application.get_state_display(),
        waiting=application.state == Application.State.AWAITING_CONFIRMATION,
        questions=[_question(q) for q in questions_visible(application)],
        answers=dict(application.answers),
    )


def confirmation_view(*, uin: str, reference: str) -> ConfirmationView:
    """An application that asks ``uin`` to confirm it; NotFound for anyone it does not name."""
    return _confirmation(application_for_second_party(reference=reference, uin=uin))


def confirmation_give(*, uin: str, reference: str, agree: bool) -> ConfirmationView:
    """The other party confirms the application, or declines it."""
    return _confirmation(application_confirm(reference=reference, uin=uin, agree=agree))
