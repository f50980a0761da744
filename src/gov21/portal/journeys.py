"""The citizen's one-stop shop: services by life event and by search, a start page per service,
then one question per page, check your answers, pay, and a confirmation with what happens next.
Every page works without JavaScript: each step is a form that posts and redirects."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any
from urllib.parse import urlencode

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.core.errors import DomainError
from gov21.core.geography import parish_name, parishes
from gov21.identity.contracts import PORTAL_SESSION_KEY, account_summary, session_access_token
from gov21.onestop import contracts as svc
from gov21.portal.forms import AnswerForm, ApplicationActionForm, ConsentForm, PayForm, ReviewRequestForm

MAX_QUERY = 100


def language(request: HttpRequest) -> str:
    code = (get_language() or "en")[:2]
    return code if code in svc.LANGUAGES else "en"


def citizen_uin(request: HttpRequest) -> str | None:
    """The signed-in person's UIN, remembered in the portal session after the first look-up."""
    if not request.user.is_authenticated or PORTAL_SESSION_KEY not in request.session:
        return None
    portal = request.session[PORTAL_SESSION_KEY]
    if not portal.get("uin"):
        summary = account_summary(user_id=int(request.user.pk)) or {}
        if not summary.get("uin"):
            return None
        portal["uin"] = summary["uin"]
        request.session.modified = True
    return str(portal["uin"])


def to_sign_in(request: HttpRequest) -> HttpResponse:
    return redirect(f"/sign-in?{urlencode({'next': request.get_full_path()})}")


