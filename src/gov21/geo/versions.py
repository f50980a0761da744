"""When a collection last changed: the token its register replaces in every transaction that changes
its features, which the tiles kept of it are filed under (decision 0065). Used through
``geo.contracts``."""

from __future__ import annotations

import secrets

from django.db.models import Subquery


def collection_changed(collection_id: str) -> None:
    """Say that the features of ``collection_id`` change in the current transaction (called by its
    register beside the write): tiles built before are no longer served once it commits."""
    from gov21.geo.models import CollectionVersion  # contracts import this before the models load

    token = secrets.token_hex(16)
    if not CollectionVersion.objects.filter(collection=collection_id).update(token=token):
        CollectionVersion.objects.bulk_create(
            [CollectionVersion(collection=collection_id, token=token)], ignore_conflicts=True
        )
        CollectionVersion.objects.filter(collection=collection_id).update(token=token)


def collection_version(collection_id: str) -> str | None:
    """The token of the collection's last change (None: its register has said of none)."""
    from django.db import connection

    from gov21.geo.models import CollectionVersion

    # Asked on every page of a versioned collection's features: one plain statement, not a queryset
    # built anew each time.
    table = connection.ops.quote_name(CollectionVersion._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT token FROM {table} WHERE collection = %s", [collection_id])  # noqa: S608
        row = cursor.fetchone()
    return None if row is None else str(row[0])


def version_column(collection_id: str) -> Subquery:
    """An expression a register selects beside its rows to read ``collection_version`` in the same
    statement: the token of the collection's last change (NULL while it has said of none)."""
    from gov21.geo.models import CollectionVersion

    return Subquery(CollectionVersion.objects.filter(collection=collection_id).values("token")[:1])
