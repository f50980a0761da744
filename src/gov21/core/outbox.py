"""The outbox every app uses for work that leaves the process after a commit: publish/subscribe
deliveries, notifications to citizens.

A row is written in the transaction of the change it follows, so it exists if and only if the
change committed (:class:`OutboxRow` holds the columns). A worker then:

* :func:`outbox_claim` takes due rows under a lease: a compare-and-set update that names this
  claim as the lease owner, so of two workers (threads, processes, nodes; SQLite or PostgreSQL)
  exactly one gets each row. Each claim counts as an attempt. A worker that dies leaves its rows
  leased; they are due again when the lease expires, so nothing is lost (delivery is at least once).
* :func:`outbox_done` marks a row done; :func:`outbox_fail` records the error and waits with
  exponential backoff (and jitter, so rows that failed together are not retried together), or
  dead-letters the row when the failure is permanent or the attempts are used up.
* :func:`outbox_requeue` gives a dead letter a fresh series of attempts; the back office lists
  every registered outbox's dead letters (:func:`outbox_dead_letters`) with a button for it.

Each app describes its outbox once with :class:`Outbox` (which statuses mean waiting, in hand,
done and dead; how often to try; who may retry) and registers it with :func:`outbox_register`.
"""

from __future__ import annotations

import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Final, Generic, TypeVar

from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from gov21.core.errors import Conflict, NotFound

ERROR_MAX: Final = 500
# What a dead letter says when its worker stopped during its last attempt and nobody saw why.
DIED_ON_LAST_ATTEMPT: Final = "the worker sending it stopped during the last attempt"


class OutboxRow(models.Model):
    """The columns of one item in an outbox. ``status`` takes the owning model's own words (see
    :class:`Outbox`); the lease columns say which claim holds the row and until when."""

    status = models.CharField(max_length=10)
    attempts = models.PositiveIntegerField(default=0)
    next_attempt_at = models.DateTimeField(default=timezone.now)
    lease_owner = models.CharField(max_length=32, blank=True, default="")
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=ERROR_MAX, blank=True, default="")
    dead_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True
        indexes = [models.Index(fields=["status", "next_attempt_at"], name="%(app_label)s_%(class)s_due_idx")]


RowT = TypeVar("RowT", bound=OutboxRow)


@dataclass(frozen=True)
class Outbox(Generic[RowT]):
    """One outbox: its model, the words its ``status`` column uses, its retry policy, and what the
    back office shows of it.

    ``item`` names one row in error codes and messages ("delivery"). ``sending`` is the status of a
    row in a worker's hands, or "" when a leased row keeps its ``waiting`` status. ``done_at``
    names the model's column that records when the row was done; ``related`` the relations that
    ``describe`` reads, fetched with the dead letters.
    The wait after the n-th failed attempt is ``min(backoff_base_s * 2**(n-1), backoff_cap_s)``,
    lengthened by up to ``jitter`` of itself (0.1: up to 10 %)."""

    name: str
    title: str
    item: str
    model: type[RowT]
    permission: str
    waiting: str
    done: str
    dead: str
    done_at: str
    describe: Callable[[RowT], str]
    sending: str = ""
    related: tuple[str, ...] = ()
    max_attempts: int = 10
    backoff_base_s: float = 30.0
    backoff_cap_s: float = 3600.0
    jitter: float = 0.0
    lease_s: float = 600.0

    def backoff(self, attempts: int) -> timedelta:
        """How long to wait after the ``attempts``-th failed attempt."""
        delay = min(self.backoff_base_s * 2 ** (attempts - 1), self.backoff_cap_s)
        spread = secrets.randbelow(10_000) / 10_000 * self.jitter if self.jitter else 0.0
        return timedelta(seconds=delay * (1 + spread))

    def due(self, now: datetime) -> Q:
        """Rows a worker may claim at ``now``: waiting (or left in hand) with no live lease."""
        statuses = [self.waiting, self.sending] if self.sending else [self.waiting]
        unleased = Q(lease_expires_at__isnull=True) | Q(lease_expires_at__lte=now)
        return Q(status__in=statuses, next_attempt_at__lte=now) & unleased


_OUTBOXES: dict[str, Outbox[Any]] = {}


def outbox_register(outbox: Outbox[RowT]) -> Outbox[RowT]:
    """Make ``outbox`` known to the back office; registering the same name again replaces it."""
    _OUTBOXES[outbox.name] = outbox
    return outbox


def outboxes() -> list[Outbox[Any]]:
    """Every registered outbox, by name."""
    return [_OUTBOXES[name] for name in sorted(_OUTBOXES)]


def outbox_get(name: str) -> Outbox[Any]:
    outbox = _OUTBOXES.get(name)
    if outbox is None:
        raise NotFound("unknown_outbox", f"No outbox {name!r}")
    return outbox


