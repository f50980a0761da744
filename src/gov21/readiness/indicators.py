"""The live indicators: the platform's own records, measured on a schedule. The Office of Digital
Government reads each agency's numbers through the exchange, as an outside agency would (numbers
only, nobody named), computes each indicator as its definition says, and keeps each round as dated
rows, so that rounds compare. The methodology file decides which of them count in the index, in
which pillar and in which direction."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from django.db import transaction
from django.utils import timezone
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from gov21.core.loops import batches_loop
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.readiness.models import AccessibilityCheck, IndicatorRound, IndicatorValue

logger = logging.getLogger(__name__)

CLIENT: Final = ("DGO", "readiness")
PURPOSE: Final = "readiness indicators"


@dataclass(frozen=True, slots=True)
class Definition:
    """What an indicator measures (``definition``) and how it is computed from which agency's
    numbers (``computation``); ``unit`` is share (0 to 1), count, days, hours or minutes."""

    code: str
    label: str | Promise
    definition: str | Promise
    computation: str | Promise
    unit: str


DEFINITIONS: Final = (
    Definition(
        "services-online",
        _("Services fully online"),
        _(
            "The share of the one-stop shop's services that a person applies for, is decided on and receives online, "
            "with no document to bring or send."
        ),
        _(
            "Services in the catalogue whose definition asks for no document, divided by the services in the catalogue "
            "(PORTAL/services/numbers)."
        ),
        "share",
    ),
    Definition(
        "automatic-decisions",
        _("Decisions taken automatically"),
        _(
            "The share of decided applications decided end to end by the service engine: every rule passed on "
            "registry data and nobody had to intervene."
        ),
        _(
            "Applications decided by the engine alone, divided by the applications decided (approved or refused) "
            "(PORTAL/services/numbers)."
        ),
        "share",
    ),
    Definition(
        "ask-once",
        _("Applications pre-filled from the registries"),
        _(
            "The share of submitted applications in which facts the registries hold were filled in for the person "
            "to confirm instead of being asked (ask once)."
        ),
        _(
            "Submitted applications for which at least one registry answered the pre-fill, divided by the "
            "submitted applications (PORTAL/services/numbers)."
        ),
        "share",
    ),
    Definition(
        "decisions-within-sla",
        _("Decisions within the service level"),
        _("The share of decided applications decided by the date the service's level promised."),
        _(
            "Applications decided on or before their due date (submission plus the service's days), divided by "
            "the applications decided (PORTAL/services/numbers)."
        ),
        "share",
    ),
    Definition(
        "median-decision-days",
        _("Median time to a decision"),
        _("Half of all decisions came sooner than this, half later."),
        _(
            "The median of decision time minus submission time over the applications decided, in days "
            "(PORTAL/services/numbers)."
        ),
        "days",
    ),
    Definition(
        "exchange-agencies",
        _("Agencies on the exchange"),
        _("Government agencies that are members of the data exchange."),
        _("Members of class GOV in this instance's directory (EXCHANGE/pubsub/directory)."),
        "count",
    ),
    Definition(
        "exchange-services",
        _("Services on the exchange"),
        _("Services that agencies' systems publish on the data exchange."),
        _("Services in this instance's directory that are not disabled (EXCHANGE/pubsub/directory)."),
        "count",
    ),
    Definition(
        "exchange-services-used",
        _("Exchange services in use"),
        _("The share of the exchange's services that at least one other system is allowed to call."),
        _("Services with at least one access right, divided by the services not disabled (EXCHANGE/pubsub/directory)."),
        "share",
    ),
    Definition(
        "digital-id",
        _("Persons with an activated digital ID"),
        _(
            "The share of the living population with an address on the register who activated their digital ID "
            "and still use it."
        ),
        _(
            "Citizens' accounts activated and not disabled (IDA/identity/numbers), divided by the living persons "
            "with an address (CRO/civil-registry/numbers/population)."
        ),
        "share",
    ),
    Definition(
        "restore-drills",
        _("Restore drills passed"),
        _("The share of the last year's restore drills in which a backup was restored, served and checked."),
        _("Drills passed divided by drills run in the 365 days before the round (EXCHANGE/data-embassy/drills)."),
        "share",
    ),
    Definition(
        "restore-rpo-hours",
        _("Worst data loss in a passed drill (RPO)"),
        _("The most data a passed restore drill of the last year lost: the age of the newest record it brought back."),
        _(
            "The largest RPO among the drills passed in the 365 days before the round, in hours "
            "(EXCHANGE/data-embassy/drills)."
        ),
        "hours",
    ),
    Definition(
        "restore-rto-minutes",
        _("Worst time to serve again in a passed drill (RTO)"),
        _("The longest a passed restore drill of the last year took from the start of the restore to serving."),
        _(
            "The largest RTO among the drills passed in the 365 days before the round, in minutes "
            "(EXCHANGE/data-embassy/drills)."
        ),
        "minutes",
    ),
    Definition(
        "accessibility",
        _("Public pages passing the accessibility checks"),
        _(
            "The share of the portal's public pages that pass every WCAG rule checkable on their HTML (language, "
            "title, labels, text alternatives, heading order, landmarks)."
        ),
        _("Pages with no failure divided by the pages checked, checked by this office in each round."),
        "share",
    ),
)
BY_CODE: Final = {d.code: d for d in DEFINITIONS}


@dataclass(frozen=True, slots=True)
class Measured:
    code: str
    value: float | None
    numerator: float | None = None
    denominator: float | None = None


def _share(code: str, numerator: int, denominator: int) -> Measured:
    value = numerator / denominator if denominator else None
    return Measured(code, value, float(numerator), float(denominator))


def _read(member: str, subsystem: str, service: str, path: str = "/", query: str = "") -> Any:
    return exchange_json(
        client=agency_client(*CLIENT),
        service=agency_service(member, subsystem, service),
        path=path,
        query=query,
        issue=PURPOSE,
    )


def indicators_compute(*, numbers: dict[str, Any], accessibility: tuple[int, int] | None) -> list[Measured]:
    """Each indicator from the agencies' answers (``numbers`` by service) and the accessibility
    checks (pages passing, pages checked): a pure function of its inputs."""
    services, directory = numbers["services"], numbers["directory"]
    drills, ids = numbers["drills"], numbers["identity"]
    population = sum(int(c["persons"]) for c in numbers["population"]["cells"])
    median = services["median_decision_hours"]
    rpo, rto = drills["worst_rpo_seconds"], drills["worst_rto_seconds"]
    found = [
        _share("services-online", services["services_fully_online"], services["services"]),
        _share("automatic-decisions", services["decided_automatically"], services["decided"]),
        _share("ask-once", services["prefilled"], services["submitted"]),
        _share("decisions-within-sla", services["decided_within_sla"], services["decided"]),
        Measured("median-decision-days", None if median is None else median / 24),
        Measured("exchange-agencies", float(directory["agencies"])),
        Measured("exchange-services", float(directory["services"])),
        _share("exchange-services-used", directory["services_with_clients"], directory["services"]),
        _share("digital-id", ids["activated"], population),
        _share("restore-drills", drills["passed"], drills["drills"]),
        Measured("restore-rpo-hours", None if rpo is None else rpo / 3600),
        Measured("restore-rto-minutes", None if rto is None else rto / 60),
    ]
    if accessibility is not None:
        found.append(_share("accessibility", *accessibility))
    else:
        found.append(Measured("accessibility", None))
    return found


def numbers_read() -> dict[str, Any]:
    """Each agency's numbers, read through the exchange as DGO/readiness (signed, logged)."""
    return {
        "services": _read("PORTAL", "services", "numbers"),
        "directory": _read("EXCHANGE", "pubsub", "directory"),
        "identity": _read("IDA", "identity", "numbers"),
        "population": _read("CRO", "civil-registry", "numbers", "/population"),
        "drills": _read("EXCHANGE", "data-embassy", "drills"),
    }


