"""The readiness back office at /office/readiness/: the skills survey that any member of staff answers
once and anonymously (ministry, role and a level per competency, never who gave it), and the skills
gaps per ministry and role for reviewers, where no group of fewer than five people is ever shown."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.core.forms import Form
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.exchange.contracts import agencies_list
from gov21.readiness import assessments
from gov21.readiness.forms import (
    AnswerForm,
    AssessmentOpenForm,
    RoundForm,
    SignOffForm,
    SkillsForm,
    SkillsRoundCloseForm,
    SkillsRoundOpenForm,
)
from gov21.readiness.models import Assessment
from gov21.readiness.reference import framework, questionnaire
from gov21.readiness.views import pillar_label

# The framework's words in the four languages (the framework file holds them in English).
COMPETENCIES = {
    "information": gettext_lazy("Information and data literacy"),
    "communication": gettext_lazy("Communication and collaboration"),
    "content": gettext_lazy("Digital content creation"),
    "safety": gettext_lazy("Safety"),
    "problem-solving": gettext_lazy("Problem solving"),
    "service-design": gettext_lazy("Service design"),
    "data": gettext_lazy("Data management and analysis"),
    "security": gettext_lazy("Information security"),
}
ROLES = {
    "general": gettext_lazy("General staff"),
    "manager": gettext_lazy("Managers"),
    "service-designer": gettext_lazy("Service designers"),
    "data-analyst": gettext_lazy("Data analysts"),
    "ict": gettext_lazy("ICT and security staff"),
}
LEVELS = {
    0: gettext_lazy("None"),
    1: gettext_lazy("Foundation"),
    2: gettext_lazy("Intermediate"),
    3: gettext_lazy("Advanced"),
    4: gettext_lazy("Highly specialised"),
}


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow this in the readiness assessment.")
    return render(request, "readiness/office/refused.html", {"detail": detail}, status=403)


def _page(
    request: HttpRequest, principal: Principal, template: str, context: dict[str, Any], status: int = 200
) -> HttpResponse:
    """Render an office page with the wing's navigation, showing only the pages the caller may open."""
    nav = {"assess": principal.can("readiness.assess"), "review": principal.can("readiness.review")}
    return render(request, template, context | {"nav": nav}, status=status)


office_page = Office(
    home="readiness-office:skills", home_label=gettext_lazy("Go to the skills survey"), refuse=_refused
).page


def _skills_form(data: Any = None) -> SkillsForm:
    known = framework()
    return SkillsForm(
        data,
        ministries=agencies_list(),
        roles=[(code, str(ROLES.get(code, role.name))) for code, role in known.roles.items()],
        competencies=[(code, str(COMPETENCIES.get(code, name))) for code, name in known.competencies.items()],
        levels=[(value, f"{value} – {LEVELS.get(value, name)}") for value, name in known.levels.items()],
    )


