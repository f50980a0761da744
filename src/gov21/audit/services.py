"""The access log's writes. Call ``access_record`` inside the transaction of the change it records.

The access log is a hash chain with signed tree heads (``gov21.core.chain``): each record is one
append under the log's locked head row, and every ``SEAL_EVERY`` records a head is signed."""

from __future__ import annotations

from django.utils import timezone
from pydantic import JsonValue

from gov21.audit import chain
from gov21.core import chain as core


def access_record(
    *, actor: str, actor_kind: str, action: str, subject: str, purpose: str, detail: dict[str, JsonValue] | None = None
) -> None:
    core.append(
        chain.KIND,
        chain.CHAIN,
        {
            "at": timezone.now(),
            "actor": actor[:150],
            "actor_kind": actor_kind[:16],
            "action": action[:40],
            "subject": subject[:40],
            "purpose": purpose[:300],
            "detail": detail or {},
        },
        signer=chain.sign,
    )


def access_log_seal() -> core.TreeHeadBase | None:
    return core.seal(chain.KIND, chain.CHAIN, chain.sign)


def access_log_anchor() -> int:
    return core.anchor(chain.KIND, chain.CHAIN)