def indicators_measure(*, accessibility: bool = True) -> IndicatorRound:
    """Measure every live indicator now and keep the round. The agencies are read first; a fault
    in any of them stops the round before anything is written, so no round is half measured."""
    from gov21.readiness.accessibility import pages_check

    started = time.monotonic()
    measured_at = timezone.now()
    numbers = numbers_read()
    pages = pages_check() if accessibility else []
    passing = (sum(1 for p in pages if not p.failures), len(pages)) if pages else None
    values = indicators_compute(numbers=numbers, accessibility=passing)
    with transaction.atomic():
        row = IndicatorRound.objects.create(measured_at=measured_at, seconds=time.monotonic() - started)
        IndicatorValue.objects.bulk_create(
            IndicatorValue(round=row, code=m.code, value=m.value, numerator=m.numerator, denominator=m.denominator)
            for m in values
        )
        AccessibilityCheck.objects.bulk_create(
            AccessibilityCheck(round=row, path=p.path, status=p.status, failures=list(p.failures)) for p in pages
        )
    return row


def measure_loop(*, interval: float, stop_after: float | None = None) -> int:
    """Measure a round every ``interval`` seconds (for ``stop_after`` seconds, or for ever); a round
    that fails is logged and the next one is tried at its time. How many rounds were kept."""

    def run(_batch: int) -> tuple[int, int]:
        indicators_measure()
        return 1, 1

    return batches_loop(
        run, batch=2, interval=interval, stop_after=stop_after, logger=logger, what="readiness indicators"
    )


