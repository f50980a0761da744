"""The public and citizen pages of e-participation at /participation/: the processes, a process with
what a person can do in it, signing, the budget ballot and its receipt, comments, statements of the
opinion map, the published ballots and the public moderation log. Forms post and redirect; nothing
needs JavaScript. Refusals are said on the page with the status of the refusal."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from gov21.core.errors import DomainError
from gov21.core.geography import parish_name
from gov21.core.http import problem
from gov21.identity.contracts import PORTAL_SESSION_KEY, portal_person_uin
from gov21.participation import selectors, services
from gov21.participation.forms import (
    AmendmentForm,
    BallotForm,
    CommentForm,
    ProposalForm,
    ReasonForm,
    ReceiptForm,
    StatementForm,
    StatementVoteForm,
)
from gov21.participation.models import Process, Proposal


def _person(request: HttpRequest) -> tuple[str, str] | None:
    """The signed-in person's UIN and sign-in level, or None."""
    uin = portal_person_uin(request)
    if not uin:
        return None
    return uin, str(request.session[PORTAL_SESSION_KEY].get("acr", ""))


def _to_sign_in(request: HttpRequest, slug: str) -> HttpResponse:
    return redirect(f"/sign-in?{urlencode({'next': f'/participation/{slug}/', 'level': 'substantial'})}")


@require_GET
def processes(request: HttpRequest) -> HttpResponse:
    return render(request, "participation/processes.html", {"processes": selectors.processes_list()})


