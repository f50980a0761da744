"""The back office of the one-stop shop: where public servants work the cases of their agency.

The queue lists the open cases; a case is opened only after the officer says why, and that view is
recorded in the access log (``services.case_open``). The opened references are kept in the session
so that working the case (assigning, asking for information, deciding, reviewing an automatic
decision, confirming cash taken at the counter) does not ask again. Every change is a POST calling
the engine and answered with a redirect; a ``DomainError`` re-renders the page with its message,
never a server error."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import orjson
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.core.errors import Conflict, DomainError, NotFound
from gov21.core.office import Office, refusal_page
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_name, agency_service, service_field_titles
from gov21.identity.contracts import session_access_token
from gov21.onestop import definitions, payments, selectors, services
from gov21.onestop import forms as office_forms
from gov21.onestop.definitions import text
from gov21.onestop.models import Application, Document, Payment

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

S = Application.State
OPENED_SESSION_KEY = "services.office.opened"
# The most recently opened cases a session remembers; an older one asks for its purpose again.
OPENED_KEEP = 50
QUEUE_LIMIT = 200
DUE_SOON = timedelta(days=2)
AUTOMATIC_LIMIT = 100
# Engine references are "A-" and eight letters or digits; anything else cannot be a case, and is
# answered "not found" before it reaches the database (a NUL byte would make PostgreSQL fail).
_REFERENCE = re.compile(r"[A-Za-z0-9-]{1,20}")
_OPEN = (S.IN_REVIEW, S.INFO_REQUESTED, S.AWAITING_PAYMENT, S.REVIEW_REQUESTED)
# The fields of each action form, for the error summary's link to the field at fault.
_ACTION_FIELDS = {
    "assign": {"to"},
    "info": {"message"},
    "decide": {"reason"},
    "review": {"note"},
    "reconsider": {"reason"},
}

STATE_LABELS: dict[str, StrOrPromise] = {
    S.DRAFT: gettext_lazy("Draft"),
    S.SUBMITTED: gettext_lazy("Submitted"),
    S.AWAITING_CONFIRMATION: gettext_lazy("Waiting for the other party to confirm"),
    S.AWAITING_PAYMENT: gettext_lazy("Awaiting payment"),
    S.IN_REVIEW: gettext_lazy("With an officer"),
    S.INFO_REQUESTED: gettext_lazy("More information requested"),
    S.APPROVED: gettext_lazy("Approved"),
    S.REFUSED: gettext_lazy("Refused"),
    S.REVIEW_REQUESTED: gettext_lazy("Review requested"),
    S.COMPLETED: gettext_lazy("Completed"),
    S.WITHDRAWN: gettext_lazy("Withdrawn"),
}
# The colour of a state's tag; the tag always carries the state's name as well.
_STATE_TONE: dict[str, str] = {
    S.AWAITING_CONFIRMATION: "warn",
    S.AWAITING_PAYMENT: "warn",
    S.INFO_REQUESTED: "warn",
    S.REVIEW_REQUESTED: "warn",
    S.APPROVED: "ok",
    S.COMPLETED: "ok",
    S.REFUSED: "bad",
    S.WITHDRAWN: "bad",
}
_ACTOR_KINDS: dict[str, StrOrPromise] = {
    "citizen": gettext_lazy("citizen"),
    "staff": gettext_lazy("staff"),
    "system": gettext_lazy("system"),
}
_PAYMENT_STATUS: dict[str, StrOrPromise] = {
    Payment.Status.CREATED: gettext_lazy("Created"),
    Payment.Status.STARTED: gettext_lazy("Waiting to be paid"),
    Payment.Status.SUCCESS: gettext_lazy("Paid"),
    Payment.Status.FAILED: gettext_lazy("Failed"),
    Payment.Status.CANCELLED: gettext_lazy("Cancelled"),
}
_PAYMENT_METHOD: dict[str, StrOrPromise] = {
    payments.COUNTER: gettext_lazy("At the counter"),
    payments.HOSTED: gettext_lazy("Online"),
}
_DOCUMENT_STATUS: dict[str, StrOrPromise] = {
    Document.Status.VALID: gettext_lazy("Valid"),
    Document.Status.REVOKED: gettext_lazy("Revoked"),
    Document.Status.EXPIRED: gettext_lazy("Expired"),
}


def _language() -> str:
    return (translation.get_language() or "en").split("-")[0]


def _problem(request: HttpRequest, *, status: int, detail: str) -> HttpResponse:
    """The office's problem page for a refusal the case pages met on their way."""
    return OFFICE.problem(request, DomainError("case_problem", detail, status=status))


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    if principal is None:
        detail = _("Cases are worked only by staff who signed in with their authenticator. Sign in again.")
    elif permission == "case.assign":
        detail = _("Only a supervisor sees the workload of the team.")
    else:
        detail = _("Your role does not allow working the cases of the one-stop shop.")
    # Not the office's problem page: its way back is the queue, which would refuse again.
    return refusal_page(request, detail)


