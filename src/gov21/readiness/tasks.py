"""Background work of readiness: the results are published as open data on the worker, never in
the request (or the hub's exchange call) that changed them."""

from __future__ import annotations

from django.db import transaction
from django_tasks import task


@task()
def results_publish_task() -> int:
    """Publish the ranking and the methodology on the data portal; the datasets given a new version."""
    from gov21.readiness.publishing import results_publish

    return sum(1 for published in results_publish() if published.created)


def results_publish_soon() -> None:
    """Queue a publication once the current transaction commits (the figures it changed are then
    there to read); several changes in a row each queue one, and an unchanged table makes no version."""
    transaction.on_commit(results_publish_task.enqueue)
