"""The access log's writes. Call ``access_record`` inside the transaction of the change it records.

The access log is a hash chain with signed tree heads (``gov21.core.chain``): each record is one
append under the log's locked head row, and every ``SEAL_EVERY`` records a head is signed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from django.utils import timezone
from pydantic import JsonValue

from gov21.audit import chain
from gov21.core import chain as core


@dataclass(frozen=True)
class Access:
    """One access to record: who (``actor``, of ``actor_kind``), did what (``action``), to whose data
    (``subject``), why (``purpose``), with what else worth keeping (``detail``)."""

    actor: str
    actor_kind: str
    action: str
    subject: str
    purpose: str
    detail: dict[str, JsonValue] | None = None


def _entry(access: Access) -> core.Entry:
    values = {
        "at": timezone.now(),
        "actor": access.actor[:150],
        "actor_kind": access.actor_kind[:16],
        "action": access.action[:40],
        "subject": access.subject[:40],
        "purpose": access.purpose[:300],
        "detail": access.detail or {},
    }
    return core.Entry(chain.KIND, chain.CHAIN, values, signer=chain.sign)


def access_record(
    *, actor: str, actor_kind: str, action: str, subject: str, purpose: str, detail: dict[str, JsonValue] | None = None
) -> None:
    access_record_all([Access(actor, actor_kind, action, subject, purpose, detail)])


def access_record_all(accesses: Sequence[Access]) -> None:
    """Record several accesses in one append (the log's head locked and written once), in order:
    what one action that touches many records (a batch of births) does."""
    core.append_all([_entry(a) for a in accesses])


def access_log_seal() -> core.TreeHeadBase | None:
    return core.seal(chain.KIND, chain.CHAIN, chain.sign)


def access_log_anchor() -> int:
    return core.anchor(chain.KIND, chain.CHAIN)
