"""Register the sale of land: the seller applies with a parcel the land register shows them owning,
the buyer signs in and confirms, the fee is paid, the transfer is lodged with the land register
through the exchange, and the land registrar's decision comes back as the register's event."""

from __future__ import annotations

from datetime import date

import pytest
from django.utils import timezone

from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.principal import Principal
from gov21.exchange.pubsub import deliveries_run
from gov21.land import services as land
from gov21.land.models import Transaction
from gov21.land.records import PartyRef
from gov21.land.selectors import parcels_of_party
from gov21.onestop import citizen, definitions, payments
from gov21.onestop import services as engine
from gov21.onestop.models import Application, Notification
from gov21.registry import services as registry
from tests.land.helpers import CHECKER, REGISTRAR, first_register, owners, square
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
S = Application.State
CIVIL = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))
READER = Principal(name="land.reader", kind="staff", roles=frozenset({"reader"}))


@pytest.fixture(autouse=True)
def _nation(exchange: None) -> None:
    definitions.definitions_load()


def _draft(seller: str) -> Application:
    application = engine.application_start(service="land-sale", uin=seller, user_id=None)
    return engine.application_consent(application=application, uin=seller)


def _sell(seller: str, parcel: str, buyer: str, price: str = "250000") -> Application:
    application = _draft(seller)
    answers = {"parcel": parcel, "buyer_uin": buyer, "price": price, "sale_date": timezone.localdate().isoformat()}
    for question, value in answers.items():
        application = engine.application_answer(application=application, uin=seller, question_id=question, raw=value)
    return engine.application_submit(application=application, uin=seller)


def _pay(application: Application) -> Application:
    payment = payments.payment_start_counter(application=application, amount=15000, currency="XCD")
    payments.payment_confirm_counter(payment=payment, officer="counter.clerk")
    return engine.application_paid(application=application, actor="counter.clerk", actor_kind="staff")


def _owned(uin: str) -> list[str]:
    found = parcels_of_party(party=PartyRef(kind="person", identifier=uin), actor=READER, purpose="test")
    return [p.number for p in found.parcels]


def _parties() -> tuple[str, str, str]:
    seller = register_person(CIVIL, born=date(1970, 1, 1))
    buyer = register_person(CIVIL, born=date(1980, 1, 1))
    parcel = first_register(square(0, 0), owners((seller, "1/1")))
    return seller.uin, buyer.uin, parcel


def test_a_sale_confirmed_by_the_buyer_and_paid_for_is_registered_and_the_buyer_owns_the_parcel() -> None:
    seller, buyer, parcel = _parties()
    application = _sell(seller, parcel, buyer)
    assert application.state == S.AWAITING_CONFIRMATION
    asked = Notification.objects.get(uin=buyer, template="land-sale.confirmation_requested")
    assert parcel in asked.body and f"/my/confirmations/{application.reference}" == asked.link

    application = engine.application_confirm(reference=application.reference, uin=buyer, agree=True)
    assert application.state == S.AWAITING_PAYMENT
    assert Notification.objects.filter(uin=seller, template="land-sale.confirmed").count() == 1
    application = _pay(application)
    assert application.state == S.APPROVED  # lodged: the land registrar decides
    tx = Transaction.objects.get(number=application.external_ref)
    assert tx.kind == "transfer" and tx.parcels == [parcel] and tx.state == "lodged"

    land.transaction_check(number=tx.number, actor=CHECKER)
    land.transaction_register(number=tx.number, actor=REGISTRAR)
    assert deliveries_run() >= 1
    application.refresh_from_db()
    assert application.state == S.COMPLETED
    assert application.verified["_output"]["transaction"] == tx.number
    assert _owned(buyer) == [parcel] and _owned(seller) == []
    done = Notification.objects.get(uin=seller, template="land-sale.completed")
    assert tx.number in done.body


def test_a_transfer_the_land_registrar_rejects_refuses_the_application_with_the_reason() -> None:
    seller, buyer, parcel = _parties()
    application = _sell(seller, parcel, buyer)
    engine.application_confirm(reference=application.reference, uin=buyer, agree=True)
    application = _pay(Application.objects.get(pk=application.pk))
    reason = "The deed is not signed by a notary."
    land.transaction_reject(number=application.external_ref, reason=reason, actor=CHECKER)
    deliveries_run()
    application.refresh_from_db()
    assert application.state == S.REFUSED
    assert application.reasons[0]["reason"]["en"] == "The deed is not signed by a notary."
    told = Notification.objects.get(uin=seller, template="land-sale.refused")
    assert "notary" in told.body
    assert _owned(seller) == [parcel]


