"""The nation's live indicators on the public report (/readiness/ and /readiness/indicators): each
with its definition, its computation, its latest value beside the round before, and the pillar
the index counts it in; and each public page's accessibility check. Numbers only: no sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from gov21.readiness.accessibility import RULES
from gov21.readiness.indicators import Shown, live_report


def value_text(unit: str, value: float | None) -> str:
    """A value in words a reader expects: a share as a percentage, a time with its unit."""
    if value is None:
        return "–"
    if unit == "share":
        return _("%(value)s%%") % {"value": number_format(value * 100, 1)}
    if unit == "count":
        return number_format(value, 0)
    units = {"days": _("%(value)s days"), "hours": _("%(value)s hours"), "minutes": _("%(value)s minutes")}
    return units[unit] % {"value": number_format(value, 1)}


@dataclass(frozen=True)
class Row:
    shown: Shown
    value: str
    previous: str
    pillar: str
    better: str


def live_context() -> dict[str, Any]:
    from gov21.readiness.views import pillar_label

    found = live_report()
    better = {"higher": _("higher is better"), "lower": _("lower is better")}
    rows = [
        Row(
            shown=s,
            value=value_text(s.definition.unit, s.value),
            previous=value_text(s.definition.unit, s.previous),
            pillar=pillar_label(s.pillar) if s.pillar else _("not in the index"),
            better=better.get(s.direction or "", ""),
        )
        for s in found.indicators
    ]
    return {"live": found, "live_rows": rows}


@require_http_methods(["GET"])
def indicators_page(request: HttpRequest) -> HttpResponse:
    context = live_context()
    context["rules"] = sorted(RULES.items())
    return render(request, "readiness/indicators.html", context)
