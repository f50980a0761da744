"""The operator's page of continuity: alerts, then each backup target's last backup and restore drill,
then the latest attempts of both. Read only: backups and drills are started from the command line."""

from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from gov21.continuity.alerts import alerts, backup_max_age, drill_failure, drill_overdue_after
from gov21.continuity.selectors import backup_runs_recent, drill_runs_recent, target_states
from gov21.core.office import Office
from gov21.core.principal import Principal

PERMISSION = "continuity.read"
RECENT = 20


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow reading the state of backups and restore drills.")
    return render(request, "continuity/office_refused.html", {"detail": detail}, status=403)


office_page = Office(
    home="continuity_office:overview", home_label=gettext_lazy("Go to backups and restore drills"), refuse=_refused
).page


@never_cache
@require_GET
@office_page(PERMISSION)
def overview(request: HttpRequest, principal: Principal) -> HttpResponse:
    states = target_states()
    targets = [
        {
            "state": state,
            "drill_error": drill_failure(state.last_drill)
            if state.last_drill is not None and not state.last_drill.ok
            else "",
        }
        for state in states
    ]
    drills = [{"run": run, "error": "" if run.ok else drill_failure(run)} for run in drill_runs_recent(limit=RECENT)]
    context = {
        "alerts": alerts(states=states),
        "targets": targets,
        "backups": backup_runs_recent(limit=RECENT),
        "drills": drills,
        "vendor": connection.vendor,
        "backup_max_age_minutes": int(backup_max_age().total_seconds() // 60),
        "drill_overdue_days": drill_overdue_after().days,
    }
    return render(request, "continuity/office.html", context)
