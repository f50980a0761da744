"""This node's chains: the message log (``log:<node>``) and the data-use log (``uses:<node>``).

The machinery (hash chain, linked signed tree heads, countersignatures, anchors, archiving) is
``gov21.core.chain``, shared with the registry's access log; this module says where the exchange's
entries live, which fields are hashed, that a sealed body must open under its own entry, and signs
with the node's own key.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any, Final

from gov21.core import chain as core
from gov21.core.chain import (
    SEAL_EVERY,
    ZERO,
    Proof,
    Signer,
    Verifier,
    VerifyReport,
    entry_hash,
    head_digest,
    head_message,
)
from gov21.core.sealing import SealError
from gov21.exchange import bodies, node
from gov21.exchange.models import ChainHead, DataUse, LogEntry, TreeHead

__all__ = [
    "LOG_FIELDS",
    "SEAL_EVERY",
    "USE_FIELDS",
    "ZERO",
    "Proof",
    "VerifyReport",
    "entry_hash",
    "head_digest",
    "head_message",
]

# The fields of each kind of chain entry, in the order they are hashed.
LOG_FIELDS: Final = (
    "at",
    "role",
    "message_id",
    "request_id",
    "client",
    "service",
    "method",
    "path",
    "status",
    "error",
    "user_id",
    "issue",
    "represented_party",
    "request_hash",
    "response_hash",
    "request_sig",
    "response_sig",
    "subjects",
)
USE_FIELDS: Final = ("at", "subject", "client", "service", "method", "path", "user_id", "issue", "message_id")


def _body_check(chain: str, seq: int, digest: str, extra: tuple[Any, ...]) -> str:
    (body,) = extra
    if body is None:
        return ""
    try:
        bodies.open_sealed(bytes(body), chain=chain, seq=seq, entry_hash=digest)
    except SealError:
        return "its sealed body does not open under this entry (swapped from another entry or changed)"
    return ""


_KINDS: Final = {
    "log": core.Kind(LogEntry, LOG_FIELDS, ChainHead, TreeHead, extra=("body",), check=_body_check),
    "uses": core.Kind(DataUse, USE_FIELDS, ChainHead, TreeHead),
}


def kind(chain: str) -> core.Kind:
    return _KINDS[chain.split(":", 1)[0]]


def append(
    chain: str,
    values: Mapping[str, object],
    *,
    signer: Signer | None = None,
    extra: dict[str, object] | None = None,
    bound: Callable[[int, str], Mapping[str, object]] | None = None,
) -> int:
    """Append one entry to ``chain``; its sequence number (see :func:`gov21.core.chain.append`)."""
    return core.append(kind(chain), chain, values, signer=signer, extra=extra, bound=bound)


def entry(
    chain: str,
    values: Mapping[str, object],
    *,
    signer: Signer | None = None,
    extra: dict[str, object] | None = None,
    bound: Callable[[int, str], Mapping[str, object]] | None = None,
) -> core.Entry:
    """One entry for :func:`append_all`."""
    return core.Entry(kind(chain), chain, values, signer, extra, bound)


def append_all(entries: Sequence[core.Entry]) -> list[int]:
    """Append entries to this node's chains, committed together (see :func:`gov21.core.chain.append_all`)."""
    return core.append_all(entries)


async def append_all_async(entries: Sequence[core.Entry]) -> list[int]:
    """:func:`append_all` from an event loop (see :func:`gov21.core.chain.append_all_async`)."""
    return await core.append_all_async(entries)


def seal(chain: str, signer: Signer | None = None) -> TreeHead | None:
    """Sign a tree head over the entries appended since the last one, if there are any."""
    head = core.seal(kind(chain), chain, signer or node.sign_bytes)
    assert head is None or isinstance(head, TreeHead)
    return head


def anchor(chain: str) -> int:
    """Countersign heads still without a token and record the newest outside the database."""
    return core.anchor(kind(chain), chain)


def inclusion(chain: str, seq: int) -> Proof | None:
    return core.inclusion(kind(chain), chain, seq)


def chain_names() -> list[str]:
    """The names of the chains this node keeps, in order."""
    return list(ChainHead.objects.order_by("chain").values_list("chain", flat=True))


def verify(chain: str, verify_signature: Verifier | None = None) -> VerifyReport:
    return core.verify(kind(chain), chain, verify_signature or node.verify_own)


def archive(
    chain: str,
    *,
    before: datetime,
    out_dir: Path,
    verify_signature: Verifier | None = None,
    signer: Signer | None = None,
) -> Path | None:
    return core.archive(
        kind(chain),
        chain,
        before=before,
        out_dir=out_dir,
        signer=signer or node.sign_bytes,
        verify_signature=verify_signature,
    )


def archive_statement(chain: str) -> dict[str, Any] | None:
    return core.archive_statement(kind(chain), chain)


def verify_archive(path: Path, verify_signature: Verifier | None = None) -> VerifyReport:
    return core.verify_archive(kind, path, verify_signature or node.verify_own)