def latest_values(before: datetime | None = None) -> dict[str, float]:
    """The latest round's values by code (those that could be computed)."""
    rounds = IndicatorRound.objects.all()
    if before is not None:
        rounds = rounds.filter(measured_at__lte=before)
    latest = rounds.order_by("-measured_at").first()
    if latest is None:
        return {}
    return {v.code: v.value for v in latest.values.all() if v.value is not None}


@dataclass(frozen=True, slots=True)
class Shown:
    """One indicator as the report shows it: its definition, its value in the latest round and in
    the round before, and where the methodology counts it (None: not in the index)."""

    definition: Definition
    value: float | None
    numerator: float | None
    denominator: float | None
    previous: float | None
    pillar: str | None
    direction: str | None


@dataclass(frozen=True, slots=True)
class LiveReport:
    measured_at: datetime | None
    previous_at: datetime | None
    seconds: float | None
    indicators: tuple[Shown, ...]
    pages: tuple[AccessibilityCheck, ...]


def live_report(as_of: datetime | None = None) -> LiveReport:
    """The latest round (or the last measured at or before ``as_of``) beside the one before it (three
    queries whatever the number of rounds)."""
    from gov21.readiness.index import methodology_load

    measured = IndicatorRound.objects.all() if as_of is None else IndicatorRound.objects.filter(measured_at__lte=as_of)
    rounds: list[IndicatorRound | None] = [*measured.order_by("-measured_at")[:2], None, None]
    latest, previous = rounds[0], rounds[1]
    values = {v.code: v for v in IndicatorValue.objects.filter(round=latest)} if latest else {}
    before = {v.code: v.value for v in IndicatorValue.objects.filter(round=previous)} if previous is not None else {}
    counted = {i.source.split(".", 1)[1]: i for i in methodology_load().indicators if i.source.startswith("live.")}
    shown = []
    for d in DEFINITIONS:
        v = values.get(d.code)
        declared = counted.get(d.code)
        shown.append(
            Shown(
                definition=d,
                value=v.value if v else None,
                numerator=v.numerator if v else None,
                denominator=v.denominator if v else None,
                previous=before.get(d.code),
                pillar=declared.pillar if declared else None,
                direction=declared.direction if declared else None,
            )
        )
    pages = tuple(AccessibilityCheck.objects.filter(round=latest).order_by("path")) if latest else ()
    return LiveReport(
        measured_at=latest.measured_at if latest else None,
        previous_at=previous.measured_at if previous is not None else None,
        seconds=latest.seconds if latest else None,
        indicators=tuple(shown),
        pages=pages,
    )


__all__ = [
    "BY_CODE",
    "DEFINITIONS",
    "Definition",
    "LiveReport",
    "Shown",
    "indicators_compute",
    "indicators_measure",
    "live_report",
    "measure_loop",
]
