"""The service engine end to end below the web pages: pre-fill through the exchange with consent,
automatic decisions, officers' cases, and the flows registry events start."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.exchange.contracts import data_uses_for
from gov21.exchange.pubsub import deliveries_run
from gov21.onestop import definitions, notify, registers
from gov21.onestop import services as engine
from gov21.onestop.documents import QR_PREFIX, document_verify
from gov21.onestop.models import Application, Benefit, Document, Notification, Offer
from gov21.registry import services as registry
from gov21.registry.models import LifeEvent
from tests.identity import flows
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
S = Application.State
REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))


def _officer(name: str, agency: str) -> Principal:
    return Principal(
        name=name,
        kind="staff",
        roles=frozenset({"case_officer"}),
        agencies=frozenset({agency}),
        grants=frozenset({("case_officer", agency)}),
    )


OFFICER = _officer("officer.lta", "licensing")
CRO_OFFICER = _officer("officer.cro", "civil-registry")


@pytest.fixture(autouse=True)
def _nation(exchange: None) -> None:
    definitions.definitions_load()


def _apply(service: str, uin: str, answers: dict[str, str], *, access_token: str = "") -> Application:
    application = engine.application_start(service=service, uin=uin, user_id=None)
    application = engine.application_consent(application=application, uin=uin)
    for question, value in answers.items():
        application = engine.application_answer(application=application, uin=uin, question_id=question, raw=value)
    return engine.application_submit(application=application, uin=uin, access_token=access_token)


def _signed_in(uin: str) -> str:
    """The person's live access token from a real sign-in at the portal, as the portal passes it."""
    return flows.access_token_of(flows.citizen_of(uin))


def test_a_licence_renewal_that_every_registry_confirms_is_approved_without_a_person() -> None:
    driver = register_person(REGISTRAR, born=date(1980, 5, 1))
    licence = registers.licence_issue(uin=driver.uin, issued_on=date(2016, 1, 1))

    application = _apply(
        "renew-driving-licence", driver.uin, {"licence_number": licence.number.lower(), "health": "no"}
    )

    assert application.state == S.COMPLETED
    assert application.decided_by == engine.SYSTEM_ACTOR
    assert all(check["passed"] for check in application.checks)
    licence.refresh_from_db()
    assert licence.expires_on >= timezone.localdate() + timedelta(days=365 * 9)
    document = Document.objects.get(application=application)
    assert document.kind == "driving-licence" and document.valid_until == licence.expires_on
    assert document_verify(payload=QR_PREFIX + document.credential).status == "valid"
    # The facts were fetched through the exchange with the application as the purpose.
    uses = data_uses_for(subject=driver.uin, limit=20)
    assert any(use["purpose"] == application.reference for use in uses), uses
    states = list(application.transitions.values_list("to_state", "actor_kind"))
    assert states == [
        ("draft", "citizen"),
        ("submitted", "citizen"),
        ("approved", "system"),
        ("completed", "system"),
    ]
    assert Notification.objects.filter(uin=driver.uin, channel="inbox").count() == 2


def test_a_renewal_a_rule_cannot_confirm_goes_to_an_officer_who_asks_for_more() -> None:
    driver = register_person(REGISTRAR, born=date(1940, 5, 1))
    licence = registers.licence_issue(uin=driver.uin, issued_on=date(2016, 1, 1))

    application = _apply("renew-driving-licence", driver.uin, {"licence_number": licence.number, "health": "no"})

    assert application.state == S.IN_REVIEW
    failed = [c["rule"] for c in application.checks if not c["passed"]]
    assert failed == ["age"]
    engine.case_assign(principal=OFFICER, reference=application.reference, to=OFFICER.name)
    engine.case_request_info(principal=OFFICER, reference=application.reference, message="Send a medical report.")
    with pytest.raises(DomainError):
        engine.case_decide(principal=OFFICER, reference=application.reference, approve=True, reason="ok")
    engine.application_respond(application=application, uin=driver.uin, response="Report DR-55 sent by my doctor.")
    decided = engine.case_decide(
        principal=OFFICER, reference=application.reference, approve=True, reason="Medical report DR-55 is fit."
    )
    assert decided.state == S.COMPLETED and decided.decided_by == OFFICER.name
    assert Document.objects.filter(application=decided, kind="driving-licence").exists()


