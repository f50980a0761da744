"""Background work of e-participation: the opinion map is recomputed on the worker, never in the
request that cast a vote."""

from __future__ import annotations

from django.utils import timezone
from django_tasks import task

from gov21.participation.models import OpinionMap
from gov21.participation.selectors import opinion_result


@task()
def opinion_map_refresh(process_id: int) -> int:
    """Recompute the map of one consultation from all its votes; returns the votes it read. Votes
    that arrive while it runs mark the map stale again and queue the next recomputation."""
    OpinionMap.objects.filter(process_id=process_id).update(stale=False)
    result, seen = opinion_result(process_id)
    OpinionMap.objects.filter(process_id=process_id).update(result=result, votes_seen=seen, computed_at=timezone.now())
    return seen
