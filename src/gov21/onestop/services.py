"""The service engine: an application from start to output.

draft → (consent, pre-fill, answers) → submitted → [awaiting payment] → automatic checks →
approved automatically | with an officer ⇄ more information → approved | refused → completed.

Every change of state is one transaction that records a :class:`Transition` with who made it;
notifications are written to the outbox in the same transaction and sent after it commits."""

from __future__ import annotations

import logging
import re
import secrets
from datetime import date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import transaction
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from gov21.audit.contracts import access_action_declare, access_record
from gov21.core.contact import email_normalised, phone_normalised
from gov21.core.errors import Conflict, DomainError, Forbidden, NotFound
from gov21.core.geography import parishes
from gov21.core.ids import uin_rejection_reason
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_client, agency_service, exchange_json
from gov21.onestop import actions, definitions, notify, payments, rules
from gov21.onestop.definitions import text
from gov21.onestop.models import (
    Application,
    DataConsent,
    Offer,
    ReviewDecision,
    ReviewRequest,
    ServiceDefinition,
    Transition,
)
from gov21.onestop.published import application_event

logger = logging.getLogger(__name__)

# The service engine's information system on the exchange: every pre-fill and action goes out as it.
ENGINE = ("PORTAL", "services")
# The "virtual workforce": the actor recorded for decisions the rules made.
SYSTEM_ACTOR = "gov21 automatic decision"
_REFERENCE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
_PLACEHOLDER = re.compile(r"\{([a-z_]+(?:\.[a-z_]+)?)\}")
S = Application.State
# A service definition's ``review`` may set these; otherwise a refusal may be reviewed on request
# within 30 days, and an officer decides the review within 10 working days.
REVIEW_REQUEST_DAYS = 30
REVIEW_WORKING_DAYS = 10
REVIEW_TEXT_LIMIT = 4000


CASE_READ = access_action_declare("case.read", gettext_lazy("An officer opened your application"))


def engine_client() -> str:
    return agency_client(*ENGINE)


def _reference() -> str:
    return "A-" + "".join(secrets.choice(_REFERENCE_ALPHABET) for _i in range(8))


def definition_of(application: Application) -> dict[str, Any]:
    return dict(application.service.definition)


def _move(application: Application, *, to: str, actor: str, actor_kind: str, note: str = "") -> None:
    now = timezone.now()
    Transition.objects.create(
        application=application,
        from_state=application.state,
        to_state=to,
        actor=actor[:150],
        actor_kind=actor_kind,
        note=note,
        at=now,
    )
    application.state = to
    application.updated_at = now
    application_event(application, to=to, actor_kind=actor_kind, at=now)


def _notify(application: Application, key: str, **params: str) -> None:
    template = definition_of(application).get("notifications", {}).get(key)
    if template is None:
        return
    values = {"reference": application.reference, "name": _subject_name(application), **application_params(application)}
    values.update(params)
    subject, body = notify.template_render(template=template, params=values, language=application.language)
    _notify_applicant(application, key, subject=subject, body=body)


def _notify_applicant(application: Application, key: str, *, subject: str, body: str) -> None:
    """Queue a message to the applicant about their application: inbox, and email where they gave one."""
    notify.notification_queue(
        uin=application.applicant_uin,
        template=f"{application.service.code}.{key}",
        subject=subject,
        body=body,
        link=f"/my/applications/{application.reference}",
        language=application.language,
        email=str(application.answers.get("email") or ""),
    )


def _subject_name(application: Application) -> str:
    a, v = application.answers, application.verified
    if a.get("given_names"):
        return f"{a['given_names']} {a.get('family_name', '')}".strip()
    for key in ("deceased", "child", "person"):
        record = v.get(key) or {}
        if record.get("given_names"):
            return f"{record['given_names']} {record['family_name']}"
    return ""


def application_params(application: Application) -> dict[str, str]:
    """Values the notification templates of a service may use."""
    values = {k: str(v) for k, v in application.answers.items() if isinstance(v, str | int)}
    child = application.verified.get("child") or {}
    if child.get("given_names"):
        values["child_name"] = f"{child['given_names']} {child['family_name']}"
    values.update({k: str(v) for k, v in (application.verified.get("_output") or {}).items()})
    values.setdefault("reasons", "; ".join(text(r.get("reason"), application.language) for r in application.reasons))
    values.setdefault("message", application.info_request)
    return values


# --- starting, consent and pre-fill ------------------------------------------------------------------


@transaction.atomic
def application_start(
    *, service: str, uin: str, user_id: int | None, language: str = "en", offer: Offer | None = None
) -> Application:
    row = definitions.active(service)
    if row.definition.get("proactive") and offer is None:
        raise DomainError(
            "offered_only",
            _("This service is offered to you when it applies: look in your account for the offer."),
            status=409,
        )
    now = timezone.now()
    application = Application.objects.create(
        reference=_reference(),
        service=row,
        applicant_uin=uin,
        applicant_user=user_id,
        language=language if language in definitions.LANGUAGES else "en",
        agency=row.definition["agency"],
        offer=offer,
        answers=dict(offer.facts.get("answers", {})) if offer is not None else {},
        created_at=now,
        updated_at=now,
    )
    Transition.objects.create(
        application=application, from_state="", to_state=S.DRAFT, actor=uin, actor_kind="citizen", at=now
    )
    return application


def _fill(template: str, application: Application) -> str | None:
    """A pre-fill path with its placeholders filled, or None while an answer it needs is missing."""
    missing = False

    def value(match: re.Match[str]) -> str:
        nonlocal missing
        key = match.group(1)
        if key == "uin":
            return application.applicant_uin
        if key.startswith("answers."):
            answer = application.answers.get(key.removeprefix("answers."))
            if answer in (None, ""):
                missing = True
                return ""
            return quote(str(answer), safe="")
        missing = True
        return ""

    filled = _PLACEHOLDER.sub(value, template)
    return None if missing else filled