def test_a_buyer_who_declines_refuses_the_sale_and_nobody_else_may_confirm() -> None:
    seller, buyer, parcel = _parties()
    stranger = register_person(CIVIL, born=date(1985, 1, 1)).uin
    application = _sell(seller, parcel, buyer)
    with pytest.raises(NotFound):
        engine.application_confirm(reference=application.reference, uin=stranger, agree=True)
    with pytest.raises(NotFound):  # the seller cannot confirm for the buyer
        engine.application_confirm(reference=application.reference, uin=seller, agree=True)
    application = engine.application_confirm(reference=application.reference, uin=buyer, agree=False)
    assert application.state == S.REFUSED
    with pytest.raises(Conflict):
        engine.application_confirm(reference=application.reference, uin=buyer, agree=True)
    assert not Transaction.objects.filter(kind="transfer").exists()


def test_someone_elses_parcel_and_selling_to_oneself_are_refused_on_their_page() -> None:
    _seller, buyer, parcel = _parties()
    application = _draft(buyer)
    with pytest.raises(DomainError) as not_theirs:
        engine.application_answer(application=application, uin=buyer, question_id="parcel", raw=parcel)
    # The buyer owns no parcel: there is nothing of theirs to choose, and another's is not among the options.
    assert not_theirs.value.code == "answer_choice" and not_theirs.value.field == "parcel"
    assert engine.question_get(application, "parcel")["options"] == []
    with pytest.raises(DomainError) as to_oneself:
        engine.application_answer(application=application, uin=buyer, question_id="buyer_uin", raw=buyer)
    assert to_oneself.value.code == "answer_refused"


def test_the_only_parcel_of_the_seller_is_filled_in_from_the_land_register() -> None:
    seller, _buyer, parcel = _parties()
    assert _draft(seller).answers["parcel"] == parcel


def test_the_seller_chooses_the_parcel_from_their_parcels_in_the_land_register() -> None:
    owner = register_person(CIVIL, born=date(1970, 1, 1))
    seller = owner.uin
    first = first_register(square(0, 0), owners((owner, "1/1")))
    second = first_register(square(3, 0), owners((owner, "1/1")))
    someone = register_person(CIVIL, born=date(1975, 1, 1))
    theirs = first_register(square(6, 0), owners((someone, "1/1")))
    application = _draft(seller)
    assert application.answers.get("parcel") in (None, "")  # two parcels: the seller chooses
    question = citizen.application_question(uin=seller, reference=application.reference, question_id="parcel")
    assert question.type == "choice"
    assert [o.value for o in question.options] == [first, second]
    assert all(o.label["en"].startswith(o.value + " · ") and o.label["en"].endswith(" m²") for o in question.options)
    with pytest.raises(DomainError) as not_theirs:
        engine.application_answer(application=application, uin=seller, question_id="parcel", raw=theirs)
    assert not_theirs.value.code == "answer_choice"
    chosen = engine.application_answer(application=application, uin=seller, question_id="parcel", raw=second)
    assert chosen.answers["parcel"] == second
    shown = {q["id"]: q for q in engine.questions_visible(chosen)}
    assert [o["value"] for o in shown["parcel"]["options"]] == [first, second]


def test_a_dead_buyer_is_not_asked_to_confirm_and_an_officer_sees_why() -> None:
    seller, buyer, parcel = _parties()
    data = {"uin": buyer, "death_date": timezone.localdate().isoformat()}
    event = registry.event_declare(declaration=registry.declaration_parse(kind="death", data=data), actor=CIVIL)
    registry.event_validate(event_id=event.pk, actor=CIVIL)
    registry.event_register(event_id=event.pk, actor=CIVIL)
    application = _sell(seller, parcel, buyer)
    assert application.state == S.IN_REVIEW
    failed = [c["rule"] for c in application.checks if not c["passed"]]
    assert failed == ["buyer_alive"]
    assert not Notification.objects.filter(uin=buyer).exists()


def test_a_parcel_under_a_pending_transaction_cannot_be_sold_again() -> None:
    seller, buyer, parcel = _parties()
    other = register_person(CIVIL, born=date(1990, 1, 1)).uin
    first = _sell(seller, parcel, buyer)
    engine.application_confirm(reference=first.reference, uin=buyer, agree=True)
    _pay(Application.objects.get(pk=first.pk))
    second = _sell(seller, parcel, other)
    assert second.state == S.IN_REVIEW
    assert [c["rule"] for c in second.checks if not c["passed"]] == ["nothing_pending"]