OFFICE = Office(home="cases:queue", home_label=gettext_lazy("Go to the open cases"), refuse=_refused)
office_page = OFFICE.page


def _due(due_at: datetime | None, now: datetime) -> str:
    if due_at is None:
        return ""
    if due_at < now:
        return "overdue"
    return "soon" if due_at < now + DUE_SOON else ""


def _titles() -> dict[str, str]:
    language = _language()
    return {row.code: text(row.definition.get("title"), language) for row in definitions.catalogue()}


# --- the queue ------------------------------------------------------------------------------------


@never_cache
@require_GET
@office_page("case.read")
def queue(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = office_forms.QueueFilter(request.GET or None)
    chosen: dict[str, Any] = {"state": "", "mine": False, "overdue": False, "q": ""}
    errors: list[str] = []
    if form.is_bound:
        if form.is_valid():
            chosen.update(form.cleaned_data)
        else:
            errors = [_("The filters could not be used: choose them again.")]
    rows = list(
        selectors.case_queue(
            principal=principal,
            state=chosen["state"],
            mine=chosen["mine"],
            query=chosen["q"],
            overdue=chosen["overdue"],
        )[: QUEUE_LIMIT + 1]
    )
    now, language = timezone.now(), _language()
    cases = [
        {
            "application": row,
            "title": text(row.service.definition.get("title"), language),
            "state": STATE_LABELS.get(row.state, row.state),
            "tone": _STATE_TONE.get(row.state, ""),
            "due": _due(row.due_at, now),
        }
        for row in rows[:QUEUE_LIMIT]
    ]
    context = {
        "cases": cases,
        "more": len(rows) > QUEUE_LIMIT,
        "limit": QUEUE_LIMIT,
        "chosen": {**chosen, "q": form.typed("q")},
        "states": [(state.value, STATE_LABELS[state]) for state in office_forms.FILTER_STATES],
        "filtered": any(chosen.values()),
        "errors": errors,
        "can_assign": principal.can("case.assign"),
    }
    return render(request, "services/office_queue.html", context)


# --- one case -------------------------------------------------------------------------------------


def _case_get(principal: Principal, reference: str, permission: str = "case.read") -> Application:
    """The case, if the reference has the right shape and the officer may see it."""
    if not _REFERENCE.fullmatch(reference):
        raise NotFound("application_not_found", _("There is no case with this reference."))
    return selectors.case_get(principal=principal, reference=reference, permission=permission)


def _opened(request: HttpRequest) -> list[str]:
    value = request.session.get(OPENED_SESSION_KEY)
    return [str(ref) for ref in value] if isinstance(value, list) else []


def _remember(request: HttpRequest, reference: str) -> None:
    opened = [ref for ref in _opened(request) if ref != reference]
    request.session[OPENED_SESSION_KEY] = [*opened, reference][-OPENED_KEEP:]


def _label(key: object, titles: dict[str, str]) -> str:
    """A field as an officer reads it: the title its service declares for it, in the officer's
    language, else its name made readable ("address_parish" as "Address parish")."""
    name = str(key)
    title = titles.get(name)
    if title:
        return _(title)
    return name.replace("_", " ").capitalize()


def _display(value: object, titles: dict[str, str] | None = None) -> str:
    titles = titles or {}
    if value is None or value == "":
        return "–"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list) and all(isinstance(item, dict) for item in value):
        # A register's list of records (a person's licences): one record a line.
        return "\n".join(_display(item, titles) for item in value) or "–"
    if isinstance(value, dict) and not any(isinstance(v, dict | list) for v in value.values()):
        return ", ".join(
            f"{_label(key, titles)}: {_display(v, titles)}" for key, v in value.items() if not str(key).startswith("_")
        )
    if isinstance(value, list) and not any(isinstance(item, dict | list) for item in value):
        return ", ".join(_display(item, titles) for item in value) or "–"
    if isinstance(value, dict | list):
        return orjson.dumps(value).decode()[:1000]
    return str(value)