def _annotated(record: Any, today: date) -> Any:
    """A registry answer with the facts rules need computed once: a person's age today."""
    if isinstance(record, dict) and record.get("birth_date"):
        record = dict(record)
        record["age"] = rules.age_on(str(record["birth_date"]), today)
    return record


def _fetch(application: Application, source: dict[str, Any]) -> Any:
    path = _fill(source["path"], application)
    if path is None:
        return None
    path, _sep, query = path.partition("?")
    member, subsystem, service = source["service"].split("/")
    return exchange_json(
        client=engine_client(),
        service=agency_service(member, subsystem, service),
        path=path,
        query=query,
        user_id=application.applicant_uin,
        issue=application.reference,
    )


def _prefill(application: Application, *, stage: str) -> None:
    """Fetch the facts of each source whose placeholders can be filled at this stage: the sources
    that name only the applicant at the start, those that need answers at submission. The fetch
    goes through the exchange as the engine, with the application as the purpose, so it is logged
    at both ends and the citizen sees it among the uses of their data."""
    today = timezone.localdate()
    verified = dict(application.verified)
    for source in definition_of(application).get("prefill", []):
        needs_answers = "{answers." in source["path"]
        if (stage == "start") == needs_answers:
            continue
        try:
            data = _fetch(application, source)
        except DomainError as error:
            if error.status == 404 and (source.get("optional") or needs_answers):
                # A person not found is a fact too: the rules that need it fail and say so.
                verified[source["name"]] = {"_missing": True}
                continue
            raise
        if data is None:
            verified[source["name"]] = {"_missing": True}
            continue
        verified[source["name"]] = _annotated(data, today)
        verified.setdefault("_sources", {})[source["name"]] = {
            "service": source["service"],
            "at": timezone.now().isoformat(),
        }
    application.verified = verified


def _answers_from_registries(application: Application) -> None:
    """Fill in each answer a registry already gave (a question's ``answer_from``), so the person
    confirms it instead of typing it again; an answer they gave is kept."""
    context = rule_context(application)
    answers = dict(application.answers)
    for question in definition_of(application).get("questions", []):
        expr = question.get("answer_from")
        if not expr or answers.get(question["id"]) not in (None, ""):
            continue
        try:
            value = rules.evaluate(expr, context)
        except Exception:
            logger.info("answer_from of %s gave nothing for %s", question["id"], application.reference)
            continue
        if isinstance(value, str) and value:
            answers[question["id"]] = value
    application.answers = answers


@transaction.atomic
def application_consent(*, application: Application, uin: str) -> Application:
    """The applicant agrees to have the registries' facts fetched; the consent is recorded, then
    the facts are fetched. Eligibility is checked on them at once."""
    application = _locked(application.pk, uin=uin)
    if application.state != S.DRAFT:
        raise Conflict("not_draft", _("This application is already sent."))
    sources = [s["name"] for s in definition_of(application).get("prefill", [])]
    DataConsent.objects.create(uin=uin, application=application, sources=sources, given_at=timezone.now())
    application.consent_at = timezone.now()
    _prefill(application, stage="start")
    _answers_from_registries(application)
    application.updated_at = timezone.now()
    application.save()
    return application


def eligibility(application: Application) -> list[rules.Outcome]:
    return rules.check_all(definition_of(application).get("eligibility", []), rule_context(application))


def rule_context(application: Application) -> dict[str, Any]:
    context: dict[str, Any] = {k: v for k, v in application.verified.items() if not k.startswith("_")}
    context["answers"] = dict(application.answers)
    context["today"] = timezone.localdate().isoformat()
    context["applicant"] = {"uin": application.applicant_uin}
    return context


# --- questions ------------------------------------------------------------------------------------


def _with_options(question: dict[str, Any], context: dict[str, Any]) -> dict[str, Any]:
    """``question`` with the options its ``options_from`` gives from the facts fetched (each a map
    with a value and a label) added to those it lists; none when the facts do not give a list."""
    expr = question.get("options_from")
    if not expr:
        return question
    try:
        found = rules.evaluate(expr, context)
    except Exception:
        found = []
    options = list(question.get("options", []))
    for item in found if isinstance(found, list) else []:
        if isinstance(item, dict) and item.get("value") not in (None, ""):
            label = item.get("label") or item["value"]
            options.append(
                {"value": str(item["value"]), "label": label if isinstance(label, dict) else {"en": str(label)}}
            )
    return {**question, "options": options}


def questions_visible(application: Application) -> list[dict[str, Any]]:
    context = rule_context(application)
    return [
        _with_options(q, context)
        for q in definition_of(application)["questions"]
        if rules.condition(q.get("when"), context)
    ]


def question_get(application: Application, question_id: str) -> dict[str, Any]:
    for q in definition_of(application)["questions"]:
        if q["id"] == question_id:
            return _with_options(dict(q), rule_context(application))
    raise NotFound("question_not_found", _("This question is not part of the service."), field="question")