def test_an_officer_of_another_agency_cannot_decide_the_case() -> None:
    driver = register_person(REGISTRAR, born=date(1940, 5, 1))
    licence = registers.licence_issue(uin=driver.uin)
    application = _apply("renew-driving-licence", driver.uin, {"licence_number": licence.number, "health": "no"})
    with pytest.raises(DomainError) as refused:
        engine.case_decide(principal=CRO_OFFICER, reference=application.reference, approve=True, reason="x")
    assert refused.value.status == 403


def test_a_declared_birth_is_registered_then_the_parents_are_offered_child_benefit() -> None:
    mother = register_person(REGISTRAR, born=date(1995, 3, 1))
    father = register_person(REGISTRAR, born=date(1993, 3, 1), sex="M")
    day = (timezone.localdate() - timedelta(days=3)).isoformat()

    application = _apply(
        "declare-birth",
        mother.uin,
        {
            "given_names": "Ava",
            "family_name": "Baptiste",
            "sex": "F",
            "birth_date": day,
            "birth_parish": "XA-02",
            "parent_role": "mother",
            "other_parent_uin": father.uin,
        },
        access_token=_signed_in(mother.uin),
    )
    assert application.state == S.APPROVED, application.transitions.values_list("note", flat=True)
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    assert event.state == "declared" and event.data["father_uin"] == father.uin

    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    registry.event_register(event_id=event.pk, actor=REGISTRAR)
    assert deliveries_run() >= 1

    application.refresh_from_db()
    assert application.state == S.COMPLETED
    certificate = Document.objects.get(application=application)
    assert certificate.kind == "birth-certificate" and certificate.credential
    offers = Offer.objects.filter(service_code="child-benefit")
    assert {o.uin for o in offers} == {mother.uin, father.uin}

    claim = engine.offer_accept(offer_id=offers.get(uin=father.uin).pk, uin=father.uin, user_id=None, language="en")
    assert claim.state == S.COMPLETED, claim.checks
    assert Benefit.objects.filter(claimant_uin=father.uin, status="active").count() == 1
    second = engine.offer_accept(offer_id=offers.get(uin=mother.uin).pk, uin=mother.uin, user_id=None, language="en")
    assert second.state == S.IN_REVIEW
    assert [c["rule"] for c in second.checks if not c["passed"]] == ["not_claimed"]


def test_a_death_reported_once_closes_the_licence_and_benefit_and_tells_the_informant() -> None:
    parent = register_person(REGISTRAR, born=date(1960, 1, 1))
    child = register_person(REGISTRAR, born=date(1990, 1, 1), mother=parent)
    licence = registers.licence_issue(uin=parent.uin)
    Benefit.objects.create(kind="pension", claimant_uin=parent.uin, started_on=date(2025, 1, 1))

    application = _apply(
        "report-death",
        child.uin,
        {
            "deceased_uin": parent.uin,
            "death_date": timezone.localdate().isoformat(),
            "place_parish": "XA-01",
            "relationship": "child",
        },
    )
    assert application.state == S.APPROVED
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    registry.event_register(event_id=event.pk, actor=REGISTRAR)
    deliveries_run()

    licence.refresh_from_db()
    assert licence.status == "closed"
    assert Benefit.objects.get(claimant_uin=parent.uin).status == "closed"
    application.refresh_from_db()
    assert application.state == S.COMPLETED
    told = Notification.objects.filter(uin=child.uin, template="report-death.completed").get()
    assert "driving licence" in told.body and "pension stopped" in told.body


def test_a_change_of_address_is_registered_at_once_and_published() -> None:
    person = register_person(REGISTRAR)
    application = _apply(
        "change-of-address",
        person.uin,
        {"parish": "XA-03", "line": "4 Harbour Road", "moved_on": timezone.localdate().isoformat()},
        access_token=_signed_in(person.uin),
    )
    assert application.state == S.COMPLETED, application.transitions.values_list("note", flat=True)
    person.refresh_from_db()
    assert person.address_parish == "XA-03" and person.address_line == "4 Harbour Road"
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    assert event.declarant_uin == person.uin