def _answer_rows(application: Application, definition: dict[str, Any], language: str) -> list[tuple[str, str]]:
    answers = application.answers
    rows: list[tuple[str, str]] = []
    known = set()
    for question in definition.get("questions", []):
        qid = question["id"]
        known.add(qid)
        if qid not in answers:
            continue
        value = answers[qid]
        if question.get("type") == "choice":
            options = {o["value"]: text(o.get("label"), language) for o in question.get("options", [])}
            value = options.get(value) or value
        elif question.get("type") == "yesno" and value in ("yes", "no"):
            value = _("Yes") if value == "yes" else _("No")
        rows.append((text(question.get("label"), language) or qid, _display(value)))
    rows += [
        (_label(key, {}), _display(value))
        for key, value in answers.items()
        if key not in known and not key.startswith("_")
    ]
    return rows


def _responses(application: Application) -> list[dict[str, object]]:
    found: list[dict[str, object]] = []
    for item in application.answers.get("_responses") or []:
        if not isinstance(item, dict):
            continue
        try:
            at: datetime | None = datetime.fromisoformat(str(item.get("at", "")))
        except ValueError:
            at = None
        found.append({"at": at, "text": str(item.get("text", ""))})
    return found


def _facts(application: Application, definition: dict[str, Any], language: str) -> list[dict[str, Any]]:
    """What the registries said, per source, with where and when it came from."""
    verified = application.verified
    sources = verified.get("_sources") or {}
    labels = {p["name"]: text(p.get("label"), language) for p in definition.get("prefill", [])}
    found = []
    for name, value in verified.items():
        if name.startswith("_"):
            continue
        source = sources.get(name) or {}
        try:
            at: datetime | None = datetime.fromisoformat(str(source.get("at", "")))
        except ValueError:
            at = None
        record = value if isinstance(value, dict) else {"value": value}
        service = str(source.get("service", ""))
        # Labels as the service's own OpenAPI document declares them, one definition for every reader.
        titles = service_field_titles(agency_service(*service.split("/", 2))) if service.count("/") == 2 else {}
        found.append(
            {
                "name": name,
                "label": labels.get(name, ""),
                "service": service,
                "agency": agency_name(agency_service(*service.split("/", 2))) if service.count("/") == 2 else "",
                "at": at,
                "missing": bool(record.get("_missing")),
                "rows": [
                    (_label(key, titles), _display(v, titles))
                    for key, v in record.items()
                    if not str(key).startswith("_")
                ],
            }
        )
    return found


def _outcomes(items: list[object], language: str) -> list[dict[str, object]]:
    return [
        {
            "rule": str(item.get("rule", "")),
            "passed": bool(item.get("passed")),
            "reason": text(item.get("reason"), language),
            "error": str(item.get("error") or ""),
        }
        for item in items
        if isinstance(item, dict)
    ]


