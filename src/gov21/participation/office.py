"""The back office of e-participation at /office/participation/: the processes, the comments people
reported, hiding a comment or statement and blocking its author with a reason (each written to the
public moderation log), and the agency's answers."""

from __future__ import annotations

from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.participation import selectors, services
from gov21.participation.forms import (
    AnswerForm,
    CommentForm,
    DecisionForm,
    ModerateForm,
    PhaseForm,
    ProcessForm,
    ReasonForm,
)
from gov21.participation.models import Process


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    return render(
        request,
        "participation/refused.html",
        {"detail": _("Your role does not allow this in e-participation.")},
        status=403,
    )


office_page = Office(
    home="participation-office:home", home_label=gettext_lazy("Go to e-participation"), refuse=_refused
).page


def _home(request: HttpRequest, principal: Principal, error: DomainError | None = None) -> HttpResponse:
    reports = selectors.abuse_reports_open()
    context = {
        "processes": selectors.processes_list(),
        "reports": reports,
        "awaiting": selectors.proposals_awaiting_answer() if principal.can("participation.answer") else [],
        "amendments": selectors.amendments_undecided() if principal.can("participation.answer") else [],
        "phases": Process.Phase.choices,
        "can_answer": principal.can("participation.answer"),
        "error": error,
    }
    return render(request, "participation/office_home.html", context, status=error.status if error else 200)


@never_cache
@require_GET
@office_page("participation.moderate")
def home(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _home(request, principal)


@require_POST
@office_page("participation.moderate")
def hide(request: HttpRequest, principal: Principal, comment_id: int) -> HttpResponse:
    try:
        data = ModerateForm(request.POST).cleaned()
        if data["block"]:
            services.author_block(comment_id=comment_id, reason=data["reason"], actor=principal)
        else:
            services.comment_hide(comment_id=comment_id, reason=data["reason"], actor=principal)
    except DomainError as error:
        return _home(request, principal, error)
    return redirect("participation-office:home")


@require_POST
@office_page("participation.moderate")
def statement_hide(request: HttpRequest, principal: Principal, statement_id: int) -> HttpResponse:
    try:
        data = ReasonForm(request.POST).cleaned()
        services.statement_hide(statement_id=statement_id, reason=data["reason"], actor=principal)
    except DomainError as error:
        return _home(request, principal, error)
    return redirect("participation-office:home")


@require_POST
@office_page("participation.answer")
def answer(request: HttpRequest, principal: Principal, slug: str) -> HttpResponse:
    try:
        if "answer" in request.POST:
            services.petition_answer(slug=slug, answer=AnswerForm(request.POST).cleaned()["answer"], actor=principal)
        else:
            data = CommentForm(request.POST).cleaned()
            services.comment_answer(slug=slug, body=data["body"], parent=data["parent"], actor=principal)
    except DomainError as error:
        return _home(request, principal, error)
    return redirect("participation-office:home")


@require_POST
@office_page("participation.answer")
def proposal_answer(request: HttpRequest, principal: Principal, proposal_id: int) -> HttpResponse:
    try:
        text = AnswerForm(request.POST).cleaned()["answer"]
        services.proposal_answer(proposal_id=proposal_id, answer=text, actor=principal)
    except DomainError as error:
        return _home(request, principal, error)
    return redirect("participation-office:home")


@require_POST
@office_page("participation.answer")
def amendment_decide(request: HttpRequest, principal: Principal, amendment_id: int) -> HttpResponse:
    try:
        data = DecisionForm(request.POST).cleaned()
        services.amendment_decide(
            amendment_id=amendment_id, accept=data["decision"] == "accept", reason=data["reason"], actor=principal
        )
    except DomainError as error:
        return _home(request, principal, error)
    return redirect("participation-office:home")


def _projects(text: str) -> list[services.ProjectFacts]:
    """Projects typed one per line as "code; title; cost"."""
    found = []
    for number, line in enumerate((line for line in text.splitlines() if line.strip()), start=1):
        parts = [part.strip() for part in line.split(";")]
        try:
            code, title, cost = parts
            cents = _cents(cost)
        except (ValueError, DomainError):
            raise DomainError(
                "project_line",
                _("Write project %(number)s as: code; title; cost.") % {"number": number},
                field="projects",
            ) from None
        if not code or not title or cents <= 0:
            raise DomainError(
                "project_line",
                _("Write project %(number)s as: code; title; cost.") % {"number": number},
                field="projects",
            )
        found.append(services.ProjectFacts(code=code, title=title, cost_cents=cents))
    return found


def _sections(text: str) -> list[services.SectionFacts]:
    """Sections typed as a line "## heading" followed by the section's text."""
    found: list[tuple[str, list[str]]] = []
    for line in text.splitlines():
        if line.startswith("##"):
            found.append((line[2:].strip(), []))
        elif found:
            found[-1][1].append(line)
        elif line.strip():
            raise DomainError("sections", _("Start each section with a line ## and its heading."), field="sections")
    return [services.SectionFacts(heading=h, text="\n".join(lines).strip()) for h, lines in found]


def _cents(text: str) -> int:
    """An amount typed with or without thousands separators ("250,000.00"), in cents; 0 if empty."""
    if not text:
        return 0
    try:
        amount = Decimal(text.replace(",", ""))
    except ArithmeticError:
        amount = Decimal("NaN")
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > 10**12:
        raise DomainError("amount", _("Give an amount."), field="budget")
    return int(amount * 100)


def _moment(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def _new_page(
    request: HttpRequest, form: ProcessForm, error: DomainError | None = None, status: int = 200
) -> HttpResponse:
    context: dict[str, Any] = {"form": form, "typed": form.typed_all(), "error": error}
    return render(request, "participation/office_process_new.html", context, status=error.status if error else status)


@never_cache
@office_page("participation.answer")
def process_new(request: HttpRequest, principal: Principal) -> HttpResponse:
    """Create a process: its kind, address, dates, parish, threshold, budget and projects, sections."""
    if request.method != "POST":
        return _new_page(request, ProcessForm())
    form = ProcessForm(request.POST)
    try:
        data = form.cleaned()
        made = services.process_create(
            slug=data["slug"],
            kind=data["kind"],
            title=data["title"],
            summary=data["summary"],
            agency=data["agency"],
            parish=data["parish"],
            opens_at=_moment(data["opens_on"]),
            closes_at=_moment(data["closes_on"]),
            threshold=data["threshold"] or 0,
            support_days=data["support_days"] or services.SUPPORT_DAYS,
            budget_cents=_cents(data["budget"]),
            projects=_projects(data["projects"]),
            sections=_sections(data["sections"]),
            actor=principal,
        )
    except DomainError as error:
        return _new_page(request, form, error)
    return redirect("participation:process", slug=made.slug)


@require_POST
@office_page("participation.answer")
def phase(request: HttpRequest, principal: Principal, slug: str) -> HttpResponse:
    try:
        services.process_phase_set(slug=slug, phase=PhaseForm(request.POST).cleaned()["phase"], actor=principal)
    except DomainError as error:
        return _home(request, principal, error)
    return redirect("participation-office:home")