def test_a_change_of_address_sent_without_the_persons_sign_in_waits_for_a_registrar() -> None:
    person = register_person(REGISTRAR)
    application = _apply(
        "change-of-address",
        person.uin,
        {"parish": "XA-04", "line": "2 Mill Lane", "moved_on": timezone.localdate().isoformat()},
    )
    assert application.state == S.APPROVED, application.transitions.values_list("note", flat=True)
    person.refresh_from_db()
    assert person.address_parish != "XA-04"
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    assert event.state == "declared"

    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    registry.event_register(event_id=event.pk, actor=REGISTRAR)
    deliveries_run()

    application.refresh_from_db()
    assert application.state == S.COMPLETED
    person.refresh_from_db()
    assert person.address_parish == "XA-04"


def test_a_business_name_already_taken_is_not_registered_again() -> None:
    owner = register_person(REGISTRAR, born=date(1980, 1, 1))
    registers.business_register(name="Blue Reef Charters Ltd", owner=owner.uin, activity="boats", address="Quay")
    application = engine.application_start(service="register-business-name", uin=owner.uin, user_id=None)
    engine.application_consent(application=application, uin=owner.uin)
    for q, v in {"business_name": "blue reef charters", "activity": "Boat trips", "address": "Quay 2"}.items():
        engine.application_answer(application=application, uin=owner.uin, question_id=q, raw=v)
    application = engine.application_submit(application=application, uin=owner.uin)
    assert application.state == S.AWAITING_PAYMENT
    # The citizen is told before paying that the name is taken.
    assert [c["rule"] for c in application.checks if not c["passed"]] == ["name_free"]


def test_answers_are_checked_on_their_page() -> None:
    person = register_person(REGISTRAR)
    application = engine.application_start(service="change-of-address", uin=person.uin, user_id=None)
    engine.application_consent(application=application, uin=person.uin)
    future = (timezone.localdate() + timedelta(days=3)).isoformat()
    for question, raw, code in [
        ("moved_on", future, "answer_refused"),
        ("moved_on", "2026-02-30", "answer_date"),
        ("parish", "XA-99", "answer_choice"),
        ("line", "", "answer_required"),
        ("line", "x" * 201, "answer_too_long"),
        ("line", "a\x00b", "invalid_answer"),
    ]:
        with pytest.raises(DomainError) as error:
            engine.application_answer(application=application, uin=person.uin, question_id=question, raw=raw)
        assert error.value.code == code, (question, raw)
    with pytest.raises(DomainError) as missing:
        engine.application_submit(application=application, uin=person.uin)
    assert missing.value.code == "answers_missing"


def test_a_phone_number_the_question_accepts_is_one_a_message_can_be_sent_to() -> None:
    # One rule for both: a 17-digit number used to pass the question and fail only when the SMS was queued.
    data = dict(definitions.definition_parse((definitions.DEFINITIONS_DIR / "change-of-address.yaml").read_text()))
    phone_question = {"id": "phone", "type": "phone", "label": {"en": "Your phone number"}, "required": False}
    data.update(version=data["version"] + 1, questions=[*data["questions"], phone_question])
    definitions.definition_save(definition=data, source="test", by="t")
    person = register_person(REGISTRAR)
    application = engine.application_start(service="change-of-address", uin=person.uin, user_id=None)
    engine.application_consent(application=application, uin=person.uin)
    with pytest.raises(DomainError) as refused:
        engine.application_answer(
            application=application, uin=person.uin, question_id="phone", raw="+17675550100123456"
        )
    assert refused.value.code == "answer_phone"
    answered = engine.application_answer(
        application=application, uin=person.uin, question_id="phone", raw="+1 (767) 555-0100"
    )
    queued = notify.notification_queue(
        uin=person.uin, template="t", subject="s", body="b", phone=answered.answers["phone"]
    )
    assert queued


def test_a_proactive_service_cannot_be_started_from_the_catalogue() -> None:
    person = register_person(REGISTRAR)
    with pytest.raises(DomainError) as error:
        engine.application_start(service="child-benefit", uin=person.uin, user_id=None)
    assert error.value.code == "offered_only"


