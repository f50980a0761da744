"""Health endpoints for load balancers and monitors: liveness (the process answers) and readiness
(the database answers and the last restore drill is recent and passed)."""

from __future__ import annotations

from datetime import timedelta

from django.db import DatabaseError, connection
from django.http import HttpRequest, JsonResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gov21.continuity.drill import last_drills

DRILL_OVERDUE = timedelta(days=8)


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> JsonResponse:
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"failing: {error.__class__.__name__}"
    ready = checks["database"] == "ok"
    # Drills do not decide readiness (a node with a stale drill still serves), but monitors see them.
    if ready:
        for run in last_drills():
            overdue = timezone.now() - run.started_at > DRILL_OVERDUE
            checks[f"drill {run.target}"] = "ok" if run.ok and not overdue else ("overdue" if run.ok else "failed")
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)