def _clean(question: dict[str, Any], raw: Any, language: str) -> Any:
    """The answer to one question, cleaned; a DomainError with a message for the person otherwise."""
    qid, kind = question["id"], question["type"]
    value = "" if raw is None else str(raw).strip()
    if "\x00" in value:
        raise DomainError("invalid_answer", _("The answer contains characters we cannot accept."), field=qid)
    if not value:
        if question.get("required", True):
            label = text(question["label"], language).rstrip("?")
            raise DomainError("answer_required", _("Answer this question: %(label)s") % {"label": label}, field=qid)
        return ""
    if question.get("normalise") == "upper":
        value = value.upper()
    elif question.get("normalise") == "lower":
        value = value.lower()
    limit = question.get("max_length", 2000 if kind == "textarea" else 200)
    if len(value) > limit:
        raise DomainError(
            "answer_too_long", _("The answer must be %(limit)s characters or fewer.") % {"limit": limit}, field=qid
        )
    if kind in ("text", "textarea") and question.get("pattern") and not re.fullmatch(question["pattern"], value):
        hint = text(question.get("hint"), language)
        raise DomainError("answer_format", (_("Enter it in the right format.") + " " + hint).strip(), field=qid)
    if kind == "date":
        try:
            value = date.fromisoformat(value).isoformat()
        except ValueError as exc:
            raise DomainError("answer_date", _("Enter a real date, with a day, month and year."), field=qid) from exc
    elif kind == "choice":
        if value not in {o["value"] for o in question["options"]}:
            raise DomainError("answer_choice", _("Choose one of the options."), field=qid)
    elif kind == "yesno":
        if value not in ("yes", "no"):
            raise DomainError("answer_choice", _("Choose yes or no."), field=qid)
    elif kind == "parish":
        if value not in {code for code, _ in parishes()}:
            raise DomainError("answer_choice", _("Choose a parish from the list."), field=qid)
    elif kind == "uin":
        value = value.replace(" ", "")
        reason = uin_rejection_reason(value)
        if reason:
            raise DomainError(
                "answer_uin", _("Enter a national identity number of 10 digits.") + " " + reason, field=qid
            )
    elif kind == "email":
        if email_normalised(value) is None:
            raise DomainError("answer_email", _("Enter an email address like name@example.com."), field=qid)
    elif kind == "phone":
        if phone_normalised(value) is None:
            raise DomainError("answer_phone", _("Enter a phone number, like +1 767 555 0100."), field=qid)
    elif kind == "number":
        try:
            number = float(value)
        except ValueError as exc:
            raise DomainError("answer_number", _("Enter a number."), field=qid) from exc
        if "minimum" in question and number < question["minimum"]:
            raise DomainError("answer_number", _("Enter %(n)s or more.") % {"n": question["minimum"]}, field=qid)
        if "maximum" in question and number > question["maximum"]:
            raise DomainError("answer_number", _("Enter %(n)s or less.") % {"n": question["maximum"]}, field=qid)
        return int(number) if number.is_integer() else number
    return value


@transaction.atomic
def application_answer(*, application: Application, uin: str, question_id: str, raw: Any) -> Application:
    application = _locked(application.pk, uin=uin)
    if application.state not in (S.DRAFT,):
        raise Conflict("not_draft", _("This application is already sent; its answers cannot change."))
    question = question_get(application, question_id)
    value = _clean(question, raw, application.language)
    answers = dict(application.answers)
    answers[question_id] = value
    verify = question.get("verify")
    if verify and value != "":
        probe = rule_context(application)
        probe["answers"] = answers
        outcome = rules.check(
            {"id": question_id, "expr": verify["expr"], "pass": verify["message"], "fail": verify["message"]}, probe
        )
        if not outcome.passed:
            raise DomainError("answer_refused", text(verify["message"], application.language), field=question_id)
    application.answers = answers
    application.updated_at = timezone.now()
    application.save(update_fields=["answers", "updated_at"])
    return application


def unanswered(application: Application) -> list[dict[str, Any]]:
    return [
        q
        for q in questions_visible(application)
        if q.get("required", True) and application.answers.get(q["id"]) in (None, "")
    ]


# --- submission and decisions ----------------------------------------------------------------------


def _locked(pk: int, *, uin: str | None = None) -> Application:
    application = Application.objects.select_for_update().select_related("service").filter(pk=pk).first()
    if application is None or (uin is not None and application.applicant_uin != uin):
        raise NotFound("application_not_found", _("There is no such application on your account."))
    return application


@transaction.atomic
def application_submit(*, application: Application, uin: str, access_token: str = "") -> Application:
    """Send the application. ``access_token`` is the citizen's live access token from their sign-in:
    an action that another agency performs on the citizen's own word (their change of address)
    carries the identity provider's assertion made from it; without it the agency only records a
    declaration for its officers to decide."""
    application = _locked(application.pk, uin=uin)
    if application.state != S.DRAFT:
        raise Conflict("already_submitted", _("This application is already sent."))
    if application.consent_at is None:
        raise Conflict("no_consent", _("Agree to the use of your registry data first."))
    missing = unanswered(application)
    if missing:
        raise DomainError(
            "answers_missing",
            _("Answer every question first: %(label)s") % {"label": text(missing[0]["label"], application.language)},
            field=missing[0]["id"],
        )
    # Drop answers to questions that are no longer shown (an answer changed the route).
    shown = {q["id"] for q in questions_visible(application)}
    application.answers = {k: v for k, v in application.answers.items() if k in shown}
    _prefill(application, stage="submit")
    definition = definition_of(application)
    now = timezone.now()
    application.submitted_at = now
    application.due_at = now + timedelta(days=definition["sla_days"])
    _move(application, to=S.SUBMITTED, actor=uin, actor_kind="citizen")
    _notify(application, "submitted")
    if definition.get("second_party") and not application.verified.get("_confirmed"):
        # The rules run now, so the applicant learns at once what the other party's answer cannot
        # change (a parcel that is not theirs); they run again when the other party has confirmed.
        outcomes = rules.check_all(
            definition.get("eligibility", []) + definition.get("rules", []), rule_context(application)
        )
        application.checks = [o.as_json() for o in outcomes]
        if not all(o.passed for o in outcomes):
            # Nobody is asked to confirm what cannot go through (a buyer who has died, a parcel
            # that is not the applicant's): an officer looks at it, and no fee is taken.
            _move(
                application,
                to=S.IN_REVIEW,
                actor=SYSTEM_ACTOR,
                actor_kind="system",
                note="; ".join(text(o.reason, "en") for o in outcomes if not o.passed),
            )
            application.save()
            return application
        _move(
            application,
            to=S.AWAITING_CONFIRMATION,
            actor=SYSTEM_ACTOR,
            actor_kind="system",
            note="Waiting for the other party to confirm",
        )
        _notify_second_party(application)
        application.save()
        return application
    _onwards(application, access_token=access_token)
    application.save()
    return application


