"""The pool of pre-generated UINs. Issuing takes one row out of the pool inside the registering
transaction, so a rolled-back registration puts its UIN back and an issued UIN can never be issued
again (it now lives in ``Person.uin``, which is unique, and persons are never deleted)."""

from __future__ import annotations

import secrets

from django.conf import settings
from django.db import connection, transaction

from gov21.core.errors import DomainError
from gov21.core.ids import uin_generate_batch
from gov21.registry.models import Person, UinPoolEntry


def uin_pool_size() -> int:
    return UinPoolEntry.objects.count()


def uin_pool_refill(*, target: int) -> int:
    """Top the pool up to ``target`` unissued UINs; returns how many were added."""
    missing = target - uin_pool_size()
    added = 0
    while missing > 0:
        candidates = uin_generate_batch(missing)
        taken = set(Person.objects.filter(uin__in=candidates).values_list("uin", flat=True))
        rows = [UinPoolEntry(uin=u, rank=secrets.randbits(62)) for u in candidates if u not in taken]
        with transaction.atomic():
            UinPoolEntry.objects.bulk_create(rows, ignore_conflicts=True, batch_size=2000)
        now = uin_pool_size()
        added += max(0, now - (target - missing))
        missing = target - now
    return added


def _take_one() -> str | None:
    table = UinPoolEntry._meta.db_table
    # On PostgreSQL, SKIP LOCKED lets concurrent registrations take different UINs without waiting;
    # SQLite serialises writers (IMMEDIATE transactions), so the plain form is safe there.
    lock = " FOR UPDATE SKIP LOCKED" if connection.vendor == "postgresql" else ""
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {table} WHERE uin = (SELECT uin FROM {table} ORDER BY rank LIMIT 1{lock}) RETURNING uin"  # noqa: S608
        )
        row = cursor.fetchone()
    return str(row[0]) if row is not None else None


def uin_take() -> str:
    """Take one UIN out of the pool. Must run inside the transaction that assigns it."""
    if not connection.in_atomic_block:
        raise RuntimeError("uin_take must run inside the transaction that assigns the UIN")
    uin = _take_one()
    if uin is None:
        # The worker keeps the pool filled; if it has fallen behind, refill inline (this transaction
        # already holds the write lock) rather than fail a registration.
        uin_pool_refill(target=max(64, settings.GOV21_UIN_POOL_LOW_WATER))
        uin = _take_one()
        if uin is None:
            raise DomainError("uin_pool_empty", "No UIN could be issued; try again.", status=503)
    return uin
