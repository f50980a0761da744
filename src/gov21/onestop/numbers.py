"""How the one-stop shop serves, in numbers only (nobody named): the services it offers fully
online, the decisions it took without a person, the applications whose facts came from the
registries instead of questions, and how long decisions took against each service's level.
Every figure is one SQL aggregate, so the cost grows with the table, not with a Python loop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, DurationField, ExpressionWrapper, F, Q, QuerySet

from gov21.onestop.models import Application, ServiceDefinition
from gov21.onestop.services import SYSTEM_ACTOR


@dataclass(frozen=True, slots=True)
class ServiceNumbers:
    """The one-stop shop's figures as of ``as_of`` (applications up to that moment)."""

    as_of: datetime
    # Services in the catalogue (the version new applications start with), and those that ask for
    # no document to be brought or sent: applied for, decided and delivered online.
    services: int
    services_fully_online: int
    # Applications submitted, and those for which at least one registry answered the pre-fill, so
    # the facts it holds were shown for confirmation instead of asked.
    submitted: int
    prefilled: int
    # Applications decided (approved or refused), those decided by the engine alone (every rule
    # passed on registry data, nobody intervened), and those decided by their service-level date.
    decided: int
    decided_automatically: int
    decided_within_sla: int
    # The median time from submission to decision, in hours; None when nothing was decided.
    median_decision_hours: float | None


def _decided(as_of: datetime) -> QuerySet[Application]:
    return Application.objects.filter(
        decided_at__isnull=False, decided_at__lte=as_of, submitted_at__isnull=False
    ).exclude(decision="")


def _median_hours(decided: QuerySet[Application], count: int) -> float | None:
    """The median of (decided - submitted), read as the middle row(s) of the ordered durations: a
    sort in the database, not a list of every duration in Python."""
    if count == 0:
        return None
    took = ExpressionWrapper(F("decided_at") - F("submitted_at"), output_field=DurationField())
    middle = (count - 1) // 2
    wanted = 1 if count % 2 else 2
    values = list(decided.annotate(took=took).order_by("took").values_list("took", flat=True)[middle : middle + wanted])
    durations = [v if isinstance(v, timedelta) else timedelta(microseconds=int(v)) for v in values]
    return sum(d.total_seconds() for d in durations) / len(durations) / 3600


def service_numbers(*, as_of: datetime) -> ServiceNumbers:
    """The one-stop shop's figures for the readiness indicators."""
    catalogue = list(ServiceDefinition.objects.filter(active=True).values_list("definition", flat=True))
    online = sum(1 for d in catalogue if not d.get("documents_required"))
    submitted = Application.objects.filter(submitted_at__isnull=False, submitted_at__lte=as_of)
    counts = submitted.aggregate(submitted=Count("pk"), prefilled=Count("pk", filter=Q(verified__has_key="_sources")))
    decided = _decided(as_of)
    decisions = decided.aggregate(
        decided=Count("pk"),
        automatic=Count("pk", filter=Q(decided_by=SYSTEM_ACTOR)),
        within=Count("pk", filter=Q(due_at__isnull=False, decided_at__lte=F("due_at"))),
    )
    return ServiceNumbers(
        as_of=as_of,
        services=len(catalogue),
        services_fully_online=online,
        submitted=counts["submitted"],
        prefilled=counts["prefilled"],
        decided=decisions["decided"],
        decided_automatically=decisions["automatic"],
        decided_within_sla=decisions["within"],
        median_decision_hours=_median_hours(decided, decisions["decided"]),
    )


__all__ = ["ServiceNumbers", "service_numbers"]
