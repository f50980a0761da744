"""``EXCHANGE/monitoring/traffic``: the exchange's traffic as counts, for the statistics office.
Messages the node's providers answered, from its message log, by day, client member, service and
outcome, with their total time: who asked whom how often, never what about nor for whom."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Final

import orjson
from django.db import transaction
from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone
from pydantic import JsonValue

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.exchange.models import LogEntry
from gov21.exchange.router import LOCAL_HANDLERS, ServiceRequest, ServiceResponse, problem_response
from gov21.exchange.services import right_grant, service_add, subsystem_add

MAX_DAYS: Final = 366


def _member(client: str) -> str:
    """The member code of a client identifier (``XA/GOV/STATS/statistics`` → ``STATS``)."""
    parts = client.split("/")
    return parts[2] if len(parts) > 2 else client


def _service_name(service: str) -> str:
    """``XA/GOV/CRO/civil-registry/numbers`` → ``CRO/civil-registry/numbers``."""
    parts = service.split("/")
    return "/".join(parts[2:]) if len(parts) > 3 else service


def traffic_counts(*, start: date, end: date) -> list[dict[str, object]]:
    """Messages answered from ``start`` to ``end`` (both included), grouped by day, client member,
    service and outcome (ok: a status below 400)."""
    tz = timezone.get_current_timezone()
    rows = (
        LogEntry.objects.filter(
            role="provider",
            at__gte=datetime.combine(start, time.min, tzinfo=tz),
            at__lt=datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz),
        )
        .annotate(day=TruncDate("at", tzinfo=tz))
        .values("day", "client", "service", "status")
        .annotate(messages=Count("id"), ms=Sum("duration_ms"))
        .order_by()
    )
    out: dict[tuple[str, str, str, bool], list[float]] = {}
    for r in rows:
        key = (r["day"].isoformat(), _member(r["client"]), _service_name(r["service"]), int(r["status"]) < 400)
        acc = out.setdefault(key, [0, 0.0])
        acc[0] += int(r["messages"])
        acc[1] += float(r["ms"] or 0.0)
    return [
        {"day": d, "client": c, "service": s, "ok": ok, "messages": int(n), "duration_ms": round(ms, 1)}
        for (d, c, s, ok), (n, ms) in sorted(out.items())
    ]


def _day(req: ServiceRequest, name: str, default: date) -> date:
    raw = (req.query.get(name) or [""])[0]
    if not raw:
        return default
    try:
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise DomainError("invalid_input", f"{name} must be a date such as 2026-01-31", field=name) from exc


def traffic_service(req: ServiceRequest) -> ServiceResponse:
    """``local:exchange.traffic``: GET /?from=&to= (dates; the last 30 days by default)."""
    try:
        if req.method != "GET" or req.path.strip("/"):
            raise DomainError("not_found", "No such endpoint: GET /?from=&to=", status=404)
        today = timezone.localdate()
        end = _day(req, "to", today)
        start = _day(req, "from", end - timedelta(days=29))
        if start > end:
            raise DomainError("invalid_input", "from must not be after to", field="from")
        if (end - start).days >= MAX_DAYS:
            raise DomainError("invalid_input", f"Ask for at most {MAX_DAYS} days at a time", field="from")
        cells = traffic_counts(start=start, end=end)
        body = {"from": start.isoformat(), "to": end.isoformat(), "cells": cells}
        return ServiceResponse(status=200, body=orjson.dumps(body))
    except DomainError as error:
        return problem_response(error)


LOCAL_HANDLERS["exchange.traffic"] = traffic_service


def traffic_openapi() -> dict[str, JsonValue]:
    day: JsonValue = {"type": "string", "format": "date"}
    return {
        "openapi": "3.0.3",
        "info": {"title": "Exchange: traffic counts", "version": "1.0.0"},
        "paths": {
            "/": {
                "get": {
                    "summary": "Messages answered by day, client member, service and outcome: counts only",
                    "parameters": [
                        {"name": "from", "in": "query", "schema": day},
                        {"name": "to", "in": "query", "schema": day},
                    ],
                    "responses": {"200": {"description": "Counts"}, "400": {"description": "Bad dates"}},
                }
            }
        },
    }


@transaction.atomic
def traffic_bootstrap() -> None:
    """The exchange authority's monitoring subsystem, its traffic service and the statistics office's
    right to read it. Safe to run again."""
    instance = config.INSTANCE.read()
    subsystem_add(ident=f"{instance}/GOV/EXCHANGE/monitoring", name="Monitoring")
    service = f"{instance}/GOV/EXCHANGE/monitoring/traffic"
    service_add(ident=service, base_url="local:exchange.traffic", openapi=traffic_openapi(), title="Traffic counts")
    right_grant(service=service, subject=f"{instance}/GOV/STATS/statistics", method="GET", path="/", by="gov21 setup")


__all__ = ["traffic_bootstrap", "traffic_counts", "traffic_service"]