def _onwards(application: Application, *, access_token: str) -> None:
    """After submission (and the other party's confirmation): the fee, then the checks."""
    definition = definition_of(application)
    if definition.get("fee") and not payments.application_paid(application=application):
        # The checks run now as well, so the citizen learns before paying what an officer will
        # have to look at (a business name already taken); they run again once the fee is paid.
        outcomes = rules.check_all(
            definition.get("eligibility", []) + definition.get("rules", []), rule_context(application)
        )
        application.checks = [o.as_json() for o in outcomes]
        _move(application, to=S.AWAITING_PAYMENT, actor=SYSTEM_ACTOR, actor_kind="system", note="Fee to pay")
        return
    _process(application, access_token=access_token)


# --- the other party of a service that needs two (the buyer of land confirms the sale) -------------


def second_party_uin(application: Application) -> str:
    """The UIN of the person the service's ``second_party`` question names; empty without one."""
    spec = definition_of(application).get("second_party")
    return str(application.answers.get(spec["question"]) or "") if spec else ""


def _notify_second_party(application: Application) -> None:
    uin = second_party_uin(application)
    template = definition_of(application).get("notifications", {}).get("confirmation_requested")
    if not uin or template is None:
        return
    values = {"reference": application.reference, **application_params(application)}
    person = application.verified.get("person") or {}
    values["applicant_name"] = f"{person.get('given_names', '')} {person.get('family_name', '')}".strip()
    subject, body = notify.template_render(template=template, params=values, language=application.language)
    notify.notification_queue(
        uin=uin,
        template=f"{application.service.code}.confirmation_requested",
        subject=subject,
        body=body,
        link=f"/my/confirmations/{application.reference}",
        language=application.language,
    )


def application_for_second_party(*, reference: str, uin: str, lock: bool = False) -> Application:
    """An application that names ``uin`` as its other party; NotFound for anyone else."""
    rows = Application.objects.select_related("service").filter(reference=reference)
    application = (rows.select_for_update(of=("self",)) if lock else rows).first()
    if application is None or application.applicant_uin == uin or second_party_uin(application) != uin:
        raise NotFound("application_not_found", _("No application asks you to confirm it with this reference."))
    return application


@transaction.atomic
def application_confirm(*, reference: str, uin: str, agree: bool, access_token: str = "") -> Application:
    """The other party confirms (the application goes on to its fee and checks) or declines (it is
    refused, and the applicant is told why)."""
    application = application_for_second_party(reference=reference, uin=uin, lock=True)
    if application.state != S.AWAITING_CONFIRMATION:
        raise Conflict("not_awaiting_confirmation", _("This application is not waiting for your confirmation."))
    now = timezone.now()
    if not agree:
        reason = {
            "en": "The other party did not confirm.",
            **{lang: _declined_text(lang) for lang in definitions.LANGUAGES if lang != "en"},
        }
        application.decision, application.decided_by, application.decided_at = "refused", uin, now
        application.reasons = [{"rule": "second_party", "passed": False, "reason": reason}]
        _move(application, to=S.REFUSED, actor=uin, actor_kind="citizen", note="The other party did not confirm.")
        _notify(application, "refused")
        application.save()
        return application
    application.verified = {**application.verified, "_confirmed": {"uin": uin, "at": now.isoformat()}}
    _move(application, to=S.SUBMITTED, actor=uin, actor_kind="citizen", note="Confirmed by the other party.")
    _notify(application, "confirmed")
    _onwards(application, access_token="")
    application.save()
    return application


def _declined_text(language: str) -> str:
    from django.utils import translation

    with translation.override(language):
        return str(_("The other party did not confirm."))


def application_refuse_external(*, application: Application, reason: str, by: str) -> None:
    """An agency refused what the approval asked of it (a land registrar rejected the transfer): the
    application is refused with the agency's reason, and the applicant told."""
    application = _locked(application.pk)
    if application.state != S.APPROVED:
        return
    application.decision, application.decided_by, application.decided_at = "refused", by[:150], timezone.now()
    application.reasons = [{"rule": "agency", "passed": False, "reason": {"en": reason}}]
    _move(application, to=S.REFUSED, actor=by, actor_kind="system", note=reason)
    _notify(application, "refused")
    application.save()


@transaction.atomic
def application_paid(*, application: Application, actor: str, actor_kind: str, access_token: str = "") -> Application:
    """The fee is paid (online or at a counter): the application goes on to its checks.
    ``access_token``: the live access token of whoever is acting (see :func:`application_submit`)."""
    application = _locked(application.pk)
    if application.state != S.AWAITING_PAYMENT:
        return application
    if not payments.application_paid(application=application):
        raise Conflict("not_paid", _("The payment has not been received."))
    _move(application, to=S.SUBMITTED, actor=actor, actor_kind=actor_kind, note="Fee paid")
    _process(application, access_token=access_token)
    application.save()
    return application


