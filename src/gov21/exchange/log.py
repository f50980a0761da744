"""The message log: the entry each gateway writes for every message, in its hash chain, before the
response is released (and, at the provider, one entry per person whose data was used).

The entries of one message are committed together, and with those of every other message being
logged at the same moment (group commit, :mod:`gov21.core.groupcommit`): when both ends are in this
process, the provider's entries and the consumer's share one commit, made before the response
leaves the process."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from django.utils import timezone

from gov21.core import chain as core
from gov21.core import config, groupcommit
from gov21.exchange import chain, node
from gov21.exchange.errors import XRoadError
from gov21.exchange.protocol import Request, Response, body_hash, xroad_error

logger = logging.getLogger("gov21.exchange")


# Threads of one process take turns before SQLite's write lock (see core.groupcommit.write_turn).
log_writer = groupcommit.write_turn


def logged_or_refusal(
    this: node.ThisNode, *, origin: str, before: Sequence[core.Entry] = (), **entry: Any
) -> Response | None:
    """Write the message's log entry, after the entries ``before`` it (the provider's, when the
    provider answered in this process), all committed together; if they cannot be written, the
    error that replaces the response (fail closed: nothing else is released)."""
    try:
        chain.append_all([*before, *entries(this, **entry)])
    except Exception:
        logger.exception("message log write failed")
        return xroad_error(XRoadError(f"{origin}.LoggingFailed", "The message log could not be written"))
    return None


async def logged_or_refusal_async(
    this: node.ThisNode, *, origin: str, before: Sequence[core.Entry] = (), **entry: Any
) -> Response | None:
    """:func:`logged_or_refusal` for the asynchronous gateway: the entries go to the writer thread,
    and the loop waits for their commit without blocking."""
    try:
        await chain.append_all_async([*before, *entries(this, **entry)])
    except Exception:
        logger.exception("message log write failed")
        return xroad_error(XRoadError(f"{origin}.LoggingFailed", "The message log could not be written"))
    return None


def entries_append(written: Sequence[core.Entry]) -> None:
    """Append entries that must not be lost while the caller fails for another reason; a failure
    here is logged, and the caller's own error is the one that propagates."""
    try:
        chain.append_all(written)
    except Exception:
        logger.exception("message log write failed")


def entries(
    this: node.ThisNode,
    *,
    role: str,
    req: Request,
    request_id: str,
    response: Response,
    rhash: str,
    req_sig: str,
    resp_sig: str,
    duration_ms: float,
) -> list[core.Entry]:
    """The message's log entry and, at the provider, one data-use record per person its answer
    concerns: to be appended together (:func:`gov21.exchange.chain.append_all`), so that they share
    one commit, and with other requests' entries when no transaction is held."""
    now = timezone.now()
    values = {
        "at": now,
        "role": role,
        "message_id": req.message_id[:100],
        "request_id": request_id,
        "client": str(req.client),
        "service": str(req.service),
        "method": req.method,
        "path": req.target[:2000],
        "status": response.status,
        "error": response.error[:100],
        "user_id": req.user_id[:100],
        "issue": req.issue[:300],
        "represented_party": req.represented_party[:300],
        "request_hash": rhash,
        "response_hash": body_hash(response.body),
        "request_sig": req_sig,
        "response_sig": resp_sig,
        "subjects": ",".join(response.subjects)[:2000],
    }
    extra: dict[str, Any] = {"duration_ms": round(duration_ms, 3)}
    bound = None
    if config.EXCHANGE_LOG_BODIES.read():
        from gov21.exchange import bodies

        # Sealed to the entry's place in the chain, so it cannot be moved to another entry.
        bound = bodies.sealer(this.log_chain, req.body, response.body)
    written = [chain.entry(this.log_chain, values, signer=node.sign_bytes, extra=extra, bound=bound)]
    if role == "provider" and response.subjects and response.status < 400:
        written += [
            chain.entry(
                this.uses_chain,
                {
                    "at": now,
                    "subject": subject[:40],
                    "client": str(req.client),
                    "service": str(req.service),
                    "method": req.method,
                    "path": (req.path or "/")[:500],
                    "user_id": req.user_id[:100],
                    "issue": req.issue[:300],
                    "message_id": req.message_id[:100],
                },
                signer=node.sign_bytes,
            )
            for subject in dict.fromkeys(response.subjects)
        ]
    return written


def data_use_record(
    *, client: str, service: str, path: str, subject: str, user_id: str, issue: str, message_id: str
) -> None:
    """One more use of a person's data that ``client`` received through the exchange in message
    ``message_id`` and releases again (the identity agency answering userinfo from the claims it
    read a moment ago): the same entry in the person's data uses, in the same chain, as the
    provider's gateway writes for a read, so the person sees every release. Committed (with other
    requests' entries when no transaction is held) before this returns."""
    this = node.this_node()
    chain.append_all(
        [
            chain.entry(
                this.uses_chain,
                {
                    "at": timezone.now(),
                    "subject": subject[:40],
                    "client": client,
                    "service": service,
                    "method": "GET",
                    "path": (path or "/")[:500],
                    "user_id": user_id[:100],
                    "issue": issue[:300],
                    "message_id": message_id[:100],
                },
                signer=node.sign_bytes,
            )
        ]
    )