def _money(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def _page(request: HttpRequest, process: Process, *, error: DomainError | None = None, **extra: Any) -> HttpResponse:
    closed = selectors.process_closed(process)
    person = _person(request)
    refusal = None
    if person is not None and not closed and error is None:
        # Said before the person fills in a form; the answer kept makes their act quick.
        try:
            services.participant_confirm(slug=process.slug, uin=person[0], level=person[1])
        except DomainError as refused:
            refusal = refused
    context: dict[str, Any] = {
        "process": process,
        "parish": parish_name(process.parish) if process.parish else "",
        "closed": closed,
        "signed_in": person is not None,
        "refusal": refusal,
        "error": error,
        **extra,
    }
    if process.kind == Process.Kind.PETITION:
        count = selectors.signatures_count(process)
        context["signatures"] = count
        context["threshold_reached"] = bool(process.threshold) and count >= process.threshold
    elif process.kind == Process.Kind.BUDGET:
        context["budget"] = _money(process.budget_cents)
        context["projects"] = [
            {"code": p.code, "title": p.title, "cost": _money(p.cost_cents)} for p in process.projects.all()
        ]
        context["ballots"] = selectors.ballots_count(process)
        if closed:
            context["tally"] = selectors.tally(process)
    elif process.kind == Process.Kind.SURVEY:
        context["questions"] = selectors.survey_questions(process)
        context["responses"] = selectors.survey_responses_count(process)
        if closed:
            context["results"] = selectors.survey_results(process)
    elif process.kind == Process.Kind.PROPOSALS:
        services.proposals_expire(process=process)
        context["proposals"] = selectors.proposals_list(process)
        context["proposals_phase"] = process.phase == Process.Phase.PROPOSALS
    else:
        context["sections"] = selectors.sections_shown(process)
        context["comments"] = selectors.comments_shown(process)
        context["statements"] = selectors.statements_shown(process)
        context["map"] = selectors.opinion_map_view(process)
    return render(request, "participation/process.html", context, status=error.status if error else 200)


@never_cache
@require_GET
def process_page(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        process = selectors.process_get(slug)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    receipt = ReceiptForm(request.GET) if "receipt" in request.GET else None
    found = None
    if receipt is not None and receipt.is_valid():
        found = selectors.receipt_find(process, receipt.cleaned_data["receipt"])
        found = found if found is not None else []
    return _page(request, process, receipt_checked=receipt is not None, receipt_projects=found)


def _act(request: HttpRequest, slug: str, act: Any) -> HttpResponse:
    """Run one act of the signed-in person; a refusal is shown on the process page."""
    person = _person(request)
    if person is None:
        return _to_sign_in(request, slug)
    try:
        process = selectors.process_get(slug)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    try:
        done = act(process, *person)
    except DomainError as error:
        return _page(request, process, error=error)
    return done if isinstance(done, HttpResponse) else redirect("participation:process", slug=slug)


@require_POST
def sign(request: HttpRequest, slug: str) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> HttpResponse:
        services.petition_sign(slug=process.slug, uin=uin, level=level)
        return redirect(f"/participation/{process.slug}/?signed=1")

    return _act(request, slug, act)


@require_POST
def ballot(request: HttpRequest, slug: str) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> HttpResponse:
        form = BallotForm(request.POST, codes=[p.code for p in process.projects.all()])
        data = form.cleaned()
        receipt = services.ballot_cast(slug=process.slug, uin=uin, level=level, projects=data["projects"])
        context = {"process": process, "receipt": receipt, "projects": sorted(data["projects"])}
        return render(request, "participation/receipt.html", context)

    return _act(request, slug, act)


@require_POST
def comment(request: HttpRequest, slug: str) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> None:
        data = CommentForm(request.POST).cleaned()
        services.comment_post(
            slug=process.slug, uin=uin, level=level, body=data["body"], section=data["section"], parent=data["parent"]
        )

    return _act(request, slug, act)


@require_POST
def statement(request: HttpRequest, slug: str) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> None:
        data = StatementForm(request.POST).cleaned()
        services.statement_add(slug=process.slug, uin=uin, level=level, text=data["text"])

    return _act(request, slug, act)


@require_POST
def statement_vote(request: HttpRequest, slug: str, statement_id: int) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> None:
        data = StatementVoteForm(request.POST).cleaned()
        services.statement_vote(slug=process.slug, uin=uin, level=level, statement_id=statement_id, value=data["view"])

    return _act(request, slug, act)


@require_POST
def report(request: HttpRequest, slug: str, comment_id: int) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> HttpResponse:
        data = ReasonForm(request.POST).cleaned()
        services.abuse_report(comment_id=comment_id, uin=uin, level=level, reason=data["reason"])
        return redirect(f"/participation/{process.slug}/?reported=1")

    return _act(request, slug, act)


@require_POST
def survey(request: HttpRequest, slug: str) -> HttpResponse:
    """The answers to a survey, one field ``q<id>`` per question (several for a multiple choice)."""

    def act(process: Process, uin: str, level: str) -> HttpResponse:
        answers: dict[int, list[str]] = {}
        for key in request.POST:
            if key.startswith("q") and key[1:].isdigit():
                answers[int(key[1:])] = request.POST.getlist(key)
            elif key != "csrfmiddlewaretoken":
                raise DomainError("unknown_question", _("Answer only the questions of this survey."))
        services.survey_answer(slug=process.slug, uin=uin, level=level, answers=answers)
        return redirect(f"/participation/{process.slug}/?answered=1")

    return _act(request, slug, act)


@require_GET
def ballots_json(request: HttpRequest, slug: str) -> HttpResponse:
    """The anonymised ballots, published once the vote has closed (RFC 9457 problems otherwise)."""
    try:
        process = selectors.process_get(slug)
        if process.kind != Process.Kind.BUDGET:
            raise DomainError("not_budget", _("This process takes no ballots."), status=404)
        if not selectors.process_closed(process):
            raise DomainError("not_closed", _("The ballots are published when the vote closes."), status=409)
    except DomainError as error:
        return problem(
            status=error.status, code=error.code, title=error.title, detail=error.detail, instance=request.path
        )
    return JsonResponse(selectors.ballots_published(process))


@require_GET
def moderation(request: HttpRequest, slug: str) -> HttpResponse:
    try:
        process = selectors.process_get(slug)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    return render(
        request, "participation/moderation.html", {"process": process, "entries": selectors.moderation_log(process)}
    )


# --- citizens' proposals -------------------------------------------------------------------------


def _proposal_page(
    request: HttpRequest, process: Process, proposal: Proposal, *, error: DomainError | None = None
) -> HttpResponse:
    context = {
        "process": process,
        "proposal": proposal,
        "collecting": proposal.state == Proposal.State.OPEN and not selectors.process_closed(process),
        "debate_open": not selectors.process_closed(process),
        "signed_in": _person(request) is not None,
        "debate": selectors.proposal_debate(proposal),
        "error": error,
    }
    return render(request, "participation/proposal.html", context, status=error.status if error else 200)


@never_cache
@require_GET
def proposal_page(request: HttpRequest, slug: str, proposal_id: int) -> HttpResponse:
    try:
        process = selectors.process_get(slug)
        services.proposals_expire(process=process)
        proposal = selectors.proposal_get(process, proposal_id)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    return _proposal_page(request, process, proposal)


@require_POST
def proposal_create(request: HttpRequest, slug: str) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> HttpResponse:
        data = ProposalForm(request.POST).cleaned()
        made = services.proposal_create(slug=process.slug, uin=uin, level=level, title=data["title"], body=data["body"])
        return redirect("participation:proposal", slug=process.slug, proposal_id=made.pk)

    return _act(request, slug, act)


def _proposal_act(request: HttpRequest, slug: str, proposal_id: int, act: Any) -> HttpResponse:
    """Run one act of the signed-in person on a proposal; a refusal is shown on the proposal's page."""
    person = _person(request)
    if person is None:
        return redirect(
            f"/sign-in?{urlencode({'next': f'/participation/{slug}/proposals/{proposal_id}/', 'level': 'substantial'})}"
        )
    try:
        process = selectors.process_get(slug)
        proposal = selectors.proposal_get(process, proposal_id)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    try:
        act(*person)
    except DomainError as error:
        proposal.refresh_from_db()
        return _proposal_page(request, process, proposal, error=error)
    return redirect("participation:proposal", slug=slug, proposal_id=proposal_id)


@require_POST
def proposal_support(request: HttpRequest, slug: str, proposal_id: int) -> HttpResponse:
    def act(uin: str, level: str) -> None:
        services.proposal_support(slug=slug, proposal_id=proposal_id, uin=uin, level=level)

    return _proposal_act(request, slug, proposal_id, act)


@require_POST
def proposal_comment(request: HttpRequest, slug: str, proposal_id: int) -> HttpResponse:
    def act(uin: str, level: str) -> None:
        data = CommentForm(request.POST).cleaned()
        services.proposal_comment(
            slug=slug, proposal_id=proposal_id, uin=uin, level=level, body=data["body"], parent=data["parent"]
        )

    return _proposal_act(request, slug, proposal_id, act)


# --- consultations: amendments and the summary report --------------------------------------------


@require_POST
def amendment(request: HttpRequest, slug: str, section_id: int) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> HttpResponse:
        data = AmendmentForm(request.POST).cleaned()
        services.amendment_propose(slug=process.slug, section_id=section_id, uin=uin, level=level, text=data["text"])
        return redirect(f"/participation/{process.slug}/#section-{section_id}")

    return _act(request, slug, act)


@require_POST
def amendment_support(request: HttpRequest, slug: str, amendment_id: int) -> HttpResponse:
    def act(process: Process, uin: str, level: str) -> HttpResponse:
        services.amendment_support(slug=process.slug, amendment_id=amendment_id, uin=uin, level=level)
        return redirect(f"/participation/{process.slug}/#amendment-{amendment_id}")

    return _act(request, slug, act)


@require_GET
def summary(request: HttpRequest, slug: str) -> HttpResponse:
    """The summary report of a consultation, published at its close."""
    try:
        process = selectors.process_get(slug)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    if process.kind != Process.Kind.CONSULTATION:
        return render(request, "core/error.html", {"status": 404}, status=404)
    closed = selectors.process_closed(process)
    context = {
        "process": process,
        "closed": closed,
        "report": selectors.consultation_summary(process) if closed else None,
    }
    return render(request, "participation/summary.html", context)