def _process(application: Application, *, access_token: str) -> None:
    """The automatic checks; an automatic decision where the service allows one and every rule
    passed on verified data; otherwise the application goes to the agency's queue."""
    definition = definition_of(application)
    outcomes = rules.check_all(
        definition.get("eligibility", []) + definition.get("rules", []), rule_context(application)
    )
    application.checks = [o.as_json() for o in outcomes]
    failed = [o for o in outcomes if not o.passed]
    if definition["decision"] == "automatic" and not failed:
        try:
            with transaction.atomic():
                _approve(
                    application, actor=SYSTEM_ACTOR, actor_kind="system", reasons=outcomes, access_token=access_token
                )
            return
        except DomainError as error:
            # The rules passed but the agency refused to act (a name taken meanwhile, a registry
            # that refused the declaration): a person looks at it.
            note = f"Could not be completed automatically: {error.detail}"
            _move(application, to=S.IN_REVIEW, actor=SYSTEM_ACTOR, actor_kind="system", note=note)
            return
    note = "; ".join(text(o.reason, "en") for o in failed) or "This service is decided by an officer."
    _move(application, to=S.IN_REVIEW, actor=SYSTEM_ACTOR, actor_kind="system", note=note)


def _approve(
    application: Application,
    *,
    actor: str,
    actor_kind: str,
    reasons: list[rules.Outcome] | None,
    access_token: str,
) -> None:
    definition = definition_of(application)
    now = timezone.now()
    application.decision = "approved"
    application.decided_by = actor[:150]
    application.decided_at = now
    if reasons is not None:
        application.reasons = [{"rule": o.rule, "passed": o.passed, "reason": o.reason} for o in reasons]
    output: dict[str, Any] = {}
    pending = False
    for name in definition.get("actions", []):
        result = actions.run(name, application=application, definition=definition, access_token=access_token)
        output.update(result.facts)
        pending = pending or result.pending
    verified = dict(application.verified)
    verified["_output"] = output
    application.verified = verified
    note = "Approved automatically: every check passed." if actor_kind == "system" else "Approved by an officer."
    _move(application, to=S.APPROVED, actor=actor, actor_kind=actor_kind, note=note)
    _notify(application, "approved")
    if not pending:
        _complete(application, actor=actor, actor_kind=actor_kind)


def _complete(application: Application, *, actor: str, actor_kind: str, note: str = "") -> None:
    definition = definition_of(application)
    out = definition["output"]
    if out.get("document", True):
        document = actions.output_document(application=application, definition=definition)
        note = note or f"{text(out['title'], 'en')} {document.serial} issued."
    _move(application, to=S.COMPLETED, actor=actor, actor_kind=actor_kind, note=note)
    if application.state == S.COMPLETED and "completed" in definition.get("notifications", {}):
        _notify(application, "completed")


def application_complete_external(
    *, application: Application, note: str, facts: dict[str, str], by: str = "civil registry"
) -> None:
    """An agency finished what the approval started (a registrar registered the declared birth)."""
    application = _locked(application.pk)
    if application.state != S.APPROVED:
        return
    verified = dict(application.verified)
    verified["_output"] = {**verified.get("_output", {}), **facts}
    application.verified = verified
    _complete(application, actor=by, actor_kind="system", note=note)
    application.save()


def application_land_case(*, application: Application, case: str, parcels: str) -> None:
    """The land register opened an inheritance case for the land of the person whose death this
    application reported: kept with the application's outcome, and its informant told."""
    application = _locked(application.pk)
    output = dict(application.verified.get("_output") or {})
    if output.get("land_case") == case:
        return
    output.update({"land_case": case, "land_parcels": parcels})
    application.verified = {**application.verified, "_output": output}
    application.updated_at = timezone.now()
    application.save(update_fields=["verified", "updated_at"])
    _notify(application, "land_case")


# --- officers -----------------------------------------------------------------------------------


def case_require(principal: Principal, application: Application, permission: str) -> None:
    """A role that gives ``permission`` in the application's own agency: a registrar of the civil
    registry who only reads in licensing does not decide licensing cases."""
    principal.require(permission)
    if "administrator" in principal.roles:
        return
    if application.agency not in principal.agencies_where(permission):
        raise Forbidden("other_agency", _("This case belongs to another agency."))


def _staff_text(value: str, *, field: str, limit: int = 2000) -> str:
    """Text an officer typed: stripped, required, without control characters the database refuses."""
    value = value.strip()
    if not value:
        raise DomainError("required", _("This cannot be empty."), field=field)
    if "\x00" in value or len(value) > limit:
        raise DomainError(
            "invalid_text",
            _("Write at most %(limit)s characters, without control characters.") % {"limit": limit},
            field=field,
        )
    return value


def case_open(*, principal: Principal, reference: str, purpose: str) -> Application:
    """An officer opens a case; the view of the citizen's data is recorded with its purpose."""
    application = Application.objects.select_related("service").filter(reference=reference).first()
    if application is None:
        raise NotFound("application_not_found", f"No application {reference}.")
    case_require(principal, application, "case.read")
    if not purpose.strip():
        raise DomainError("purpose_required", _("Say why you are opening this case."), field="purpose")
    purpose = _staff_text(purpose, field="purpose", limit=200)
    access_record(
        actor=principal.name,
        actor_kind=principal.kind,
        action=CASE_READ,
        subject=application.applicant_uin,
        purpose=f"{purpose.strip()[:200]} ({application.reference})",
    )
    return application


