"""The message log: the entry each gateway writes for every message, in its hash chain, before the
response is released (and, at the provider, one entry per person whose data was used)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Iterator
from typing import Any

from django.db import connection, transaction
from django.utils import timezone

from gov21.core import config
from gov21.exchange import chain, node
from gov21.exchange.errors import XRoadError
from gov21.exchange.protocol import Request, Response, body_hash, xroad_error

logger = logging.getLogger("gov21.exchange")


_sqlite_writer = threading.Lock()


@contextlib.contextmanager
def log_writer() -> Iterator[None]:
    """On SQLite, threads of one process take turns here before asking for the database's write
    lock: waiting on a Python lock wakes at once, while SQLite's busy handler sleeps in steps of up
    to 100 ms, which is what made the tail latency under load. PostgreSQL's row lock needs no help.
    Inside a caller's transaction the write lock is already held; nothing to order."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _sqlite_writer:
        yield


def logged_or_refusal(this: node.ThisNode, *, origin: str, **entry: Any) -> Response | None:
    """Write the message's log entry; if it cannot be written, the error that replaces the
    response (fail closed: nothing else is released)."""
    try:
        _log(this, **entry)
    except Exception:
        logger.exception("message log write failed")
        return xroad_error(XRoadError(f"{origin}.LoggingFailed", "The message log could not be written"))
    return None


def _log(
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
) -> None:
    """Write the message's log entry (and, at the provider, its data uses) in one transaction.
    Raises if it cannot: the caller then answers LoggingFailed and releases nothing else."""
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
    with log_writer(), transaction.atomic():
        chain.append(this.log_chain, values, signer=node.sign_bytes, extra=extra, bound=bound)
        if role == "provider" and response.subjects and response.status < 400:
            for subject in dict.fromkeys(response.subjects):
                chain.append(
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


def data_use_record(
    *, client: str, service: str, path: str, subject: str, user_id: str, issue: str, message_id: str
) -> None:
    """One more use of a person's data that ``client`` received through the exchange in message
    ``message_id`` and releases again (the identity agency answering userinfo from the claims it
    read a moment ago): the same entry in the person's data uses, in the same chain, as the
    provider's gateway writes for a read, so the person sees every release."""
    this = node.this_node()
    with log_writer(), transaction.atomic():
        chain.append(
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
