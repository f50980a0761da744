"""The access log ("who used my data") is a hash chain with signed tree heads: a record edited or
removed by someone with database access is named by ``gov21 exchange log verify`` and by the
restore check."""

from __future__ import annotations

import io
from collections.abc import Callable
from contextlib import AbstractContextManager
from typing import Any

import pytest
from django.core.management import CommandError, call_command

from gov21.audit import contracts
from gov21.audit.contracts import access_record
from gov21.audit.models import AccessRecord
from gov21.continuity.check import node_check

pytestmark = pytest.mark.django_db


def verify() -> str:
    out = io.StringIO()
    call_command("exchange", "log", "verify", "--chain", "access", stdout=out, stderr=out)
    return out.getvalue()


def _reads(count: int) -> None:
    for n in range(count):
        access_record(
            actor="registrar.one",
            actor_kind="staff",
            action="person.read",
            subject=f"23456789{n:02d}",
            purpose="case B-2026-000123",
            detail={"fields": ["name", "birth"], "n": n},
        )


def _broken(match: str) -> None:
    with pytest.raises(CommandError, match=match):
        verify()
    faults = node_check()["faults"]
    assert any(f.startswith("chain access breaks") and match.split(":")[-1].strip() in f for f in faults), faults


def test_records_are_chained_and_sealed_under_a_signed_head() -> None:
    _reads(3)
    head = contracts.access_log_seal()
    _reads(1)

    assert head is not None and (head.first_seq, head.last_seq) == (1, 3)
    assert list(AccessRecord.objects.order_by("seq").values_list("seq", flat=True)) == [1, 2, 3, 4]
    report = contracts.access_log_verify()
    assert (report.ok, report.entries, report.heads) == (True, 4, 1)
    assert "access: intact" in verify()


def test_an_edited_access_record_is_reported() -> None:
    _reads(3)
    contracts.access_log_seal()
    # The intruder hides who looked: the actor of the second read is changed.
    AccessRecord.objects.filter(seq=2).update(actor="nobody")

    _broken("access: first broken entry 2: its content does not match its hash")


def test_an_edited_detail_is_reported() -> None:
    _reads(2)
    AccessRecord.objects.filter(seq=1).update(detail={"fields": ["name"], "n": 0})

    _broken("access: first broken entry 1: its content does not match its hash")


def test_a_deleted_access_record_is_reported() -> None:
    _reads(3)
    AccessRecord.objects.filter(seq=2).delete()

    _broken("access: first broken entry 2: entry 2 is missing")


def test_the_newest_access_record_deleted_is_reported() -> None:
    _reads(3)
    AccessRecord.objects.filter(seq=3).delete()

    _broken("access: first broken entry 3: the chain head does not match the last entry")


def test_a_deleted_head_of_the_access_log_is_reported() -> None:
    _reads(2)
    contracts.access_log_seal()
    _reads(2)
    contracts.access_log_seal()
    AccessRecord._meta.apps.get_model("audit", "AccessTreeHead").objects.filter(last_seq=2).delete()

    _broken("access: first broken entry 1: entries 1-2 are not covered by a signed tree head")


def test_a_head_every_seal_every_records_keeps_the_unsealed_tail_short(
    monkeypatch: pytest.MonkeyPatch, django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[Any]]
) -> None:
    from gov21.audit.models import AccessChainHead, AccessTreeHead
    from gov21.core import chain

    monkeypatch.setattr(chain, "SEAL_EVERY", 4)
    with django_capture_on_commit_callbacks(execute=True):
        _reads(9)
    assert list(AccessTreeHead.objects.order_by("last_seq").values_list("last_seq", flat=True)) == [4, 8]
    assert contracts.access_log_verify().ok

    # Both heads removed and the record of sealing wound back: nine records with no head.
    AccessTreeHead.objects.all().delete()
    AccessChainHead.objects.update(sealed_seq=0)
    _broken("access: first broken entry 1:")
