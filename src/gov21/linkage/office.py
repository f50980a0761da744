"""The record linkage's back office at /office/linkage/: the sources and their quality, the clerical
review queue (a record beside the registry person it was put with, each field's agreement and its
weight drawn as a waterfall on the server, decisions with keyboard shortcuts), and the registry's
likely duplicates for the registrar. Every read of a person goes through the selectors, logged."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.linkage import importing, selectors, services
from gov21.linkage.forms import DecisionForm, ReverseForm, UploadForm

FIELD_LABELS = {
    "given": gettext_lazy("Given names"),
    "surname": gettext_lazy("Surname"),
    "dob": gettext_lazy("Date of birth"),
    "sex": gettext_lazy("Sex"),
    "address": gettext_lazy("Address"),
    "place": gettext_lazy("Settlement or parish"),
    "mother": gettext_lazy("Mother's name"),
    "father": gettext_lazy("Father's name"),
    "phone": gettext_lazy("Phone"),
}


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow this in the record linkage.")
    return render(request, "linkage/refused.html", {"detail": detail}, status=403)


office_page = Office(home="linkage:home", home_label=gettext_lazy("Go to the record linkage"), refuse=_refused).page


@never_cache
@require_http_methods(["GET"])
@office_page("linkage.read")
def home(request: HttpRequest, principal: Principal) -> HttpResponse:
    context = {"sources": selectors.sources_list(actor=principal), "can_import": principal.can("linkage.review")}
    return render(request, "linkage/home.html", context)


def _histogram_svg(histogram: list[tuple[float, int]]) -> dict[str, object]:
    """The bars of the match weights' distribution, scaled for a server-drawn SVG."""
    top = max((n for _e, n in histogram), default=0) or 1
    width = 24
    bars = [
        {"x": i * width, "height": round(120 * n / top), "y": 120 - round(120 * n / top), "start": edge, "count": n}
        for i, (edge, n) in enumerate(histogram)
    ]
    return {"bars": bars, "width": max(width * len(bars), width), "bar": width - 2}


