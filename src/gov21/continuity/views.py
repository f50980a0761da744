"""Health endpoints for load balancers and monitors: liveness (the process answers; public, and it
says nothing else) and readiness (the database answers; the state of each target's backups and
restore drills is listed beside it). Readiness names the backup targets and what is failing, so only
monitors on the networks in ``GOV21_READYZ_ALLOW`` may read it."""

from __future__ import annotations

from django.conf import settings
from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gov21.continuity.alerts import alerts
from gov21.continuity.selectors import target_states
from gov21.core.http import address_in, client_address, problem

# What a target's check says for each alert, most serious first.
_BACKUP_CHECKS = {"backup_failed": "failed", "backup_stale": "stale"}
_DRILL_CHECKS = {"drill_failed": "failed", "drill_overdue": "overdue", "drill_missing": "missing"}


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "alive"})


@never_cache
@require_GET
def readyz(request: HttpRequest) -> HttpResponse:
    if not address_in(client_address(request), settings.GOV21_READYZ_ALLOW):
        return problem(
            status=403,
            code="not_allowed",
            title=_("Not allowed"),
            detail=_("Readiness is for monitors inside the network; this address may not read it."),
            instance=request.path,
        )
    checks: dict[str, str] = {}
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        checks["database"] = "ok"
    except DatabaseError as error:
        checks["database"] = f"failing: {error.__class__.__name__}"
    ready = checks["database"] == "ok"
    # Backups and drills do not decide readiness (a node with a stale drill still serves), but monitors see them.
    if ready:
        states = target_states()
        codes = {(alert.target, alert.code) for alert in alerts(states=states)}
        for state in states:
            if state.configured or state.last_backup is not None:
                checks[f"backup {state.name}"] = _check(state.name, codes, _BACKUP_CHECKS)
            if state.configured or state.last_drill is not None:
                checks[f"drill {state.name}"] = _check(state.name, codes, _DRILL_CHECKS)
    return JsonResponse({"status": "ready" if ready else "not ready", "checks": checks}, status=200 if ready else 503)


def _check(target: str, codes: set[tuple[str, str]], meanings: dict[str, str]) -> str:
    return next((value for code, value in meanings.items() if (target, code) in codes), "ok")