@never_cache
@require_http_methods(["GET", "POST"])
@office_page()
def skills(request: HttpRequest, principal: Principal) -> HttpResponse:
    survey = assessments.skills_round_current()
    if survey is None:
        return _page(request, principal, "readiness/office/skills.html", {"survey": None})
    context: dict[str, Any] = {"survey": survey}
    if request.method == "GET" and "answered" in request.GET:
        return _page(request, principal, "readiness/office/skills.html", context | {"done": True})
    answered = assessments.skills_answered(round_code=survey.code, respondent=principal.name)
    form = _skills_form(request.POST if request.method == "POST" else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                assessments.skills_answer(
                    round_code=survey.code,
                    respondent=principal.name,
                    ministry=form.cleaned_data["ministry"],
                    role=form.cleaned_data["role"],
                    levels=form.levels(),
                )
            except DomainError as error:
                if error.code == "round_closed":
                    return _page(
                        request, principal, "readiness/office/skills.html", {"survey": None}, status=error.status
                    )
                if error.code == "already_answered":
                    return _page(
                        request,
                        principal,
                        "readiness/office/skills.html",
                        context | {"answered": True},
                        status=error.status,
                    )
                name = error.field if error.field in form.fields else None
                form.add_error(name, error.detail)
            else:
                return HttpResponseRedirect(f"{reverse('readiness-office:skills')}?{urlencode({'answered': 1})}")
        status = 422
    elif answered:
        return _page(request, principal, "readiness/office/skills.html", context | {"answered": True})
    context |= {"form": form, "errors": form.first_errors() if form.is_bound else {}}
    return _page(request, principal, "readiness/office/skills.html", context, status=status)


@never_cache
@require_http_methods(["GET"])
@office_page("readiness.review")
def gaps(request: HttpRequest, principal: Principal) -> HttpResponse:
    rounds = assessments.skills_rounds()
    context: dict[str, Any] = {"small_cell": assessments.SMALL_CELL}
    if not rounds:
        return _page(request, principal, "readiness/office/gaps.html", context)
    chosen = RoundForm(
        request.GET if "round" in request.GET else None,
        rounds=[(r.code, r.title or r.code) for r in rounds],
        initial={"round": rounds[0].code},
    )
    errors = chosen.first_errors() if chosen.is_bound and not chosen.is_valid() else {}
    context |= {"chosen": chosen, "errors": errors}
    if errors:
        return _page(request, principal, "readiness/office/gaps.html", context, status=400)
    code = str(chosen.cleaned_data["round"]) if chosen.is_bound else rounds[0].code
    survey = next(r for r in rounds if r.code == code)
    groups = []
    for group in assessments.skills_gaps(round_code=code):
        rows = [
            {
                "competency": COMPETENCIES.get(g.competency, g.competency),
                "needed": g.needed,
                "mean": g.mean,
                "gap": g.gap,
                "below": round(100 * g.below),
            }
            for g in group.gaps
        ]
        groups.append({"group": group, "role": ROLES.get(group.role, group.role) if group.role else "", "rows": rows})
    context |= {"survey": survey, "groups": groups}
    return _page(request, principal, "readiness/office/gaps.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("readiness.review")
def rounds(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The survey's rounds: open a new one, close an open one."""
    here = reverse("readiness-office:rounds")
    posted = request.method == "POST"
    closing = SkillsRoundCloseForm(request.POST) if posted and "close" in request.POST else None
    form = SkillsRoundOpenForm(request.POST if posted and closing is None else None)
    status = 200
    if closing is not None:
        if closing.is_valid():
            assessments.skills_round_close(code=closing.cleaned_data["close"], actor=principal)
            return HttpResponseRedirect(here)
        status = 400
    elif form.is_bound:
        if form.is_valid():
            try:
                assessments.skills_round_open(
                    code=form.cleaned_data["code"], title=form.cleaned_data["title"], actor=principal
                )
            except DomainError as error:
                _form_refusal(form, error)
            else:
                return HttpResponseRedirect(here)
        status = 422
    context = {
        "rounds": assessments.skills_rounds_counted(),
        "form": form,
        "errors": form.first_errors() if form.is_bound else {},
    }
    return _page(request, principal, "readiness/office/rounds.html", context, status=status)


# --- agency self-assessment ----------------------------------------------------------------------------

MATURITY = {
    0: gettext_lazy("Not started"),
    1: gettext_lazy("Initial"),
    2: gettext_lazy("Developing"),
    3: gettext_lazy("Defined"),
    4: gettext_lazy("Optimised"),
}


def _form_refusal(form: Form, error: DomainError) -> None:
    """Show a service's refusal on the form, at the field it names (its first part) or at the top."""
    if error.status in (401, 403):
        raise error
    name = (error.field or "").split(".")[0]
    form.add_error(name if name in form.fields else None, error.detail)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("readiness.assess")
def assessment_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = AssessmentOpenForm.bind(request, agencies=agencies_list())
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                opened = assessments.assessment_open(
                    agency=form.cleaned_data["agency"], round=form.cleaned_data["round"] or 0, actor=principal
                )
            except DomainError as error:
                _form_refusal(form, error)
            else:
                return HttpResponseRedirect(reverse("readiness-office:assessment", args=[opened.pk]))
        status = 422
    rows = [(a, a.answers.count()) for a in assessments.assessments_list()]
    context = {
        "form": form,
        "errors": form.first_errors() if form.is_bound else {},
        "rows": rows,
        "pillars": len(questionnaire().questions),
    }
    return _page(request, principal, "readiness/office/assessments.html", context, status=status)


def _answer_form(assessment: Assessment, data: Any = None, files: Any = None) -> AnswerForm:
    answered = set(assessment.answers.values_list("pillar", flat=True))
    known = questionnaire()
    return AnswerForm(
        data,
        files,
        pillars=[(p, pillar_label(p)) for p in known.questions if p not in answered],
        levels=[(value, f"{value} – {MATURITY.get(value, name)}") for value, name in known.levels.items()],
    )


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("readiness.assess")
def assessment(request: HttpRequest, principal: Principal, pk: int) -> HttpResponse:
    found = assessments.assessment_get(pk)
    posted = request.method == "POST"
    here = reverse("readiness-office:assessment", args=[pk])
    if posted and SignOffForm(request.POST).is_valid():
        assessments.assessment_sign_off(assessment_id=pk, actor=principal)
        return HttpResponseRedirect(here)
    form = _answer_form(found, request.POST if posted else None, request.FILES if posted else None)
    status = 200
    if form.is_bound:
        if form.is_valid():
            upload = form.cleaned_data.get("evidence_file")
            if upload is not None and upload.size > assessments.EVIDENCE_MAX_BYTES:
                form.add_error("evidence_file", _("The evidence file is larger than 10 MB."))
            else:
                evidence = assessments.Evidence(
                    url=form.cleaned_data["evidence_url"],
                    name=upload.name if upload is not None else "",
                    content=upload.read() if upload is not None else b"",
                )
                try:
                    assessments.answer_record(
                        assessment_id=pk,
                        pillar=form.cleaned_data["pillar"],
                        level=form.cleaned_data["level"],
                        evidence=evidence,
                        actor=principal,
                    )
                except DomainError as error:
                    _form_refusal(form, error)
                else:
                    return HttpResponseRedirect(here)
        status = 422
    answers = {a.pillar: a for a in found.answers.all()}
    known = questionnaire()
    language = get_language() or "en"
    pillars = [
        {
            "label": pillar_label(p),
            "question": known.question(p, language),
            "answer": answers.get(p),
            "level": MATURITY.get(answers[p].level, "") if p in answers else "",
        }
        for p in known.questions
    ]
    context = {
        "assessment": found,
        "pillars": pillars,
        "form": form,
        "errors": form.first_errors() if form.is_bound else {},
        "can_answer": found.signed_off_at is None and len(answers) < len(pillars),
        "can_sign": found.signed_off_at is None and principal.can("readiness.review") and len(answers) == len(pillars),
    }
    return _page(request, principal, "readiness/office/assessment.html", context, status=status)