@transaction.atomic
def case_assign(*, principal: Principal, reference: str, to: str) -> Application:
    application = _locked(_pk(reference))
    case_require(principal, application, "case.work")
    to = _staff_text(to, field="to", limit=150)
    if to != principal.name and not principal.can("case.assign"):
        raise Forbidden("forbidden", _("Only a supervisor assigns cases to someone else."))
    if application.state not in (S.IN_REVIEW, S.INFO_REQUESTED, S.AWAITING_PAYMENT, S.REVIEW_REQUESTED):
        raise Conflict("not_open", _("Only open cases are assigned."))
    if application.state == S.REVIEW_REQUESTED and to == application.decided_by:
        raise Conflict(
            "four_eyes", _("This officer made the decision under review: assign the review to another."), field="to"
        )
    application.assigned_to = to[:150]
    application.updated_at = timezone.now()
    Transition.objects.create(
        application=application,
        from_state=application.state,
        to_state=application.state,
        actor=principal.name,
        actor_kind="staff",
        note=f"Assigned to {to}",
        at=application.updated_at,
    )
    application.save()
    return application


def _pk(reference: str) -> int:
    pk = Application.objects.filter(reference=reference).values_list("pk", flat=True).first()
    if pk is None:
        raise NotFound("application_not_found", f"No application {reference}.")
    return int(pk)


@transaction.atomic
def case_request_info(*, principal: Principal, reference: str, message: str) -> Application:
    application = _locked(_pk(reference))
    case_require(principal, application, "case.work")
    if application.state != S.IN_REVIEW:
        raise Conflict("not_in_review", _("More information can be asked only of a case under review."))
    if not message.strip():
        raise DomainError("message_required", _("Say what information you need."), field="message")
    message = _staff_text(message, field="message")
    application.info_request = message.strip()[:2000]
    _move(application, to=S.INFO_REQUESTED, actor=principal.name, actor_kind="staff", note=application.info_request)
    _notify(application, "info_requested", message=application.info_request)
    application.save()
    return application


@transaction.atomic
def application_respond(*, application: Application, uin: str, response: str) -> Application:
    application = _locked(application.pk, uin=uin)
    if application.state != S.INFO_REQUESTED:
        raise Conflict("no_request", _("Nobody has asked for more information on this application."))
    response = response.strip()
    if not response or "\x00" in response:
        raise DomainError("response_required", _("Write your answer to the officer's question."), field="response")
    answers = dict(application.answers)
    answers.setdefault("_responses", [])
    answers["_responses"] = [*answers["_responses"], {"at": timezone.now().isoformat(), "text": response[:4000]}]
    application.answers = answers
    _move(application, to=S.IN_REVIEW, actor=uin, actor_kind="citizen", note=response[:4000])
    application.save()
    return application


@transaction.atomic
def case_decide(
    *, principal: Principal, reference: str, approve: bool, reason: str, access_token: str = ""
) -> Application:
    """An officer decides a case. What the approval asks of another agency goes with the
    officer's own assertion, made from their live ``access_token``: the agency records the officer
    as the declarant, and an officer's word registers nothing by itself."""
    application = _locked(_pk(reference))
    case_require(principal, application, "case.work")
    if application.state != S.IN_REVIEW:
        raise Conflict("not_in_review", _("Only a case under review is decided."))
    if not reason.strip():
        raise DomainError(
            "reason_required", _("Give the reason for the decision: the citizen reads it."), field="reason"
        )
    reason = _staff_text(reason, field="reason")
    officer_reason = {"rule": "officer", "passed": approve, "reason": {"en": reason[:2000]}}
    if approve:
        application.reasons = [officer_reason]
        _approve(application, actor=principal.name, actor_kind="staff", reasons=None, access_token=access_token)
    else:
        application.decision = "refused"
        application.decided_by = principal.name
        application.decided_at = timezone.now()
        application.reasons = [officer_reason]
        _move(application, to=S.REFUSED, actor=principal.name, actor_kind="staff", note=reason[:2000])
        _notify(application, "refused")
    application.save()
    return application


@transaction.atomic
def case_review(*, principal: Principal, reference: str, upheld: bool, note: str) -> Application:
    """An officer reviews an automatic decision: upholds it, or overturns it (the document issued
    is withdrawn and the citizen told why)."""
    application = _locked(_pk(reference))
    case_require(principal, application, "case.work")
    if application.decided_by != SYSTEM_ACTOR:
        raise Conflict("not_automatic", _("Only automatic decisions are reviewed here."))
    if not note.strip():
        raise DomainError("reason_required", _("Give the reason for your review."), field="note")
    note = _staff_text(note, field="note")
    now = timezone.now()
    if upheld:
        Transition.objects.create(
            application=application,
            from_state=application.state,
            to_state=application.state,
            actor=principal.name,
            actor_kind="staff",
            note=f"Automatic decision reviewed and upheld: {note.strip()[:1000]}",
            at=now,
        )
        return application
    for document in application.documents.filter(status="valid"):
        actions.document_withdraw(document=document, reason=f"Decision overturned on review: {note.strip()[:200]}")
    # What the approval did to the agencies' registers is undone where it can be; a declaration
    # already with the civil registry is the registrar's to refuse.
    for name in reversed(definition_of(application).get("actions", [])):
        actions.undo(name, application=application)
    application.decision = "refused"
    application.decided_by = principal.name
    application.decided_at = now
    application.reasons = [{"rule": "review", "passed": False, "reason": {"en": note.strip()[:2000]}}]
    _move(application, to=S.REFUSED, actor=principal.name, actor_kind="staff", note=f"Overturned: {note.strip()}")
    _notify(application, "refused")
    application.save()
    return application


# --- reviews of refusals -------------------------------------------------------------------------


def review_terms(definition: dict[str, Any]) -> tuple[int, int]:
    """(days after a refusal within which its review may be asked, working days to decide it), from the
    service definition's ``review`` or the defaults."""
    review = definition.get("review") or {}
    return (
        int(review.get("request_within_days", REVIEW_REQUEST_DAYS)),
        int(review.get("decide_within_working_days", REVIEW_WORKING_DAYS)),
    )