def citizen(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """A page of the signed-in person, who is passed to the view by UIN; others are sent to sign in."""

    @functools.wraps(view)
    def inner(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        uin = citizen_uin(request)
        if uin is None:
            return to_sign_in(request)
        return view(request, uin, *args, **kwargs)

    return inner


def _problem_page(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, "portal/problem.html", {"error": error}, status=error.status)


# --- finding a service --------------------------------------------------------------------------


@require_GET
def home(request: HttpRequest) -> HttpResponse:
    lang = language(request)
    return render(
        request,
        "portal/home.html",
        {"life_events": svc.life_events(language=lang), "services": svc.catalogue(language=lang)},
    )


@require_GET
def search(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "")[:MAX_QUERY].replace("\x00", "")
    lang = language(request)
    return render(
        request,
        "portal/services.html",
        {"query": query, "services": svc.catalogue(language=lang, query=query), "heading": _("Search results")},
    )


@require_GET
def life_event(request: HttpRequest, slug: str) -> HttpResponse:
    lang = language(request)
    try:
        heading = svc.life_event_name(slug, lang)
    except DomainError as error:
        raise Http404(error.detail) from error
    return render(
        request,
        "portal/services.html",
        {"services": svc.catalogue(language=lang, life_event=slug), "heading": heading, "life_event": slug},
    )


@require_GET
def start_page(request: HttpRequest, code: str) -> HttpResponse:
    lang = language(request)
    cards = [c for c in svc.catalogue(language=lang) if c.code == code]
    if not cards:
        raise Http404("No such service")
    service = svc.service_summary(code)
    return render(
        request,
        "portal/start.html",
        {
            "card": cards[0],
            "before": svc.text(service.before_you_start, lang),
            "documents": [svc.text(x, lang) for x in service.documents_required],
            "sources": [svc.text(label, lang) for label in service.prefill_labels],
            "sla_days": service.sla_days,
            # Only the ways of paying this deployment offers: online when a payment provider is set up.
            "pay_online": svc.payment_provider() is not None,
        },
    )


@require_POST
def start(request: HttpRequest, code: str) -> HttpResponse:
    uin = citizen_uin(request)
    if uin is None:
        return redirect(f"/sign-in?{urlencode({'next': reverse('portal:start-page', args=[code])})}")
    try:
        application = svc.application_start(service=code, uin=uin, user_id=request.user.pk, language=language(request))
    except DomainError as error:
        return _problem_page(request, error)
    return redirect("portal:consent", reference=application.reference)


# --- an application -------------------------------------------------------------------------------


def _mine(request: HttpRequest, reference: str) -> tuple[str, svc.ApplicationView] | HttpResponse:
    uin = citizen_uin(request)
    if uin is None:
        return to_sign_in(request)
    try:
        return uin, svc.application_view(uin=uin, reference=reference)
    except DomainError as error:
        raise Http404(error.detail) from error


ApplicationPage = Callable[..., HttpResponse]


def with_application(*, draft: bool = False, consented: bool = False) -> Callable[[ApplicationPage], ApplicationPage]:
    """The signed-in person's own application, passed to the view as ``uin, application``. A page of
    the form (``draft``) sends a sent application to its status page; a question page
    (``consented``) sends one without consent to the consent page."""

    def wrap(view: ApplicationPage) -> ApplicationPage:
        @functools.wraps(view)
        def inner(request: HttpRequest, reference: str, **kwargs: Any) -> HttpResponse:
            found = _mine(request, reference)
            if isinstance(found, HttpResponse):
                return found
            uin, application = found
            if draft and application.state != svc.ApplicationState.DRAFT:
                return redirect("portal:application", reference=application.reference)
            if consented and not application.consented:
                return redirect("portal:consent", reference=reference)
            return view(request, uin, application, **kwargs)

        return inner

    return wrap


def _question_view(q: svc.Question, lang: str, value: Any) -> dict[str, Any]:
    view = {
        "id": q.id,
        "type": q.type,
        "label": svc.text(q.label, lang),
        "hint": svc.text(q.hint, lang),
        "required": q.required,
        "value": value if value is not None else "",
    }
    if q.type == "choice":
        view["options"] = [(o.value, svc.text(o.label, lang)) for o in q.options]
    elif q.type == "yesno":
        view["options"] = [("yes", _("Yes")), ("no", _("No"))]
    elif q.type == "parish":
        view["options"] = list(parishes())
    if q.type == "date":
        parts = str(value or "").split("-")
        view["day"], view["month"], view["year"] = (
            (parts[2].lstrip("0"), parts[1].lstrip("0"), parts[0]) if len(parts) == 3 else ("", "", "")
        )
    return view


def _display(q: svc.Question, lang: str, value: Any) -> str:
    if value in (None, ""):
        return _("Not given")
    if q.type == "choice":
        return next((svc.text(o.label, lang) for o in q.options if o.value == value), str(value))
    if q.type == "yesno":
        return _("Yes") if value == "yes" else _("No")
    if q.type == "parish":
        return parish_name(str(value))
    return str(value)


@never_cache
@require_GET
@with_application(draft=True)
def tasks(request: HttpRequest, uin: str, application: svc.ApplicationView) -> HttpResponse:
    lang = language(request)
    questions = application.questions
    answered = sum(1 for q in questions if application.answers.get(q.id) not in (None, ""))
    missing = application.missing
    return render(
        request,
        "portal/tasks.html",
        {
            "application": application,
            "title": svc.text(application.title, lang),
            "consented": application.consented,
            "answered": answered,
            "total": len(questions),
            "first_missing": missing[0] if missing else "",
            "complete": application.consented and not missing,
            "fee": application.fee_text,
        },
    )


@never_cache
@require_http_methods(["GET", "POST"])
@with_application(draft=True)
def consent(request: HttpRequest, uin: str, application: svc.ApplicationView) -> HttpResponse:
    reference = application.reference
    lang = language(request)
    error = None
    if request.method == "POST":
        if not ConsentForm(request.POST).cleaned()["agree"]:
            error = _("Tick the box to agree, or go back to the service's start page.")
        else:
            try:
                outcomes = svc.application_consent(uin=uin, reference=reference)
            except DomainError as problem:
                error = problem.detail
            else:
                failed = [o for o in outcomes if not o.passed]
                if failed:
                    return render(
                        request,
                        "portal/not_eligible.html",
                        {
                            "title": svc.text(application.title, lang),
                            "reasons": [svc.text(o.reason, lang) for o in failed],
                        },
                    )
                return redirect("portal:tasks", reference=reference)
    return render(
        request,
        "portal/consent.html",
        {
            "application": application,
            "title": svc.text(application.title, lang),
            "sources": [{"label": svc.text(p.label, lang), "service": p.service} for p in application.prefill],
            "consented": application.consented,
            "error": error,
        },
        status=400 if error else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@with_application(draft=True, consented=True)
def question(request: HttpRequest, uin: str, application: svc.ApplicationView, qid: str) -> HttpResponse:
    reference = application.reference
    lang = language(request)
    try:
        q = svc.application_question(uin=uin, reference=reference, question_id=qid)
    except DomainError as missing:
        raise Http404(missing.detail) from missing
    error = None
    value: Any = application.answers.get(qid)
    if request.method == "POST":
        form = AnswerForm(request.POST, qid=qid, kind=q.type)
        value = form.shown()
        try:
            application = svc.application_answer(uin=uin, reference=reference, question_id=qid, raw=form.answer())
        except DomainError as problem:
            error = problem.detail
        else:
            return _next_page(request, application, qid, from_check=form.from_check())
    visible = [x.id for x in application.questions]
    position = visible.index(qid) + 1 if qid in visible else 0
    previous = visible[position - 2] if position > 1 else ""
    return render(
        request,
        "portal/question.html",
        {
            "application": application,
            "title": svc.text(application.title, lang),
            "q": _question_view(q, lang, value),
            "error": error,
            "position": position,
            "count": len(visible),
            "back": reverse("portal:question", args=[reference, previous])
            if previous
            else reverse("portal:tasks", args=[reference]),
            "from_check": request.GET.get("from") == "check",
        },
        status=400 if error else 200,
    )


def _next_page(request: HttpRequest, application: svc.ApplicationView, qid: str, *, from_check: bool) -> HttpResponse:
    if (request.GET.get("from") == "check" or from_check) and not application.missing:
        return redirect("portal:check", reference=application.reference)
    visible = [x.id for x in application.questions]
    later = visible[visible.index(qid) + 1 :] if qid in visible else []
    if later:
        return redirect("portal:question", reference=application.reference, qid=later[0])
    return redirect("portal:check", reference=application.reference)


@never_cache
@require_http_methods(["GET", "POST"])
@with_application(draft=True, consented=True)
def check(request: HttpRequest, uin: str, application: svc.ApplicationView) -> HttpResponse:
    reference = application.reference
    lang = language(request)
    error = None
    if request.method == "POST":
        try:
            application = svc.application_submit(
                uin=uin, reference=reference, access_token=session_access_token(request)
            )
        except DomainError as problem:
            error = problem
        else:
            if application.state == svc.ApplicationState.AWAITING_PAYMENT:
                return redirect("portal:pay", reference=reference)
            return redirect("portal:application", reference=reference)
    person = application.person
    verified = [
        (_("Name"), f"{person.given_names} {person.family_name}".strip()),
        (_("Date of birth"), person.birth_date),
        (
            _("Address"),
            ", ".join(
                x
                for x in (
                    person.address_line,
                    person.address_settlement,
                    dict(parishes()).get(person.address_parish, ""),
                )
                if x
            ),
        ),
    ]
    rows = [
        {
            "id": q.id,
            "label": svc.text(q.label, lang),
            "value": _display(q, lang, application.answers.get(q.id)),
        }
        for q in application.questions
    ]
    return render(
        request,
        "portal/check.html",
        {
            "application": application,
            "title": svc.text(application.title, lang),
            "verified": [(k, v) for k, v in verified if v],
            "rows": rows,
            "fee": application.fee_text,
            "error": error,
        },
        status=400 if error else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@with_application()
def pay(request: HttpRequest, uin: str, application: svc.ApplicationView) -> HttpResponse:
    reference = application.reference
    if application.state != svc.ApplicationState.AWAITING_PAYMENT:
        return redirect("portal:application", reference=reference)
    lang = language(request)
    error = None
    if request.method == "POST":
        try:
            method = PayForm(request.POST).cleaned()["method"]
            if method == "online":
                next_url = svc.application_pay_online(
                    uin=uin,
                    reference=reference,
                    language=lang,
                    return_url=request.build_absolute_uri(reverse("portal:paid", args=[reference])),
                )
                return redirect(next_url)
            if method == "counter":
                svc.application_pay_at_counter(uin=uin, reference=reference)
                return redirect("portal:application", reference=reference)
            error = _("Choose how you will pay.")
        except DomainError as problem:
            error = problem.detail
    response = render(
        request,
        "portal/pay.html",
        {
            "application": application,
            "title": svc.text(application.title, lang),
            "fee": application.fee_text,
            "online": svc.payment_provider() is not None,
            "warnings": [svc.text(c.reason, lang) for c in application.checks if not c.passed],
            "error": error,
        },
        status=400 if error else 200,
    )
    origins = svc.payment_page_origins()
    if origins:
        # The pay form's answer sends the browser on to the provider's hosted page.
        response._csp_update = {"form-action": origins}  # type: ignore[attr-defined]
    return response


@never_cache
@require_GET
@with_application()
def paid(request: HttpRequest, uin: str, application: svc.ApplicationView) -> HttpResponse:
    """Where the payment provider sends the citizen back: ask it what happened, never trust the URL."""
    reference = application.reference
    try:
        svc.application_payment_check(uin=uin, reference=reference, access_token=session_access_token(request))
    except DomainError as error:
        return _problem_page(request, error)
    return redirect("portal:application", reference=reference)


def _withdraw_confirm(request: HttpRequest, application: svc.ApplicationView, lang: str) -> HttpResponse:
    """Ask before withdrawing an application: it cannot be undone, and a one-click button is too easy to press."""
    page = reverse("portal:application", args=[application.reference])
    title = svc.text(application.title, lang)
    context = {
        "question": _("Are you sure you want to withdraw your application?"),
        "consequence": _(
            "Your application “%(title)s” (%(reference)s) will be closed and no officer will look at it. "
            "This cannot be undone: to go on later you would apply again."
        )
        % {"title": title, "reference": application.reference},
        "action_url": page,
        "fields": [("action", "withdraw")],
        "yes_label": _("Yes, withdraw my application"),
        "cancel_url": page,
    }
    return render(request, "portal/confirm.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
@with_application()
def application_page(request: HttpRequest, uin: str, application: svc.ApplicationView) -> HttpResponse:
    reference = application.reference
    lang = language(request)
    error = None
    if request.method == "POST":
        try:
            data = ApplicationActionForm(request.POST).cleaned()
            action = data["action"]
            if action == "respond":
                svc.application_respond(uin=uin, reference=reference, response=data["response"])
                return redirect("portal:application", reference=reference)
            if action == "withdraw" and data["confirm"]:
                svc.application_withdraw(uin=uin, reference=reference)
                return redirect("portal:application", reference=reference)
            if action == "withdraw":
                return _withdraw_confirm(request, application, lang)
            if action == "feedback":
                svc.feedback_record(
                    rating=data["rating"],
                    comment=data["comment"],
                    service_code=application.service_code,
                    reference=reference,
                )
                return redirect(reverse("portal:application", args=[reference]) + "?thanks=1")
            error = _("That action is not available.")
        except DomainError as problem:
            error = problem.detail
    state = application.state
    S = svc.ApplicationState
    can_withdraw = state in (
        S.DRAFT,
        S.SUBMITTED,
        S.AWAITING_CONFIRMATION,
        S.AWAITING_PAYMENT,
        S.IN_REVIEW,
        S.INFO_REQUESTED,
    )
    if can_withdraw and request.method == "GET" and request.GET.get("withdraw"):
        return _withdraw_confirm(request, application, lang)
    return render(
        request,
        "portal/application.html",
        {
            "application": application,
            "title": svc.text(application.title, lang),
            "state_label": application.state_label,
            "next_steps": svc.text(application.next_steps, lang),
            "reasons": [{"text": svc.text(r.reason, lang), "passed": r.passed} for r in application.reasons],
            # Why the application waits for an officer: the checks that did not pass, in the
            # person's language (an officer decides every application of some services anyway).
            "with_officer": state in (S.IN_REVIEW, S.INFO_REQUESTED),
            "officer_why": [svc.text(c.reason, lang) for c in application.checks if not c.passed],
            "withdrawn_at": next((t.at for t in reversed(application.transitions) if t.to_state == S.WITHDRAWN), None),
            "transitions": [
                {"at": t.at, "label": t.state_label, "note": t.note, "actor_kind": t.actor_kind}
                for t in application.transitions
            ],
            "documents": application.documents,
            "payments": application.payments,
            "awaiting_payment": state == S.AWAITING_PAYMENT,
            "awaiting_confirmation": state == S.AWAITING_CONFIRMATION,
            "info_requested": state == S.INFO_REQUESTED,
            "can_withdraw": can_withdraw,
            "done": state in (S.APPROVED, S.COMPLETED, S.REFUSED),
            "refused": state == S.REFUSED,
            "review": application.review,
            "review_until": application.review_until,
            "review_working_days": application.review_working_days,
            "withdrawn": state == S.WITHDRAWN,
            "thanks": request.GET.get("thanks"),
            "error": error,
        },
        status=400 if error else 200,
    )


@never_cache
@require_http_methods(["GET", "POST"])
@with_application()
def review_request(request: HttpRequest, uin: str, application: svc.ApplicationView) -> HttpResponse:
    """Ask for a review of a refusal: what the person disagrees with and any new information, then a
    page showing what they wrote before it is sent. Only while a review may be asked; otherwise the
    application's page says where it stands."""
    reference = application.reference
    page_url = reverse("portal:application", args=[reference])
    form = ReviewRequestForm(request.POST if request.method == "POST" else None)
    step = form.value("step") if form.is_bound else ""
    if application.review_until is None and step != "confirm":
        return redirect(page_url)
    texts = {"disagreement": form.typed("disagreement"), "new_information": form.typed("new_information")}
    error: DomainError | None = None
    checking = False
    if step in ("check", "confirm"):
        try:
            data = form.cleaned()
            disagreement, new_information = svc.review_texts_checked(
                disagreement=data["disagreement"], new_information=data["new_information"]
            )
            if step == "confirm":
                svc.application_review_request(
                    uin=uin, reference=reference, disagreement=disagreement, new_information=new_information
                )
                return redirect(page_url)
            texts = {"disagreement": disagreement, "new_information": new_information}
            checking = True
        except DomainError as problem:
            error = problem
    lang = language(request)
    context = {
        "application": application,
        "title": svc.text(application.title, lang),
        "texts": texts,
        "checking": checking,
        "review_until": application.review_until,
        "working_days": application.review_working_days,
        "error": error,
        "back_url": page_url,
    }
    return render(request, "portal/review.html", context, status=error.status if error else 200)