def test_an_agencys_documents_are_readable_through_the_exchange_as_its_service() -> None:
    from gov21.exchange.contracts import exchange_json

    driver = register_person(REGISTRAR, born=date(1980, 5, 1))
    licence = registers.licence_issue(uin=driver.uin)
    _apply("renew-driving-licence", driver.uin, {"licence_number": licence.number, "health": "no"})
    serial = Document.objects.get(holder_uin=driver.uin).serial

    lta = exchange_json(
        client="XA/GOV/MSD/benefits", service="XA/GOV/LTA/licensing/documents", path=f"/holders/{driver.uin}"
    )
    bra = exchange_json(
        client="XA/GOV/MSD/benefits", service="XA/GOV/BRA/business-register/documents", path=f"/holders/{driver.uin}"
    )
    assert [d["serial"] for d in lta["items"]] == [serial] and bra["items"] == []
    one = exchange_json(client="XA/GOV/MSD/benefits", service="XA/GOV/LTA/licensing/documents", path=f"/{serial}")
    assert one["status"] == "valid" and one["kind"] == "driving-licence"


def test_a_role_in_one_agency_gives_no_right_in_another() -> None:
    """A registrar of the civil registry who only reads in licensing cannot decide licensing cases."""
    driver = register_person(REGISTRAR, born=date(1940, 5, 1))
    licence = registers.licence_issue(uin=driver.uin)
    application = _apply("renew-driving-licence", driver.uin, {"licence_number": licence.number, "health": "no"})
    mixed = Principal(
        name="mixed",
        kind="staff",
        roles=frozenset({"registrar", "reader"}),
        agencies=frozenset({"civil-registry", "licensing"}),
        grants=frozenset({("registrar", "civil-registry"), ("reader", "licensing")}),
    )
    with pytest.raises(DomainError) as refused:
        engine.case_decide(principal=mixed, reference=application.reference, approve=True, reason="ok")
    assert refused.value.status == 403


def test_control_characters_in_an_officers_text_are_refused() -> None:
    driver = register_person(REGISTRAR, born=date(1940, 5, 1))
    licence = registers.licence_issue(uin=driver.uin)
    application = _apply("renew-driving-licence", driver.uin, {"licence_number": licence.number, "health": "no"})
    for call in (
        lambda: engine.case_open(principal=OFFICER, reference=application.reference, purpose="a\x00b"),
        lambda: engine.case_decide(principal=OFFICER, reference=application.reference, approve=False, reason="\x00"),
        lambda: engine.case_request_info(principal=OFFICER, reference=application.reference, message="x\x00"),
    ):
        with pytest.raises(DomainError) as error:
            call()
        assert error.value.status in (400, 422)


def test_a_certified_copy_is_paid_for_then_a_registrar_approves_and_the_registry_issues_it() -> None:
    from gov21.onestop import payments

    parent = register_person(REGISTRAR, born=date(1970, 1, 1))
    child = register_person(REGISTRAR, born=date(2000, 1, 1), mother=parent)
    number = LifeEvent.objects.get(subject__uin=child.uin, kind="birth").number
    application = _apply("certificate-copy", parent.uin, {"kind": "birth", "number": number, "relationship": "child"})
    assert application.state == S.AWAITING_PAYMENT
    payment = payments.payment_start_counter(application=application, amount=2500, currency="XCD")
    payments.payment_confirm_counter(payment=payment, officer=CRO_OFFICER.name)
    application = engine.application_paid(application=application, actor=CRO_OFFICER.name, actor_kind="staff")
    assert application.state == S.IN_REVIEW  # a registrar checks the entitlement

    officer_token = flows.access_token_of(flows.staff(CRO_OFFICER.name, "case_officer"))
    decided = engine.case_decide(
        principal=CRO_OFFICER,
        reference=application.reference,
        approve=True,
        reason="The applicant is the mother.",
        access_token=officer_token,
    )
    assert decided.state == S.COMPLETED
    copy = Document.objects.get(application=decided)
    assert copy.kind == "birth-certificate" and copy.agency == "civil-registry"
    from gov21.registry.selectors import certificate_verify

    assert certificate_verify(payload=copy.credential).status == "valid"