def working_days_after(start: datetime, days: int) -> datetime:
    """``days`` working days (Monday to Friday, in the platform's time zone, but not the public holidays of
    ``GOV21_PUBLIC_HOLIDAYS``) after ``start``, at the same time of day."""
    holidays: frozenset[date] = settings.GOV21_PUBLIC_HOLIDAYS
    at = start
    while days > 0:
        at += timedelta(days=1)
        day = timezone.localtime(at).date()
        if day.weekday() < 5 and day not in holidays:
            days -= 1
    return at


def review_latest(application: Application) -> ReviewRequest | None:
    """The application's latest request for a review, with its decision when there is one."""
    return (
        ReviewRequest.objects.filter(application=application)
        .select_related("decision")
        .order_by("-requested_at", "-pk")
        .first()
    )


def review_open_until(application: Application, *, now: datetime | None = None) -> datetime | None:
    """Until when the applicant may ask for a review of the application's refusal; None when they may not
    (not refused, already asked about this decision, or the time has passed)."""
    if application.state != S.REFUSED or application.decided_at is None:
        return None
    if ReviewRequest.objects.filter(application=application, decision_at=application.decided_at).exists():
        return None
    until = application.decided_at + timedelta(days=review_terms(definition_of(application))[0])
    return until if (now or timezone.now()) <= until else None


def review_texts_checked(*, disagreement: str, new_information: str) -> tuple[str, str]:
    """What an applicant wrote for a review: what they disagree with (required) and new information
    (optional), stripped, within the limit, without control characters; a DomainError on the field."""
    texts = []
    for field, value, required in (("disagreement", disagreement, True), ("new_information", new_information, False)):
        value = value.strip()
        if required and not value:
            raise DomainError("required", _("Say what you disagree with in the decision."), field=field)
        if "\x00" in value or len(value) > REVIEW_TEXT_LIMIT:
            raise DomainError(
                "invalid_text",
                _("Write at most %(limit)s characters, without control characters.") % {"limit": REVIEW_TEXT_LIMIT},
                field=field,
            )
        texts.append(value)
    return texts[0], texts[1]


@transaction.atomic
def application_review_request(
    *, application: Application, uin: str, disagreement: str, new_information: str = ""
) -> ReviewRequest:
    """The applicant asks for a review of their application's refusal: once per decision, within the
    service's time limit. The case goes back to the agency's queue, due in the service's working days,
    unassigned, for an officer other than the one who decided."""
    application = _locked(application.pk, uin=uin)
    if application.state == S.REVIEW_REQUESTED:
        raise Conflict("review_already_requested", _("You have already asked for a review of this decision."))
    if application.state != S.REFUSED or application.decided_at is None:
        raise Conflict("not_refused", _("Only a refused application can be reviewed."))
    within, working_days = review_terms(definition_of(application))
    now = timezone.now()
    if ReviewRequest.objects.filter(application=application, decision_at=application.decided_at).exists():
        raise Conflict("review_already_requested", _("You have already asked for a review of this decision."))
    if now > application.decided_at + timedelta(days=within):
        raise Conflict(
            "review_too_late",
            _(
                "A review can be asked for within %(days)s days of the decision, and that time has passed. "
                "Visit a government office with your reference to ask about it."
            )
            % {"days": within},
        )
    disagreement, new_information = review_texts_checked(disagreement=disagreement, new_information=new_information)
    review = ReviewRequest.objects.create(
        application=application,
        decision_at=application.decided_at,
        decision_by=application.decided_by,
        requested_by=uin,
        requested_at=now,
        disagreement=disagreement,
        new_information=new_information,
        working_days=working_days,
        due_at=working_days_after(now, working_days),
    )
    application.due_at = review.due_at
    application.assigned_to = ""
    _move(application, to=S.REVIEW_REQUESTED, actor=uin, actor_kind="citizen", note=disagreement)
    application.save()
    _notify_review_received(application, review)
    return review


def _notify_review_received(application: Application, review: ReviewRequest) -> None:
    """Tell the applicant their request for a review was received, what happens next and by when, in the
    language they applied in."""
    with translation.override(application.language):
        subject = _("Your request for a review of %(reference)s was received") % {"reference": application.reference}
        body = _(
            "We received your request for a review of the decision on your application. An officer other than "
            "the one who decided will look at it, with what you wrote, and uphold or overturn the refusal by "
            "%(due)s. You will read the outcome and its reason on your application's page and in your inbox."
        ) % {"due": date_format(timezone.localtime(review.due_at).date(), "j F Y")}
    _notify_applicant(application, "review_requested", subject=subject, body=body)


def _notify_review(application: Application, decision: ReviewDecision) -> None:
    """Tell the applicant the outcome of their review, in the language they applied in."""
    with translation.override(application.language):
        if decision.outcome == ReviewDecision.Outcome.UPHELD:
            subject = _("Your review: the refusal of %(reference)s is upheld") % {"reference": application.reference}
        else:
            subject = _("Your review: the refusal of %(reference)s is overturned") % {
                "reference": application.reference
            }
        body = _("An officer reviewed the decision on your application. Their reason: %(reason)s") % {
            "reason": decision.reason
        }
    _notify_applicant(application, "review_decided", subject=subject, body=body)