def _case_context(principal: Principal, application: Application) -> dict[str, Any]:
    language = _language()
    definition = dict(application.service.definition)
    now = timezone.now()
    can_work = principal.can("case.work")
    is_open = application.state in _OPEN
    history = [
        {
            "transition": t,
            "from": STATE_LABELS.get(t.from_state, t.from_state) if t.from_state else "",
            "to": STATE_LABELS.get(t.to_state, t.to_state),
            "kind": _ACTOR_KINDS.get(t.actor_kind, t.actor_kind),
        }
        for t in application.transitions.all()
    ]
    confirmable = can_work and application.state == S.AWAITING_PAYMENT
    paid = [
        {
            "payment": p,
            "amount": f"{p.currency} {p.amount / 100:,.2f}",
            "method": _PAYMENT_METHOD.get(p.method, p.method),
            "status": _PAYMENT_STATUS.get(p.status, p.status),
            "tone": {"success": "ok", "failed": "bad", "cancelled": "bad"}.get(p.status, "warn"),
            "confirm": confirmable and p.method == payments.COUNTER and p.status == Payment.Status.STARTED,
        }
        for p in application.payments.all()
    ]
    documents = [
        {
            "document": d,
            "status": _DOCUMENT_STATUS.get(d.status, d.status),
            "tone": "ok" if d.status == Document.Status.VALID else "bad",
        }
        for d in application.documents.all()
    ]
    review = services.review_latest(application) if application.decided_at is not None else None
    review_waiting = application.state == S.REVIEW_REQUESTED and review is not None
    own_decision = review_waiting and review is not None and review.decision_by == principal.name
    return {
        "review": review,
        "review_decision": getattr(review, "decision", None) if review is not None else None,
        "review_waiting": review_waiting,
        "review_own_decision": own_decision,
        "can_reconsider": can_work and review_waiting and not own_decision,
        "application": application,
        "title": text(definition.get("title"), language),
        "version": application.service.version,
        "state": STATE_LABELS.get(application.state, application.state),
        "tone": _STATE_TONE.get(application.state, ""),
        "due": _due(application.due_at, now) if is_open else "",
        "automatic": application.decided_by == services.SYSTEM_ACTOR,
        "answers": _answer_rows(application, definition, language),
        "responses": _responses(application),
        "facts": _facts(application, definition, language),
        "checks": _outcomes(application.checks, language),
        "reasons": _outcomes(application.reasons, language),
        "payments": paid,
        "documents": documents,
        "history": history,
        "can_assign_me": can_work and is_open and application.assigned_to != principal.name,
        "can_assign_other": principal.can("case.assign") and is_open,
        "can_request_info": can_work and application.state == S.IN_REVIEW,
        "can_decide": can_work and application.state == S.IN_REVIEW,
        "can_review": can_work and application.decided_by == services.SYSTEM_ACTOR,
        "me": principal.name,
    }


def _case_page(
    request: HttpRequest,
    principal: Principal,
    reference: str,
    *,
    error: DomainError | None = None,
    action: str = "",
    form: dict[str, str] | None = None,
) -> HttpResponse:
    """The case page; with an error, its message on top and at the field it is about, what was
    typed kept. An unknown case or another agency's is a page of its own, with nothing of the case."""
    if error is not None and error.status in (403, 404):
        return _problem(request, status=error.status, detail=error.detail)
    try:
        application = _case_get(principal, reference)
    except DomainError as problem:
        return _problem(request, status=problem.status, detail=problem.detail)
    context = _case_context(principal, application)
    context["can_act"] = any(
        context[k]
        for k in ("can_assign_me", "can_assign_other", "can_request_info", "can_decide", "can_review", "can_reconsider")
    ) or any(p["confirm"] for p in context["payments"])
    context["error"] = error
    context["action"] = action
    at_field = error is not None and error.field in _ACTION_FIELDS.get(action, ())
    context["error_href"] = f"#{action}-{error.field}" if error is not None and at_field else ""
    context["form"] = form or {}
    return render(request, "services/office_case.html", context, status=error.status if error else 200)


