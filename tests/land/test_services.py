"""The land register's workflow through its services: first registration, transfer, mortgage and
discharge, joint ownership, as-of reads, four eyes, the wrong owner, and nothing half-written."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from gov21.audit.contracts import access_records_for
from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.land import selectors, services
from gov21.land.models import Parcel, Right, Transaction, TransactionState
from gov21.land.records import DischargeFacts, MortgageFacts, OwnerShare, PartyRef, TransferFacts
from gov21.land.sources import source_store
from tests.land.helpers import (
    CHECKER,
    CLERK,
    REGISTRAR,
    complete,
    first_register,
    lodge,
    owners,
    person,
    ref,
    square,
)

pytestmark = pytest.mark.django_db
READER = Principal(name="land.reader", kind="staff", roles=frozenset({"reader"}))


def _title(number: str, **kwargs: object) -> list[str]:
    title = selectors.parcel_title(number=number, actor=READER, purpose="test read", **kwargs)  # type: ignore[arg-type]
    return [m.identifier for r in title.ownership for m in (r.holder.members or [r.holder])]


def test_first_registration_numbers_the_parcel_and_measures_its_area_in_metres() -> None:
    owner = person()
    number = first_register(square(0, 0), owners((owner, "1/1")))
    parcel = Parcel.objects.get(number=number, valid_to__isnull=True)
    assert number.startswith("XA-01-")
    # 0.001° × 0.001° at 14° N: about 107.9 m × 110.6 m.
    assert 11_500 < parcel.area_m2 < 12_300
    assert _title(number) == [owner.uin]
    tx = Transaction.objects.get(kind="first_registration")
    assert tx.state == TransactionState.REGISTERED
    assert tx.number.startswith(f"L-{timezone.now().year}-") and len(tx.number) == 13


def test_transfer_changes_the_owner_and_the_old_title_reads_as_of_before() -> None:
    seller, buyer = person(), person()
    number = first_register(square(0, 0), owners((seller, "1/1")))
    before = timezone.now()
    tx = lodge(TransferFacts(parcel=number, applicant=ref(seller), buyers=owners((buyer, "1/1"))))
    complete(tx)
    assert _title(number) == [buyer.uin]
    assert _title(number, as_of=before) == [seller.uin]
    history = selectors.parcel_history(number=number, actor=READER, purpose="test read")
    assert [r.valid_to is None for r in history.rights] == [False, True]
    assert history.rights[0].valid_to == history.rights[1].valid_from
    # Nothing overwritten: the seller's right is still there, closed by the transfer.
    closed = Right.objects.get(parcel_number=number, party__identifier=seller.uin)
    assert closed.closed_by_id == tx.pk


def test_a_transfer_lodged_by_someone_who_is_not_the_owner_is_refused_and_nothing_is_written() -> None:
    owner, stranger, buyer = person(), person(), person()
    number = first_register(square(2, 0), owners((owner, "1/1")))
    count = Transaction.objects.count()
    with pytest.raises(DomainError) as refused:
        lodge(TransferFacts(parcel=number, applicant=ref(stranger), buyers=owners((buyer, "1/1"))))
    assert refused.value.code == "not_registered_owner" and refused.value.status == 422
    assert stranger.uin in refused.value.detail
    assert Transaction.objects.count() == count


def test_a_representative_needs_the_owners_power_of_attorney() -> None:
    owner, lawyer, buyer = person(), person(), person()
    number = first_register(square(4, 0), owners((owner, "1/1")))
    facts = TransferFacts(parcel=number, applicant=ref(lawyer), represents=ref(owner), buyers=owners((buyer, "1/1")))
    with pytest.raises(DomainError) as refused:
        lodge(facts)
    assert refused.value.code == "power_of_attorney_needed"
    power = source_store(
        content=b"%PDF-1.4 power of attorney",
        kind="power_of_attorney",
        filename="poa.pdf",
        media_type="application/pdf",
        actor=CLERK,
    )
    complete(lodge(facts, sources=(power.sha256,)))
    assert _title(number) == [buyer.uin]


def test_four_eyes_the_one_who_lodged_neither_checks_nor_registers() -> None:
    owner, buyer = person(), person()
    number = first_register(square(6, 0), owners((owner, "1/1")))
    lodger = Principal(name="land.both", kind="staff", roles=frozenset({"registrar"}))
    tx = services.transaction_lodge(
        facts=TransferFacts(parcel=number, applicant=ref(owner), buyers=owners((buyer, "1/1"))), actor=lodger
    )
    with pytest.raises(DomainError) as refused:
        services.transaction_check(number=tx.number, actor=lodger)
    assert refused.value.code == "four_eyes" and refused.value.status == 409
    services.transaction_check(number=tx.number, actor=CHECKER)
    with pytest.raises(DomainError):
        services.transaction_register(number=tx.number, actor=lodger)
    services.transaction_register(number=tx.number, actor=CHECKER)  # the checker may register it
    assert _title(number) == [buyer.uin]


def test_workflow_order_and_rejection_with_a_reason() -> None:
    owner, buyer = person(), person()
    number = first_register(square(8, 0), owners((owner, "1/1")))
    tx = lodge(TransferFacts(parcel=number, applicant=ref(owner), buyers=owners((buyer, "1/1"))))
    with pytest.raises(DomainError) as early:
        services.transaction_register(number=tx.number, actor=REGISTRAR)
    assert early.value.status == 409 and early.value.code == "invalid_transition"
    with pytest.raises(DomainError) as no_reason:
        services.transaction_reject(number=tx.number, reason="  ", actor=CHECKER)
    assert no_reason.value.field == "reason"
    rejected = services.transaction_reject(number=tx.number, reason="The deed is unsigned.", actor=CHECKER)
    assert rejected.state == TransactionState.REJECTED and rejected.rejection_reason == "The deed is unsigned."
    with pytest.raises(DomainError):
        services.transaction_check(number=tx.number, actor=CHECKER)
    assert _title(number) == [owner.uin]


def test_a_clerk_cannot_check_and_a_reader_cannot_lodge() -> None:
    owner, buyer = person(), person()
    number = first_register(square(10, 0), owners((owner, "1/1")))
    facts = TransferFacts(parcel=number, applicant=ref(owner), buyers=owners((buyer, "1/1")))
    with pytest.raises(DomainError) as refused:
        services.transaction_lodge(facts=facts, actor=READER)
    assert refused.value.status == 403
    tx = lodge(facts)
    with pytest.raises(DomainError) as refused:
        services.transaction_check(
            number=tx.number, actor=Principal(name="c2", kind="staff", roles=frozenset({"clerk"}))
        )
    assert refused.value.status == 403


def test_registering_checks_again_two_transfers_of_one_parcel_cannot_both_register() -> None:
    owner, first, second = person(), person(), person()
    number = first_register(square(12, 0), owners((owner, "1/1")))
    one = lodge(TransferFacts(parcel=number, applicant=ref(owner), buyers=owners((first, "1/1"))))
    two = lodge(TransferFacts(parcel=number, applicant=ref(owner), buyers=owners((second, "1/1"))))
    services.transaction_check(number=two.number, actor=CHECKER)
    complete(one)
    with pytest.raises(DomainError) as refused:
        services.transaction_register(number=two.number, actor=REGISTRAR)
    assert refused.value.code == "not_registered_owner"
    assert Transaction.objects.get(pk=two.pk).state == TransactionState.CHECKED
    assert _title(number) == [first.uin]


def test_mortgage_and_discharge_show_and_leave_the_encumbrances() -> None:
    owner = person()
    number = first_register(square(14, 0), owners((owner, "1/1")))
    bank = PartyRef(kind="agency", identifier="MSD")
    complete(lodge(MortgageFacts(parcel=number, applicant=ref(owner), lender=bank, amount_cents=25_000_000)))
    found = selectors.parcel_encumbrances(number=number, actor=READER, purpose="test read")
    assert [(e.kind, e.amount_cents, e.holder.identifier) for e in found.encumbrances] == [
        ("mortgage", 25_000_000, "MSD")
    ]
    mortgage = found.encumbrances[0].id
    with pytest.raises(DomainError) as refused:
        lodge(DischargeFacts(parcel=number, applicant=ref(owner), mortgage=mortgage))
    assert refused.value.code == "not_the_lender"
    complete(lodge(DischargeFacts(parcel=number, applicant=bank, mortgage=mortgage)))
    assert selectors.parcel_encumbrances(number=number, actor=READER, purpose="test read").encumbrances == []
    yesterday_to_now = selectors.parcel_history(number=number, actor=READER, purpose="test read")
    assert [r.kind for r in yesterday_to_now.rights] == ["ownership", "mortgage"]


def test_joint_owners_shares_are_exact_and_must_add_up_to_one() -> None:
    a, b, c = person(), person(), person()
    with pytest.raises(DomainError) as refused:
        first_register(square(16, 0), owners((a, "1/3"), (b, "1/3")))
    assert refused.value.code == "shares_do_not_add_up" and "2/3" in refused.value.detail
    number = first_register(square(16, 0), owners((a, "1/3"), (b, "1/3"), (c, "1/3")))
    title = selectors.parcel_title(number=number, actor=READER, purpose="test read")
    assert [(m.identifier, m.share) for m in title.ownership[0].holder.members] == sorted(
        [(a.uin, "1/3"), (b.uin, "1/3"), (c.uin, "1/3")]
    )
    # Any one of the joint owners is a registered owner.
    owned = selectors.parcels_of_party(party=ref(b), actor=READER, purpose="test read")
    assert [p.number for p in owned.parcels] == [number]


def test_a_party_unknown_to_its_register_is_refused() -> None:
    with pytest.raises(DomainError) as refused:
        first_register(square(18, 0), [OwnerShare(party=PartyRef(kind="business", identifier="BN-0000-000"))])
    assert refused.value.code == "party_not_found"
    with pytest.raises(DomainError) as refused:
        first_register(square(18, 0), [OwnerShare(party=PartyRef(kind="person", identifier="2345678901"))])
    assert refused.value.status == 422 and refused.value.field is not None


def test_reads_need_a_purpose_and_are_logged_for_each_owner() -> None:
    owner = person()
    number = first_register(square(20, 0), owners((owner, "1/1")))
    with pytest.raises(DomainError) as refused:
        selectors.parcel_title(number=number, actor=READER, purpose="")
    assert refused.value.code == "purpose_required"
    selectors.parcel_title(number=number, actor=READER, purpose="mortgage application 17")
    logged = [r for r in access_records_for(subject=owner.uin) if r["purpose"] == "mortgage application 17"]
    assert logged and logged[0]["actor"] == "land.reader"


def test_as_of_a_date_before_the_parcel_existed_is_not_found() -> None:
    owner = person()
    number = first_register(square(22, 0), owners((owner, "1/1")))
    with pytest.raises(DomainError) as refused:
        selectors.parcel_title(
            number=number, actor=READER, purpose="test read", as_of=(timezone.now() - timedelta(days=2)).date()
        )
    assert refused.value.status == 404 and refused.value.code == "parcel_not_current"