@transaction.atomic
def case_review_request_decide(
    *, principal: Principal, reference: str, upheld: bool, reason: str, access_token: str = ""
) -> Application:
    """An officer decides an applicant's request for review: the refusal upheld (the application is
    refused again, with this reason too), or overturned (the application is approved, as by
    :func:`case_decide`). Four eyes: the officer who made the decision under review may not."""
    application = _locked(_pk(reference))
    case_require(principal, application, "case.work")
    review = (
        # Only the request's own row is locked: "no decision yet" joins the decisions' table, whose
        # missing row PostgreSQL cannot lock.
        ReviewRequest.objects.select_for_update(of=("self",))
        .filter(application=application, decision__isnull=True)
        .order_by("-requested_at", "-pk")
        .first()
    )
    if application.state != S.REVIEW_REQUESTED or review is None:
        raise Conflict("no_review_requested", _("No request for a review is waiting on this case."))
    if principal.name == review.decision_by:
        raise Forbidden("four_eyes", _("You made the decision under review: another officer must decide the review."))
    if not reason.strip():
        raise DomainError(
            "reason_required", _("Give the reason for your review: the applicant reads it."), field="reason"
        )
    reason = _staff_text(reason, field="reason")
    decision = ReviewDecision.objects.create(
        request=review,
        outcome=ReviewDecision.Outcome.UPHELD if upheld else ReviewDecision.Outcome.OVERTURNED,
        reason=reason,
        decided_by=principal.name,
        decided_at=timezone.now(),
    )
    if upheld:
        _move(application, to=S.REFUSED, actor=principal.name, actor_kind="staff", note=f"Review: upheld. {reason}")
    else:
        application.reasons = [{"rule": "review", "passed": True, "reason": {"en": reason[:2000]}}]
        _approve(application, actor=principal.name, actor_kind="staff", reasons=None, access_token=access_token)
    _notify_review(application, decision)
    application.save()
    return application


@transaction.atomic
def application_withdraw(*, application: Application, uin: str) -> Application:
    application = _locked(application.pk, uin=uin)
    if application.state in (S.APPROVED, S.COMPLETED, S.REFUSED, S.WITHDRAWN):
        raise Conflict("closed", _("This application is already decided."))
    _move(application, to=S.WITHDRAWN, actor=uin, actor_kind="citizen")
    application.save()
    return application


# --- offers -------------------------------------------------------------------------------------


@transaction.atomic
def offer_accept(*, offer_id: int, uin: str, user_id: int | None, language: str, access_token: str = "") -> Application:
    """One action: the parent confirms; the application is made, consented, submitted and decided."""
    offer = Offer.objects.select_for_update().filter(pk=offer_id, uin=uin).first()
    if offer is None:
        raise NotFound("offer_not_found", _("There is no such offer on your account."))
    if offer.state != Offer.State.OPEN:
        raise Conflict("offer_closed", _("This offer has already been answered."))
    application = application_start(
        service=offer.service_code, uin=uin, user_id=user_id, language=language, offer=offer
    )
    application = application_consent(application=application, uin=uin)
    application = application_submit(application=application, uin=uin, access_token=access_token)
    offer.state = Offer.State.ACCEPTED
    offer.answered_at = timezone.now()
    offer.save(update_fields=["state", "answered_at"])
    return application


@transaction.atomic
def offer_decline(*, offer_id: int, uin: str) -> Offer:
    offer = Offer.objects.select_for_update().filter(pk=offer_id, uin=uin).first()
    if offer is None:
        raise NotFound("offer_not_found", _("There is no such offer on your account."))
    if offer.state != Offer.State.OPEN:
        raise Conflict("offer_closed", _("This offer has already been answered."))
    offer.state = Offer.State.DECLINED
    offer.answered_at = timezone.now()
    offer.save(update_fields=["state", "answered_at"])
    return offer


def offer_make(*, uin: str, service: ServiceDefinition, facts: dict[str, Any], source_event: str) -> Offer | None:
    """Offer a proactive service to one person, once per event; the offer is announced in the inbox."""
    offer, created = Offer.objects.get_or_create(
        uin=uin,
        service_code=service.code,
        source_event=source_event,
        defaults={"facts": facts, "created_at": timezone.now()},
    )
    if not created:
        return None
    template = service.definition.get("notifications", {}).get("offered")
    if template is not None:
        # The language the person last used with a service, English for someone who never did.
        language = (
            Application.objects.filter(applicant_uin=uin)
            .order_by("-created_at")
            .values_list("language", flat=True)
            .first()
            or "en"
        )
        subject, body = notify.template_render(
            template=template, params={k: str(v) for k, v in facts.get("params", {}).items()}, language=language
        )
        notify.notification_queue(
            uin=uin,
            template=f"{service.code}.offered",
            subject=subject,
            body=body,
            link=f"/my/offers/{offer.pk}",
            language=language,
        )
    return offer


def fee_text(definition: dict[str, Any]) -> str:
    fee = definition.get("fee")
    if not fee:
        return ""
    return f"{fee['currency']} {fee['amount'] / 100:,.2f}"


def feedback_record(
    *, rating: int | None, comment: str, service_code: str = "", reference: str = "", page: str = ""
) -> None:
    """A rating and comment after a service, or a problem reported on any page. Anonymous."""
    from gov21.onestop.models import Feedback

    comment = comment.strip()
    if rating is None and not comment:
        raise DomainError("feedback_empty", _("Choose a rating or write a comment."), field="rating")
    if rating is not None and not 1 <= rating <= 5:
        raise DomainError("feedback_rating", _("Choose a rating from 1 to 5."), field="rating")
    if len(comment) > 2000 or "\x00" in comment:
        raise DomainError("feedback_comment", _("Write at most 2,000 characters."), field="comment")
    Feedback.objects.create(
        service_code=service_code[:64],
        application_ref=reference[:20],
        rating=rating,
        comment=comment,
        page=page[:200],
        created_at=timezone.now(),
    )