def test_a_wrong_kind_of_registration_number_is_refused_on_its_page() -> None:
    person = register_person(REGISTRAR)
    application = engine.application_start(service="certificate-copy", uin=person.uin, user_id=None)
    engine.application_consent(application=application, uin=person.uin)
    engine.application_answer(application=application, uin=person.uin, question_id="kind", raw="death")
    with pytest.raises(DomainError) as error:
        engine.application_answer(application=application, uin=person.uin, question_id="number", raw="b-2020-000001")
    assert error.value.code == "answer_refused"


def test_a_notice_of_marriage_checks_both_partners_and_a_registrar_accepts_it() -> None:
    a = register_person(REGISTRAR, born=date(1990, 1, 1))
    b = register_person(REGISTRAR, born=date(1991, 1, 1), sex="M")
    child = register_person(REGISTRAR, born=timezone.localdate() - timedelta(days=365 * 10), mother=a)
    on = (timezone.localdate() + timedelta(days=30)).isoformat()

    too_young = _apply(
        "marriage-notice",
        a.uin,
        {"partner_uin": child.uin, "intended_date": on, "parish": "XA-01", "ceremony": "civil"},
    )
    assert too_young.state == S.IN_REVIEW
    assert [c["rule"] for c in too_young.checks if not c["passed"]] == ["both_adults"]

    notice = _apply(
        "marriage-notice", a.uin, {"partner_uin": b.uin, "intended_date": on, "parish": "XA-01", "ceremony": "civil"}
    )
    assert notice.state == S.IN_REVIEW and all(c["passed"] for c in notice.checks)
    assert notice.verified["partner"]["uin"] == b.uin
    accepted = engine.case_decide(
        principal=CRO_OFFICER, reference=notice.reference, approve=True, reason="Both free to marry; published."
    )
    document = Document.objects.get(application=accepted)
    assert document.kind == "marriage-notice" and document.valid_until is not None


def test_an_officers_approval_declares_a_move_in_the_officers_name_and_registers_nothing() -> None:
    person = register_person(REGISTRAR)
    before = (person.address_parish, person.address_line)
    # A sign-in that has ended cannot vouch for the citizen: the move goes to an officer.
    application = _apply(
        "change-of-address",
        person.uin,
        {"parish": "XA-08", "line": "7 Lime Kiln Road", "moved_on": timezone.localdate().isoformat()},
        access_token="an-access-token-that-has-ended",
    )
    assert application.state == S.IN_REVIEW
    assert "Sign in again" in application.transitions.last().note  # type: ignore[union-attr]

    officer_token = flows.access_token_of(flows.staff(CRO_OFFICER.name, "case_officer"))
    decided = engine.case_decide(
        principal=CRO_OFFICER,
        reference=application.reference,
        approve=True,
        reason="The applicant showed a tenancy agreement.",
        access_token=officer_token,
    )

    assert decided.state == S.APPROVED
    event = LifeEvent.objects.get(pk=int(decided.external_ref))
    assert event.state == "declared" and f"staff:{CRO_OFFICER.name}" in event.declared_by
    person.refresh_from_db()
    assert (person.address_parish, person.address_line) == before


def test_an_officer_without_a_live_sign_in_gets_no_copy_issued() -> None:
    from gov21.onestop import payments

    parent = register_person(REGISTRAR, born=date(1971, 1, 1))
    child = register_person(REGISTRAR, born=date(2001, 1, 1), mother=parent)
    number = LifeEvent.objects.get(subject__uin=child.uin, kind="birth").number
    application = _apply("certificate-copy", parent.uin, {"kind": "birth", "number": number, "relationship": "child"})
    payment = payments.payment_start_counter(application=application, amount=2500, currency="XCD")
    payments.payment_confirm_counter(payment=payment, officer=CRO_OFFICER.name)
    application = engine.application_paid(application=application, actor=CRO_OFFICER.name, actor_kind="staff")

    with pytest.raises(DomainError) as refused:
        engine.case_decide(principal=CRO_OFFICER, reference=application.reference, approve=True, reason="Mother.")

    assert refused.value.status == 403 and refused.value.code == "copy_not_entitled"
    application.refresh_from_db()
    assert application.state == S.IN_REVIEW
    assert not Document.objects.filter(application=application).exists()
