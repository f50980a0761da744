"""The back office of e-participation at /office/participation/: the processes, the comments people
reported, hiding a comment or statement and blocking its author with a reason (each written to the
public moderation log), and the agency's answers."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.participation import selectors, services
from gov21.participation.forms import AnswerForm, CommentForm, DecisionForm, ModerateForm, ReasonForm


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