@never_cache
@require_http_methods(["GET"])
@office_page("linkage.read")
def source(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    quality = selectors.source_quality(code=code, actor=principal)
    context = {
        "q": quality,
        "histogram": _histogram_svg(quality.histogram),
        "row_errors": selectors.row_errors(code=code, actor=principal),
        "can_review": principal.can("linkage.review"),
    }
    return render(request, "linkage/source.html", context)


@never_cache
@require_http_methods(["GET"])
@office_page("linkage.read")
def review(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    queue = selectors.review_queue(code=code, actor=principal)
    return render(request, "linkage/review.html", {"code": code, "queue": queue})


def _waterfall(view: selectors.PairView) -> dict[str, object]:
    """The waterfall of a pair: the prior, then each field's weight from the running total."""
    points = [0.0, view.prior] + [b.end for b in view.bars]
    low, high = min(points), max(points)
    span = (high - low) or 1.0
    scale = 400 / span

    def x(v: float) -> float:
        return round((v - low) * scale, 1)

    rows = [
        {
            "label": _("Prior"),
            "level": "",
            "weight": view.prior,
            "x": x(min(0.0, view.prior)),
            "w": max(abs(x(view.prior) - x(0.0)), 1),
            "positive": view.prior >= 0,
        }
    ]
    for bar in view.bars:
        rows.append(
            {
                "label": FIELD_LABELS.get(bar.field, bar.field),
                "level": _("missing") if bar.level < 0 else bar.level,
                "weight": bar.weight,
                "x": x(min(bar.start, bar.end)),
                "w": max(abs(x(bar.end) - x(bar.start)), 1),
                "positive": bar.weight >= 0,
            }
        )
    for i, row in enumerate(rows):
        row["y"] = i * 22
    return {"rows": rows, "height": len(rows) * 22, "zero": x(0.0)}


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("linkage.read")
def record(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    decide = DecisionForm(request.POST if request.method == "POST" and "decision" not in request.POST else None)
    undo = ReverseForm(request.POST if request.method == "POST" and "decision" in request.POST else None)
    status = 200
    problem = ""
    if decide.is_bound or undo.is_bound:
        principal.require("linkage.review")
    if decide.is_bound and decide.is_valid():
        verdict = decide.cleaned_data["verdict"]
        current = selectors.record_source(pk=pk)
        try:
            if verdict != "skip":
                services.decision_make(record=pk, uin=decide.cleaned_data["uin"], verdict=verdict, officer=principal)
        except DomainError as error:
            if error.status in (401, 403):
                raise
            problem, status = error.detail, error.status
        else:
            return HttpResponseRedirect(_next_in_queue(current, pk))
    elif undo.is_bound and undo.is_valid() and undo.cleaned_data["decision"] is not None:
        try:
            services.decision_reverse(decision=undo.cleaned_data["decision"], officer=principal)
        except DomainError as error:
            if error.status in (401, 403):
                raise
            problem, status = error.detail, error.status
        else:
            return HttpResponseRedirect(reverse("linkage:record", args=[pk]))
    elif decide.is_bound or undo.is_bound:
        status = 422
    view = selectors.pair_view(pk=pk, actor=principal)
    errors = decide.first_errors() if decide.is_bound else {}
    if problem:
        errors = {"__all__": problem}
    elif undo.is_bound and status == 422:
        errors = {"__all__": _("Choose the decision to reverse.")}
    context = {
        "v": view,
        "raw": sorted(view.record.raw.items()),
        "waterfall": _waterfall(view),
        "errors": errors,
        "can_decide": principal.can("linkage.review") and view.record.status == "review" and bool(view.uin),
        "can_reverse": principal.can("linkage.review"),
        "reversed": {d.reverses_id for d in view.decisions if d.reverses_id},
    }
    return render(request, "linkage/record.html", context, status=status)


def _next_in_queue(code: str | None, after: int) -> str:
    if code:
        following = selectors.review_next(code=code, after=after)
        if following is not None:
            return reverse("linkage:record", args=[following])
        return reverse("linkage:review", args=[code])
    return reverse("linkage:home")


@never_cache
@require_http_methods(["GET"])
@office_page("linkage.read")
def duplicates(request: HttpRequest, principal: Principal) -> HttpResponse:
    return render(request, "linkage/duplicates.html", {"pairs": selectors.duplicates_list(actor=principal)})


def _saved(upload: UploadedFile, folder: Path, default: str) -> Path:
    """The upload written into ``folder`` under its own name (letters, digits, dots and hyphens kept:
    the import reads the format from the name's ending)."""
    name = re.sub(r"[^A-Za-z0-9._-]+", "-", Path(upload.name or default).name).lstrip(".-")[:200] or default
    path = folder / name
    with path.open("wb") as out:
        for part in upload.chunks():
            out.write(part)
    return path


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("linkage.review")
def upload(request: HttpRequest, principal: Principal) -> HttpResponse:
    """An agency's file imported from the browser, as ``gov21 linkage import`` does: the same checks,
    the same messages, and each row that could not be read listed with its line."""
    form = UploadForm(request.POST if request.method == "POST" else None, request.FILES or None)
    errors: dict[str, str] = {}
    report = None
    status = 200
    if form.is_bound and not form.is_valid():
        errors, status = form.first_errors(), 422
    elif form.is_bound:
        data = form.cleaned_data
        try:
            importing.size_check(data["file"].size or 0)
            with tempfile.TemporaryDirectory(prefix="gov21-linkage-") as folder:
                path = _saved(data["file"], Path(folder), "upload.csv")
                mapping = _saved(data["mapping"], Path(folder), "mapping.yml") if data["mapping"] else None
                if mapping is not None and mapping.name == path.name:
                    mapping = mapping.rename(mapping.with_name("mapping-" + mapping.name))
                report = services.records_import(
                    source=data["source"], agency=data["agency"], path=path, mapping=mapping, encoding=data["encoding"]
                )
        except DomainError as error:
            if error.status in (401, 403):
                raise
            field = error.field if error.field in form.fields else "__all__"
            errors, status = {field: error.detail}, error.status if 400 <= error.status < 500 else 422
    return render(request, "linkage/upload.html", {"form": form, "errors": errors, "report": report}, status=status)