def outbox_claim(outbox: Outbox[RowT], candidates: models.QuerySet[RowT], *, limit: int) -> list[RowT]:
    """Lease up to ``limit`` due rows of ``candidates`` (in their order) to this claim; the rows
    leased, each with its attempt counted, loaded through ``candidates`` (so its
    ``select_related`` applies; it should not filter on ``status``, which the lease may change).
    Rows whose attempts are used up (their worker died during the last one) are dead-lettered."""
    if limit < 1:
        return []
    now = timezone.now()
    manager = outbox.model._default_manager
    due = candidates.filter(outbox.due(now))
    while True:
        found = list(due.values_list("pk", "attempts")[:limit])
        spent = [pk for pk, attempts in found if attempts >= outbox.max_attempts]
        ids = [pk for pk, attempts in found if attempts < outbox.max_attempts]
        if spent:
            manager.filter(outbox.due(now), pk__in=spent).update(
                status=outbox.dead, dead_at=now, last_error=DIED_ON_LAST_ATTEMPT, lease_owner="", lease_expires_at=None
            )
        # Each round takes the spent rows out of the due set, so this ends; usually it runs once.
        if ids or not spent:
            break
    if not ids:
        return []
    owner = secrets.token_hex(16)
    changes: dict[str, Any] = {
        "lease_owner": owner,
        "lease_expires_at": now + timedelta(seconds=outbox.lease_s),
        "attempts": models.F("attempts") + 1,
    }
    if outbox.sending:
        changes["status"] = outbox.sending
    # One conditional UPDATE: the database re-checks "still due" on each row it changes, so a row
    # another worker leased a moment ago is left out (PostgreSQL re-reads it after the other
    # transaction commits; SQLite runs one writer at a time).
    manager.filter(outbox.due(now), pk__in=ids).update(**changes)
    order = {pk: i for i, pk in enumerate(ids)}
    return sorted(candidates.filter(pk__in=ids, lease_owner=owner), key=lambda row: order[row.pk])


def _settle(outbox: Outbox[RowT], row: RowT, **changes: Any) -> bool:
    # Only the claim that holds the lease settles the row: a worker so slow that its lease ran out
    # and another worker took the row leaves the other's outcome standing.
    changes.update(lease_owner="", lease_expires_at=None)
    held = outbox.model._default_manager.filter(pk=row.pk, lease_owner=row.lease_owner)
    return bool(row.lease_owner) and bool(held.update(**changes))


def outbox_done(outbox: Outbox[RowT], row: RowT) -> bool:
    """Mark a claimed row done; False if this claim no longer held it."""
    return _settle(outbox, row, status=outbox.done, last_error="", **{outbox.done_at: timezone.now()})


def outbox_fail(outbox: Outbox[RowT], row: RowT, error: str, *, permanent: bool = False) -> bool:
    """Record a failed attempt of a claimed row: due again after the backoff, or dead when
    ``permanent`` or its attempts are used up. False if this claim no longer held it."""
    now = timezone.now()
    if permanent or row.attempts >= outbox.max_attempts:
        return _settle(outbox, row, status=outbox.dead, dead_at=now, last_error=error[:ERROR_MAX])
    return _settle(
        outbox,
        row,
        status=outbox.waiting,
        last_error=error[:ERROR_MAX],
        next_attempt_at=now + outbox.backoff(row.attempts),
    )


def outbox_dead_letters(outbox: Outbox[RowT], *, limit: int = 200) -> list[RowT]:
    """The outbox's dead letters, most recently dead first."""
    rows = outbox.model._default_manager.filter(status=outbox.dead).select_related(*outbox.related)
    return list(rows.order_by(models.F("dead_at").desc(nulls_last=True), "-pk")[:limit])


@transaction.atomic
def outbox_requeue(outbox: Outbox[RowT], *, row_id: int) -> RowT:
    """Give a dead letter a fresh series of attempts, due now; ``Conflict`` if it is not dead."""
    row = outbox.model._default_manager.select_for_update().filter(pk=row_id).first()
    if row is None:
        raise NotFound(f"unknown_{outbox.item}", f"No {outbox.item} {row_id}")
    if row.status != outbox.dead:
        raise Conflict(f"{outbox.item}_not_dead", f"{outbox.item.capitalize()} {row_id} is {row.status}, not dead")
    row.status, row.attempts, row.next_attempt_at, row.dead_at = outbox.waiting, 0, timezone.now(), None
    row.save(update_fields=["status", "attempts", "next_attempt_at", "dead_at"])
    return row


__all__ = [
    "Outbox",
    "OutboxRow",
    "outbox_claim",
    "outbox_dead_letters",
    "outbox_done",
    "outbox_fail",
    "outbox_get",
    "outbox_register",
    "outbox_requeue",
    "outboxes",
]