def _purpose_page(
    request: HttpRequest, reference: str, *, error: DomainError | None = None, purpose: str = ""
) -> HttpResponse:
    context = {"reference": reference, "error": error, "purpose": purpose}
    return render(request, "services/office_purpose.html", context, status=error.status if error else 200)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("case.read")
def case(request: HttpRequest, principal: Principal, reference: str) -> HttpResponse:
    """A case opened in this session; otherwise the question why it is being opened. The answer
    is recorded with the view in the access log, then the case is shown."""
    if request.method == "GET":
        if reference in _opened(request):
            return _case_page(request, principal, reference)
        try:
            _case_get(principal, reference)
        except DomainError as error:
            return _problem(request, status=error.status, detail=error.detail)
        return _purpose_page(request, reference)
    form = office_forms.PurposeForm(request.POST)
    try:
        if not _REFERENCE.fullmatch(reference):
            raise NotFound("application_not_found", _("There is no case with this reference."))
        purpose = form.cleaned()["purpose"]
        services.case_open(principal=principal, reference=reference, purpose=purpose)
    except DomainError as error:
        if error.status in (403, 404):
            return _problem(request, status=error.status, detail=error.detail)
        return _purpose_page(request, reference, error=error, purpose=form.typed("purpose"))
    _remember(request, reference)
    return redirect("cases:case", reference=reference)


@office_page("case.work")
def _act(
    request: HttpRequest,
    principal: Principal,
    reference: str,
    *,
    action: str,
    form: dict[str, str],
    do: Callable[[Principal], str],
) -> HttpResponse:
    """One change to a case opened in this session: the engine's call, then a redirect to the case
    with what was done; a refusal re-renders the case with its reason."""
    if reference not in _opened(request):
        messages.info(request, _("Say why you are opening this case before working on it."))
        return (
            redirect("cases:case", reference=reference) if _REFERENCE.fullmatch(reference) else redirect("cases:queue")
        )
    try:
        done = do(principal)
    except DomainError as error:
        return _case_page(request, principal, reference, error=error, action=action, form=form)
    messages.success(request, done)
    return redirect("cases:case", reference=reference)


@never_cache
@require_POST
def case_assign(request: HttpRequest, reference: str) -> HttpResponse:
    form = office_forms.AssignForm(request.POST)

    def do(principal: Principal) -> str:
        data = form.cleaned()
        if data["me"]:
            to = principal.name
        else:
            to = data["to"]
            if not to:
                raise DomainError(
                    "assignee_required", _("Enter the user name of the officer to assign the case to."), field="to"
                )
        services.case_assign(principal=principal, reference=reference, to=to)
        return _("Case %(reference)s is assigned to %(name)s.") % {"reference": reference, "name": to}

    return _act(request, reference, action="assign", form={"to": form.typed("to")}, do=do)


@never_cache
@require_POST
def case_request_info(request: HttpRequest, reference: str) -> HttpResponse:
    form = office_forms.RequestInfoForm(request.POST)

    def do(principal: Principal) -> str:
        message = form.cleaned()["message"]
        services.case_request_info(principal=principal, reference=reference, message=message)
        return _("The applicant is asked for more information.")

    return _act(request, reference, action="info", form={"message": form.typed("message")}, do=do)


@never_cache
@require_POST
def case_decide(request: HttpRequest, reference: str) -> HttpResponse:
    form = office_forms.DecideForm(request.POST)

    def do(principal: Principal) -> str:
        data = form.cleaned()
        decision, reason = data["decision"], data["reason"]
        decided = services.case_decide(
            principal=principal,
            reference=reference,
            approve=decision == "approve",
            reason=reason,
            access_token=session_access_token(request),
        )
        state = STATE_LABELS.get(decided.state, decided.state)
        if decision == "approve":
            return _("Case %(reference)s is approved. It is now: %(state)s.") % {"reference": reference, "state": state}
        return _("Case %(reference)s is refused.") % {"reference": reference}

    return _act(request, reference, action="decide", form={"reason": form.typed("reason")}, do=do)


