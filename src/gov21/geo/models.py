"""What the geographic server keeps in the database: the version of each collection whose register
says when it changes, so the tiles built from it are kept until the next change."""

from __future__ import annotations

from django.db import models


class CollectionVersion(models.Model):
    """A random token a register replaces in every transaction that changes its collection's
    features (``contracts.collection_changed``). Random, not a counter: a database restored from a
    backup, or a transaction rolled back, brings back an earlier token together with the features it
    stood for, and a later change never gives a token used before."""

    collection = models.CharField(max_length=63, primary_key=True)
    token = models.CharField(max_length=32)

    def __str__(self) -> str:
        return f"{self.collection} {self.token}"
