"""Registrar back office: the pages civil registry staff work in. Each view parses its input with a form
from ``registry.forms``, calls one service or selector, and renders a page; every change is a POST answered
with a redirect (Post/Redirect/Get), and a ``DomainError`` is shown on the page, never as a server error."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from django.contrib import messages
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from gov21.core.credentials import verification_url
from gov21.core.errors import Conflict, DomainError
from gov21.core.geography import settlement_names
from gov21.core.office import Office, refusal_page
from gov21.core.pdf import render_qr_png
from gov21.core.principal import Principal
from gov21.registry import forms, selectors, services
from gov21.registry.certificates import QR_PREFIX, certificate_pdf
from gov21.registry.models import CertificateStatus, EventKind, EventState, LifeEvent, MaritalStatus, PersonStatus
from gov21.registry.records import DECLARATIONS, PersonFacts, PersonHistory
from gov21.registry.services.events import date_check, local_today

if TYPE_CHECKING:
    from django_stubs_ext import StrOrPromise

QUEUE_STATES: tuple[str, ...] = (
    EventState.DECLARED,
    EventState.CORRECTED,
    EventState.VALIDATED,
    EventState.CORRECTION_REQUESTED,
)
QUEUE_SIZE = 100
DECLARABLE: tuple[tuple[str, StrOrPromise, str | None], ...] = (
    (EventKind.BIRTH, gettext_lazy("Birth"), "registry:declare_birth"),
    (EventKind.DEATH, gettext_lazy("Death"), "registry:declare_death"),
    (EventKind.MARRIAGE, gettext_lazy("Marriage"), "registry:declare_marriage"),
    (EventKind.DIVORCE, gettext_lazy("Divorce"), "registry:declare_divorce"),
    (EventKind.NAME_CHANGE, gettext_lazy("Change of name"), "registry:declare_name_change"),
    (EventKind.ADDRESS_CHANGE, gettext_lazy("Change of address"), "registry:declare_address"),
)


@dataclass(frozen=True)
class DeclarePage:
    """A declaration's two pages: its form at ``declare/<slug>`` and its check at ``declare/<slug>/check``."""

    kind: str
    slug: str
    url_name: str
    template: str
    heading: StrOrPromise
    confirm: StrOrPromise


DECLARE_PAGES: dict[str, DeclarePage] = {
    page.kind: page
    for page in (
        DeclarePage(
            EventKind.BIRTH,
            "birth",
            "registry:declare_birth",
            "registry/declare_birth.html",
            gettext_lazy("Declare a birth"),
            gettext_lazy("Declare the birth"),
        ),
        DeclarePage(
            EventKind.DEATH,
            "death",
            "registry:declare_death",
            "registry/declare_death.html",
            gettext_lazy("Declare a death"),
            gettext_lazy("Declare the death"),
        ),
        DeclarePage(
            EventKind.MARRIAGE,
            "marriage",
            "registry:declare_marriage",
            "registry/declare_marriage.html",
            gettext_lazy("Declare a marriage"),
            gettext_lazy("Declare the marriage"),
        ),
        DeclarePage(
            EventKind.DIVORCE,
            "divorce",
            "registry:declare_divorce",
            "registry/declare_form.html",
            gettext_lazy("Declare a divorce"),
            gettext_lazy("Declare the divorce"),
        ),
        DeclarePage(
            EventKind.NAME_CHANGE,
            "name-change",
            "registry:declare_name_change",
            "registry/declare_form.html",
            gettext_lazy("Declare a change of name"),
            gettext_lazy("Declare the change of name"),
        ),
        DeclarePage(
            EventKind.ADDRESS_CHANGE,
            "address",
            "registry:declare_address",
            "registry/declare_address.html",
            gettext_lazy("Declare a change of address"),
            gettext_lazy("Declare the change of address"),
        ),
    )
}
_PAGE_BY_SLUG = {page.slug: page for page in DECLARE_PAGES.values()}


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    """No role in gov21 at all, or none that allows what the page does."""
    if principal is None or not principal.roles:
        return refusal_page(request, _("Your account has no role in the civil registry. Ask an administrator."))
    # Said in words, never by the permission's name, and not leading back to the page refused.
    return refusal_page(request, _("Your role in the civil registry does not allow this."))