@never_cache
@require_POST
def case_review(request: HttpRequest, reference: str) -> HttpResponse:
    form = office_forms.ReviewForm(request.POST)

    def do(principal: Principal) -> str:
        data = form.cleaned()
        outcome, note = data["outcome"], data["note"]
        services.case_review(principal=principal, reference=reference, upheld=outcome == "uphold", note=note)
        if outcome == "uphold":
            return _("The automatic decision on %(reference)s is upheld.") % {"reference": reference}
        return _("The automatic decision on %(reference)s is overturned; any document issued is revoked.") % {
            "reference": reference
        }

    return _act(request, reference, action="review", form={"note": form.typed("note")}, do=do)


@never_cache
@require_POST
def case_reconsider(request: HttpRequest, reference: str) -> HttpResponse:
    """Decide the applicant's request for a review of a refusal: uphold it or overturn it, with a reason."""
    form = office_forms.ReconsiderForm(request.POST)

    def do(principal: Principal) -> str:
        data = form.cleaned()
        upheld = data["outcome"] == "uphold"
        services.case_review_request_decide(
            principal=principal,
            reference=reference,
            upheld=upheld,
            reason=data["reason"],
            access_token=session_access_token(request),
        )
        if upheld:
            return _("The refusal of %(reference)s is upheld. The applicant is told why.") % {"reference": reference}
        return _("The refusal of %(reference)s is overturned: the application is approved.") % {"reference": reference}

    return _act(request, reference, action="reconsider", form={"reason": form.typed("reason")}, do=do)


@never_cache
@require_POST
def payment_confirm(request: HttpRequest, reference: str, payment_id: int) -> HttpResponse:
    def do(principal: Principal) -> str:
        # The payment functions check no officer: the case's access rule is applied here first.
        application = _case_get(principal, reference, "case.work")
        payment = next((p for p in application.payments.all() if p.pk == payment_id), None)
        if payment is None:
            raise Conflict("payment_not_found", _("This case has no such payment."))
        if application.state != S.AWAITING_PAYMENT:
            raise Conflict("not_awaiting_payment", _("This case is not waiting for a payment: take no cash."))
        # Cash taken and the application moving on are one change: both, or neither.
        with transaction.atomic():
            payments.payment_confirm_counter(payment=payment, officer=principal.name)
            moved = services.application_paid(
                application=application,
                actor=principal.name,
                actor_kind="staff",
                access_token=session_access_token(request),
            )
        state = STATE_LABELS.get(moved.state, moved.state)
        return _("The payment of %(amount)s is recorded. The case is now: %(state)s.") % {
            "amount": f"{payment.currency} {payment.amount / 100:,.2f}",
            "state": state,
        }

    return _act(request, reference, action="payment", form={}, do=do)


# --- supervision ----------------------------------------------------------------------------------


@never_cache
@require_GET
@office_page("case.assign")
def workload(request: HttpRequest, principal: Principal) -> HttpResponse:
    numbers = selectors.workload(principal=principal)
    titles = _titles()
    context = {
        **numbers,
        "by_service": [
            {**row, "title": titles.get(row["service__code"], row["service__code"])} for row in numbers["by_service"]
        ],
        "total": sum(row["open"] for row in numbers["by_officer"]),
    }
    return render(request, "services/office_workload.html", context)


@never_cache
@require_GET
@office_page("case.read")
def automatic(request: HttpRequest, principal: Principal) -> HttpResponse:
    language = _language()
    rows = [
        {
            "application": row,
            "title": text(row.service.definition.get("title"), language),
            "state": STATE_LABELS.get(row.state, row.state),
            "tone": _STATE_TONE.get(row.state, ""),
        }
        for row in selectors.automatic_decisions(principal=principal, limit=AUTOMATIC_LIMIT)
    ]
    context = {"rows": rows, "limit": AUTOMATIC_LIMIT, "can_assign": principal.can("case.assign")}
    return render(request, "services/office_automatic.html", context)
