from __future__ import annotations

from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def one_or_none(queryset: QuerySet[M]) -> M | None:
    """The row of a lookup on a unique key, or None.

    ``QuerySet.first()`` adds ``ORDER BY pk``, and compiling that ordering costs more than the
    indexed lookup itself on hot paths; a unique lookup needs no order.
    """
    rows = list(queryset[:1])
    return rows[0] if rows else None