# Pages for civil registry staff: any role in gov21 lets a person in unless the page names a permission.
OFFICE = Office(
    home="registry:queue", home_label=gettext_lazy("Go to the declarations waiting for action"), refuse=_refused
)
office_page = OFFICE.page


def _summary(kind: str, data: Mapping[str, object]) -> str:
    """A line naming who a declaration is about, from its own facts (no further query)."""
    if kind == EventKind.BIRTH:
        return f"{data.get('given_names', '')} {data.get('family_name', '')}".strip()
    if kind in (EventKind.MARRIAGE, EventKind.DIVORCE):
        return f"{data.get('partner_a_uin', '')} & {data.get('partner_b_uin', '')}"
    return str(data.get("uin", ""))


def _person_url(uin: str, purpose: str = "") -> str:
    url = reverse("registry:person", kwargs={"uin": uin})
    return f"{url}?{urlencode({'purpose': purpose})}" if purpose else url


# ---------------------------------------------------------------------------------------------
# Queue and declarations


@require_GET
@office_page()
def queue(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = forms.QueueFilterForm(request.GET)
    kind = form.cleaned_data["kind"] if form.is_valid() else ""
    events = selectors.event_queue(actor=principal, states=QUEUE_STATES)
    if kind:
        events = events.filter(kind=kind)
    rows = list(events[: QUEUE_SIZE + 1])
    context = {
        "form": form,
        "kind": kind,
        "rows": [{"event": event, "summary": _summary(event.kind, event.data)} for event in rows[:QUEUE_SIZE]],
        "more": len(rows) > QUEUE_SIZE,
        "size": QUEUE_SIZE,
        "can_declare": principal.can("event.declare"),
        "can_search": principal.can("person.read"),
    }
    return render(request, "registry/queue.html", context)


@require_GET
@office_page(permission="event.declare")
def declare(request: HttpRequest, principal: Principal) -> HttpResponse:
    kinds = [{"label": label, "url": reverse(name) if name else None} for kind, label, name in DECLARABLE]
    return render(request, "registry/declare.html", {"kinds": kinds})


def _dates_check(form: forms.GovForm) -> None:
    """Put the registry's date rules next to the dates of a form refused for another field, so that a
    date in the future is shown with every other error in one round, not after the others are fixed."""
    for name, field in form.fields.items():
        value = form.cleaned_data.get(name)
        if isinstance(field, forms.DatePartsField) and value is not None and name not in form.errors:
            try:
                date_check(value, field=name, today=local_today())
            except DomainError as error:
                form.add_domain_error(error)


def _problems_show(form: forms.GovForm, problems: list[DomainError]) -> int:
    """Put each of the registry's problems next to its field; the status to answer with (the first that
    is not 200: a problem no field of the form can fix)."""
    statuses = [form.add_domain_error(problem) for problem in problems]
    return next((status for status in statuses if status != 200), 200)


def _draft_key(kind: str) -> str:
    return f"registry.declare.{kind}"


def _form_page(request: HttpRequest, page: DeclarePage, form: forms.GovForm, *, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "settlements": settlement_names(),
        "errors": form.error_summary() if form.is_bound else [],
        "heading": page.heading,
        "button": _("Continue"),
        "back_url": reverse("registry:declare"),
        "action": reverse(page.url_name),
    }
    return render(request, page.template, context, status=status)


def _declare(request: HttpRequest, principal: Principal, *, kind: str) -> HttpResponse:
    """A declaration's form. Valid answers, checked against the register (every problem at once, with
    the form's own), are kept in the session and shown on the check page; nothing is declared here."""
    page = DECLARE_PAGES[kind]
    form_class = forms.DECLARATION_FORMS[kind]
    if request.method != "POST":
        draft = request.session.get(_draft_key(kind))
        # "Change" on the check page comes back here with the answers kept, to the answer to change.
        if draft is not None and "change" in request.GET:
            return _form_page(request, page, form_class(initial=draft))
        return _form_page(request, page, form_class())
    form = form_class(request.POST)
    if form.is_valid():
        try:
            declaration = services.declaration_parse(kind=kind, data=form.cleaned_data)
        except DomainError as error:
            return _form_page(request, page, form, status=form.add_domain_error(error))
        problems = services.declaration_problems(declaration)
        if not problems:
            request.session[_draft_key(kind)] = declaration.model_dump(mode="json")
            return redirect("registry:declare_check", slug=page.slug)
    else:
        _dates_check(form)
        uins = {name: value for name, value in form.cleaned_data.items() if name.endswith("uin")}
        problems = services.uins_unregistered(uins)
    return _form_page(request, page, form, status=_problems_show(form, problems))


def _in_words(name: str, value: object, *, is_date: bool) -> str:
    """A declared value as a person reads it: a code in its words, a date written out."""
    if value is None or value == "" or value == []:
        return _("Not given")
    if name == "sex":
        return str(dict(forms.SEX_CHOICES).get(str(value), value))
    if name in _PARISH_FIELDS:
        return str(dict(forms.parish_choices()).get(str(value), value))
    if is_date and isinstance(value, str):
        try:
            value = date.fromisoformat(value)
        except ValueError:
            return str(value)
    if isinstance(value, date):
        return date_format(value, "j F Y")
    return _display(value)


_PARISH_FIELDS = frozenset({"birth_parish", "address_parish", "place_parish", "parish"})


def declared_rows(kind: str, data: Mapping[str, Any], *, only: Iterable[str] | None = None) -> list[dict[str, str]]:
    """The facts of a declaration of ``kind`` as label and value in words, labelled with the titles of its
    record (``registry.records``), in the record's order; ``only`` keeps the fields a form asked."""
    record = DECLARATIONS[kind]
    asked = set(only) if only is not None else None
    rows = []
    for name, info in record.model_fields.items():
        if (asked is not None and name not in asked) or (asked is None and data.get(name) in (None, "")):
            continue
        label = _(info.title) if info.title else str(forms.FIELD_LABELS.get(name, name))
        value = _in_words(name, data.get(name), is_date=info.annotation is date)
        rows.append({"name": name, "label": label, "value": value})
    if asked is None:
        # Facts kept before the record named them still show, by the office's own words for them.
        rows += [
            {"name": name, "label": str(forms.FIELD_LABELS.get(name, name)), "value": _display(value)}
            for name, value in data.items()
            if name not in record.model_fields and value not in (None, "")
        ]
    return rows


def _check_answers(
    request: HttpRequest,
    *,
    kind: str,
    key: str,
    scope: str,
    form_url: str,
    texts: Mapping[str, StrOrPromise],
    save: Callable[[dict[str, Any]], HttpResponse],
    form_page: Callable[[forms.GovForm, int], HttpResponse],
) -> HttpResponse:
    """Check your answers (decision 0045): the answers kept in the session under ``key`` in words, each
    with a way back to ``form_url`` to change it; the confirmation, signed for ``scope`` and these
    answers, has ``save`` record them, only if they are the ones the page showed. A rule of the register
    broken meanwhile shows the form again (``form_page``), with the answers kept."""
    facts = request.session.get(key)
    if facts is None:
        messages.info(request, _("There are no answers to check yet. Fill in the form first."))
        return redirect(form_url)
    form_class = forms.DECLARATION_FORMS[kind]
    status = 200
    if request.method == "POST":
        check = forms.CheckForm(request.POST, kind=scope, facts=facts)
        if check.is_valid():
            try:
                response = save(facts)
            except DomainError as error:
                # The register changed since the answers were checked: the form says what to change.
                form = form_class(forms.form_data(form_class, facts))
                form.is_valid()
                return form_page(form, form.add_domain_error(error))
            del request.session[key]
            return response
        tampered = any(error.code == "tampered" for error in check.errors.as_data().get("answers", []))
        status = 400 if tampered else 409
        # A fresh confirmation, for the answers now kept, under the reason the last one was refused.
        errors = check.error_summary()
        check = forms.CheckForm(kind=scope, facts=facts)
    else:
        check = forms.CheckForm(kind=scope, facts=facts)
        errors = []
    blank = form_class()
    rows = [
        {**row, "change_url": f"{form_url}?{urlencode({'change': row['name']})}#{blank.anchor(row['name'])}"}
        for row in declared_rows(kind, facts, only=form_class.base_fields)
    ]
    context = {"texts": texts, "rows": rows, "form": check, "errors": errors, "back_url": f"{form_url}?change"}
    return render(request, "registry/declare_check.html", context, status=status)


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def declare_check(request: HttpRequest, principal: Principal, slug: str) -> HttpResponse:
    """Check your answers: every answer in words with a way back to change it; "Declare the ..." records
    the declaration from the answers kept in the session, only if they are the ones this page showed."""
    page = _PAGE_BY_SLUG.get(slug)
    if page is None:
        raise Http404

    def save(facts: dict[str, Any]) -> HttpResponse:
        declaration = services.declaration_parse(kind=page.kind, data=facts)
        event = services.event_declare(declaration=declaration, actor=principal)
        messages.success(request, _("Declaration received. Check it, then validate it."))
        return redirect("registry:event", event_id=event.pk)

    texts = {
        "hint": page.heading,
        "title": _("Check the answers before declaring"),
        "now": _("Now make the declaration"),
        "note": _(
            "Nothing is recorded until you declare. The declaration then waits in the queue to be validated and "
            "registered."
        ),
        "confirm": page.confirm,
    }
    return _check_answers(
        request,
        kind=page.kind,
        key=_draft_key(page.kind),
        scope=page.kind,
        form_url=reverse(page.url_name),
        texts=texts,
        save=save,
        form_page=lambda form, status: _form_page(request, page, form, status=status),
    )


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def declare_birth(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _declare(request, principal, kind=EventKind.BIRTH)


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def declare_death(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _declare(request, principal, kind=EventKind.DEATH)


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def declare_marriage(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _declare(request, principal, kind=EventKind.MARRIAGE)


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def declare_address(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _declare(request, principal, kind=EventKind.ADDRESS_CHANGE)


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def declare_divorce(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _declare(request, principal, kind=EventKind.DIVORCE)


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def declare_name_change(request: HttpRequest, principal: Principal) -> HttpResponse:
    return _declare(request, principal, kind=EventKind.NAME_CHANGE)


# ---------------------------------------------------------------------------------------------
# One declaration and the decisions on it


def _actions(event: LifeEvent, principal: Principal) -> set[str]:
    # The buttons follow the services' own table of transitions, so a page never offers what they refuse.
    actions = services.event_actions(event)
    if not principal.can("event.decide"):
        actions -= {"validate", "register", "reject", "request_correction"}
    if not principal.can("certificate.issue") or event.kind not in services.CERTIFIABLE:
        actions.discard("certify")
    # Corrected facts come from the declarant: through the API, or typed at the counter by staff who
    # may declare.
    if not principal.can("event.declare"):
        actions.discard("correct")
    return actions


def _state_label(state: str) -> str:
    return str(EventState(state).label) if state in EventState.values else state


def _event_page(
    request: HttpRequest,
    principal: Principal,
    event_id: int,
    *,
    failed: str = "",
    form: forms.GovForm | None = None,
    status: int = 200,
) -> HttpResponse:
    event = selectors.event_get(event_id=event_id, actor=principal)
    certificates = sorted(event.certificates.all(), key=lambda c: c.issued_at, reverse=True)
    # Every action form starts empty, except the one just sent back with its error and its text.
    action_forms: dict[str, forms.GovForm] = {
        "reject": forms.RejectForm(auto_id="reject-%s"),
        "request_correction": forms.NoteForm(auto_id="correction-%s"),
        **{f"revoke-{c.serial}": forms.RevokeForm(auto_id=f"revoke-{c.serial}-%s") for c in certificates},
    }
    if form is not None and failed in action_forms:
        action_forms[failed] = form
    context = {
        "event": event,
        "summary": _summary(event.kind, event.data),
        "facts": declared_rows(event.kind, event.data),
        "transitions": [
            {"step": t, "from": _state_label(t.from_state), "to": _state_label(t.to_state)}
            for t in sorted(event.transitions.all(), key=lambda t: t.at)
        ],
        "duplicates": list(event.duplicates.all()),
        "certificates": [
            {
                "certificate": c,
                "payload": QR_PREFIX + c.credential,
                "valid": c.status == CertificateStatus.VALID,
                "revoke_form": action_forms[f"revoke-{c.serial}"],
            }
            for c in certificates
        ],
        "actions": _actions(event, principal),
        "can_decide": principal.can("event.decide"),
        "can_issue": principal.can("certificate.issue"),
        "reject_form": action_forms["reject"],
        "correction_form": action_forms["request_correction"],
        "errors": form.error_summary() if form is not None else [],
    }
    return render(request, "registry/event.html", context, status=status)


@require_GET
@office_page()
def event(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    return _event_page(request, principal, event_id)


def _decide(
    request: HttpRequest,
    principal: Principal,
    event_id: int,
    *,
    form: forms.GovForm,
    failed: str,
    do: Callable[[dict[str, Any]], str],
) -> HttpResponse:
    """Run one decision on a declaration; on success say what happened and go back to it, on failure show
    the declaration again with the reason next to the form that was sent."""
    if form.is_valid():
        try:
            message = do(form.cleaned_data)
        except DomainError as error:
            status = form.add_domain_error(error)
        else:
            messages.success(request, message)
            return redirect("registry:event", event_id=event_id)
    else:
        status = 200
    return _event_page(request, principal, event_id, failed=failed, form=form, status=status)


@require_POST
@office_page()
def event_validate(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        services.event_validate(event_id=event_id, actor=principal)
        return _("The declaration is validated. It can now be registered.")

    return _decide(request, principal, event_id, form=forms.GovForm(request.POST), failed="validate", do=do)


@require_POST
@office_page()
def event_register(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        event = services.event_register(event_id=event_id, actor=principal)
        return _("Registered with number %(number)s.") % {"number": event.number}

    return _decide(request, principal, event_id, form=forms.GovForm(request.POST), failed="register", do=do)


@require_POST
@office_page()
def event_reject(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        services.event_reject(event_id=event_id, reason=data["reason"], actor=principal)
        return _("The declaration is rejected. The declarant is told the reason.")

    form = forms.RejectForm(request.POST, auto_id="reject-%s")
    return _decide(request, principal, event_id, form=form, failed="reject", do=do)


@require_POST
@office_page()
def event_request_correction(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        services.event_request_correction(event_id=event_id, note=data["note"], actor=principal)
        return _("A correction is requested from the declarant.")

    form = forms.NoteForm(request.POST, auto_id="correction-%s")
    return _decide(request, principal, event_id, form=form, failed="request_correction", do=do)


@require_POST
@office_page()
def duplicate_resolve(request: HttpRequest, principal: Principal, event_id: int, candidate_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        services.duplicate_resolve(candidate_id=candidate_id, resolution=data["resolution"], actor=principal)
        if data["resolution"] == "duplicate":
            return _("Marked as a duplicate. The declaration is rejected.")
        return _("Marked as not a duplicate.")

    form = forms.ResolutionForm(request.POST, auto_id=f"duplicate-{candidate_id}-%s")
    return _decide(request, principal, event_id, form=form, failed=f"duplicate-{candidate_id}", do=do)


def _correction_key(event_id: int) -> str:
    return f"registry.correct.{event_id}"


def _correctable(principal: Principal, event_id: int) -> LifeEvent:
    event = selectors.event_get(event_id=event_id, actor=principal)
    if "correct" not in services.event_actions(event):
        raise Conflict("not_correctable", _("Only a declaration sent back for correction can be corrected."))
    return event


def _correction_page(request: HttpRequest, event: LifeEvent, form: forms.GovForm, *, status: int = 200) -> HttpResponse:
    context = {
        "form": form,
        "event": event,
        "settlements": settlement_names(),
        "errors": form.error_summary() if form.is_bound else [],
        "heading": _("Correct the declaration"),
        "button": _("Continue"),
        "back_url": reverse("registry:event", kwargs={"event_id": event.pk}),
        "action": reverse("registry:event_correct", kwargs={"event_id": event.pk}),
    }
    return render(request, "registry/declare_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def event_correct(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    """The declarant's corrected facts, typed by staff at the counter into the declaration's own form,
    filled with what was declared. Valid answers, checked against the register (every problem at once),
    are kept in the session and shown on the correction's check page; nothing is saved here."""
    event = _correctable(principal, event_id)
    form_class = forms.DECLARATION_FORMS[event.kind]
    key = _correction_key(event.pk)
    if request.method != "POST":
        draft = request.session.get(key)
        if draft is not None and "change" in request.GET:
            return _correction_page(request, event, form_class(initial=draft))
        return _correction_page(request, event, form_class(initial=event.data))
    form = form_class(request.POST)
    if form.is_valid():
        try:
            declaration = services.declaration_parse(kind=event.kind, data={**event.data, **form.cleaned_data})
        except DomainError as error:
            return _correction_page(request, event, form, status=form.add_domain_error(error))
        problems = services.declaration_problems(declaration)
        if not problems:
            request.session[key] = declaration.model_dump(mode="json")
            return redirect("registry:event_correct_check", event_id=event.pk)
    else:
        _dates_check(form)
        uins = {name: value for name, value in form.cleaned_data.items() if name.endswith("uin")}
        problems = services.uins_unregistered(uins)
    return _correction_page(request, event, form, status=_problems_show(form, problems))


@require_http_methods(["GET", "POST"])
@office_page(permission="event.declare")
def event_correct_check(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    """The correction's answers in words, as a declaration's are checked (decision 0045); "Save the
    correction" saves the answers kept in the session, only if they are the ones this page showed."""
    event = _correctable(principal, event_id)

    def save(facts: dict[str, Any]) -> HttpResponse:
        services.event_correct(event_id=event.pk, data=facts, actor=principal)
        messages.success(request, _("The correction is recorded. Check it, then validate it."))
        return redirect("registry:event", event_id=event.pk)

    texts = {
        "hint": _("Correct the declaration"),
        "title": _("Check the correction before saving it"),
        "now": _("Now save the correction"),
        "note": _(
            "Nothing is changed until you save. The corrected declaration then waits in the queue to be validated."
        ),
        "confirm": _("Save the correction"),
    }
    return _check_answers(
        request,
        kind=event.kind,
        key=_correction_key(event.pk),
        scope=f"{event.kind}.correction.{event.pk}",
        form_url=reverse("registry:event_correct", kwargs={"event_id": event.pk}),
        texts=texts,
        save=save,
        form_page=lambda form, status: _correction_page(request, event, form, status=status),
    )


# ---------------------------------------------------------------------------------------------
# Certificates


@require_POST
@office_page()
def certificate_issue(request: HttpRequest, principal: Principal, event_id: int) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        certificate = services.certificate_issue(event_id=event_id, actor=principal)
        return _("Certificate %(serial)s issued.") % {"serial": certificate.serial}

    return _decide(request, principal, event_id, form=forms.GovForm(request.POST), failed="certify", do=do)


@require_POST
@office_page()
def certificate_revoke(request: HttpRequest, principal: Principal, event_id: int, serial: str) -> HttpResponse:
    def do(data: dict[str, Any]) -> str:
        services.certificate_revoke(serial=serial, reason=data["reason"], actor=principal)
        return _("Certificate %(serial)s revoked. Anyone who checks it is told so.") % {"serial": serial}

    form = forms.RevokeForm(request.POST, auto_id=f"revoke-{serial}-%s")
    return _decide(request, principal, event_id, form=form, failed=f"revoke-{serial}", do=do)


@require_GET
@office_page()
def certificate_download(request: HttpRequest, principal: Principal, serial: str) -> HttpResponse:
    certificate = selectors.certificate_get(serial=serial, actor=principal)
    response = HttpResponse(certificate_pdf(certificate), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{certificate.serial}.pdf"'
    return response


@require_GET
@office_page()
def certificate_qr(request: HttpRequest, principal: Principal, serial: str) -> HttpResponse:
    certificate = selectors.certificate_get(serial=serial, actor=principal)
    image = render_qr_png(verification_url(QR_PREFIX + certificate.credential))
    response = HttpResponse(image, content_type="image/png")
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ---------------------------------------------------------------------------------------------
# Persons


@require_GET
@office_page(permission="person.read")
def search(request: HttpRequest, principal: Principal) -> HttpResponse:
    form = forms.SearchForm(request.GET or None)
    context: dict[str, object] = {"form": form, "results": None}
    status = 200
    if form.is_bound and form.is_valid():
        purpose = form.purpose()
        uin = form.cleaned_data.get("uin")
        if uin:
            return redirect(_person_url(uin, purpose))
        try:
            page = selectors.person_search(
                name=form.cleaned_data["query"],
                actor=principal,
                purpose=purpose,
                cursor=form.cleaned_data["cursor"] or None,
            )
        except DomainError as error:
            status = form.add_domain_error(error)
        else:
            following = {**request.GET.dict(), "cursor": page.next_cursor}
            context["results"] = [
                {**item.model_dump(mode="json"), "url": _person_url(item.uin, purpose)} for item in page.items
            ]
            context["next_url"] = f"?{urlencode(following)}" if page.next_cursor else None
            context["first_page"] = not form.cleaned_data["cursor"]
    context["errors"] = form.error_summary() if form.is_bound else []
    return render(request, "registry/search.html", context, status=status)


def _display(value: object) -> str:
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value) or "—"
    return str(value)


def _record_rows(record: PersonFacts) -> list[tuple[StrOrPromise, str]]:
    """A record as label and readable value, in the order a registrar reads a register entry."""
    sexes = dict(forms.SEX_CHOICES)
    place = ", ".join(p for p in (record.birth_settlement, record.birth_parish) if p)
    address = ", ".join(p for p in (record.address_line, record.address_settlement, record.address_parish) if p)
    rows: list[tuple[StrOrPromise, str]] = [
        (forms.FIELD_LABELS["uin"], record.uin),
        (forms.FIELD_LABELS["given_names"], record.given_names),
        (forms.FIELD_LABELS["family_name"], record.family_name),
        (forms.FIELD_LABELS["former_names"], _display(record.former_names)),
        (forms.FIELD_LABELS["sex"], str(sexes.get(record.sex, record.sex))),
        (forms.FIELD_LABELS["birth_date"], _display(record.birth_date)),
        (forms.FIELD_LABELS["birth_settlement"], place or "—"),
        (forms.FIELD_LABELS["citizenship"], _display(record.citizenship)),
        (forms.FIELD_LABELS["address_line"], address or "—"),
        (forms.FIELD_LABELS["address_since"], _display(record.address_since)),
        (forms.FIELD_LABELS["marital_status"], _choice(MaritalStatus, record.marital_status)),
        (forms.FIELD_LABELS["status"], _choice(PersonStatus, record.status)),
    ]
    if record.death_date:
        rows.append((forms.FIELD_LABELS["death_date"], _display(record.death_date)))
    return rows


def _choice(choices: type[models.TextChoices], value: str) -> str:
    return str(choices(value).label) if value in choices.values else _display(value)


def _versions(history: PersonHistory) -> list[dict[str, object]]:
    """Each version with what it changed (field, before, after), newest first."""
    rows = []
    previous: PersonFacts | None = None
    for version in history.versions:
        data = version.data
        changes = (
            [
                (forms.FIELD_LABELS.get(k, k), _display(getattr(previous, k, None)), _display(getattr(data, k, None)))
                for k in version.changed
            ]
            if previous is not None
            else []
        )
        rows.append({**version.model_dump(exclude={"data"}), "changes": changes})
        previous = data
    return rows[::-1]


def _names(history: PersonHistory) -> list[dict[str, object]]:
    """The names the person has had, each from the date it took effect."""
    names: list[dict[str, object]] = []
    for version in history.versions:
        given, family = version.data.given_names, version.data.family_name
        if not names or (names[-1]["given_names"], names[-1]["family_name"]) != (given, family):
            names.append(
                {
                    "given_names": given,
                    "family_name": family,
                    "since": version.effective_date,
                    "reason": version.reason,
                }
            )
    return names


def _purpose_page(request: HttpRequest, uin: str, form: forms.PurposeForm) -> HttpResponse:
    return render(request, "registry/person_purpose.html", {"form": form, "uin": uin, "errors": form.error_summary()})


@require_GET
@office_page(permission="person.read")
def person(request: HttpRequest, principal: Principal, uin: str) -> HttpResponse:
    purpose = request.GET.get("purpose", "").strip()
    purpose_form = forms.PurposeForm(request.GET if "purpose_reason" in request.GET else None)
    if not purpose and purpose_form.is_bound and purpose_form.is_valid():
        purpose = purpose_form.purpose()
    if not purpose:
        return _purpose_page(request, uin, purpose_form)
    try:
        record = selectors.person_view(uin=uin, actor=principal, purpose=purpose)
    except DomainError as error:
        if error.field != "purpose":
            raise
        retry = forms.PurposeForm({})
        retry.is_valid()
        return _purpose_page(request, uin, retry)
    history = selectors.person_history(uin=uin, actor=principal, purpose=purpose)
    as_of_form = forms.AsOfForm(request.GET if any(k.startswith("as_of_") for k in request.GET) else None)
    as_of_record = None
    if as_of_form.is_bound and as_of_form.is_valid():
        try:
            as_of_record = selectors.person_view(
                uin=uin, actor=principal, purpose=purpose, as_of=as_of_form.cleaned_data["as_of"]
            )
        except DomainError as error:
            as_of_form.add_domain_error(error)
    context = {
        "record": record,
        "rows": _record_rows(record),
        "as_of_rows": _record_rows(as_of_record) if as_of_record else None,
        "purpose": purpose,
        "mother_url": _person_url(record.mother_uin, purpose) if record.mother_uin else None,
        "father_url": _person_url(record.father_uin, purpose) if record.father_uin else None,
        "names": _names(history),
        "versions": _versions(history),
        "as_of_form": as_of_form,
        "as_of_record": as_of_record,
        "errors": as_of_form.error_summary() if as_of_form.is_bound else [],
        "can_correct": principal.can("person.correct"),
        "correct_url": f"{reverse('registry:person_correct', kwargs={'uin': uin})}?{urlencode({'purpose': purpose})}",
    }
    return render(request, "registry/person.html", context)


@require_http_methods(["GET", "POST"])
@office_page(permission="person.correct")
def person_correct(request: HttpRequest, principal: Principal, uin: str) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = forms.CorrectionForm(request.POST)
        if form.is_valid():
            try:
                version = services.person_correct(
                    uin=uin, changes=form.changes(), reason=form.cleaned_data["reason"], actor=principal
                )
            except DomainError as error:
                status = form.add_domain_error(error)
            else:
                messages.success(request, _("Record corrected: this is version %(n)s.") % {"n": version.version})
                return redirect(_person_url(uin, form.cleaned_data["purpose"] or forms.PURPOSES["correction"]))
    else:
        purpose = request.GET.get("purpose", "").strip()
        if not purpose:
            return redirect("registry:person", uin=uin)
        record = selectors.person_view(uin=uin, actor=principal, purpose=purpose)
        form = forms.CorrectionForm.for_record(record, purpose=purpose)
    context = {"form": form, "uin": uin, "errors": form.error_summary() if form.is_bound else []}
    return render(request, "registry/person_correct.html", context, status=status)
