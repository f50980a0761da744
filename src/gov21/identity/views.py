"""The identity provider's own pages: sign in, second factor and step-up, activation, and the
security page where a person manages passwords, authenticator apps, passkeys and recovery codes."""

from __future__ import annotations

import base64
import json
from typing import Any
from urllib.parse import urlencode, urlsplit

import segno
from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods, require_POST

from gov21.core.errors import DomainError
from gov21.core.forms import Form
from gov21.core.ids import uin_check
from gov21.identity import levels, passkeys, totp
from gov21.identity.forms import ActivateForm, SecurityForm, SignInForm, VerifyForm
from gov21.identity.models import Account
from gov21.identity.oidc import SignedIn
from gov21.identity.selectors import auth_events_recent, passkeys_of
from gov21.identity.services import (
    account_activate,
    account_recoveries_open,
    account_recovery_cancel,
    account_second_factors,
    auth_event_record,
    password_authenticate,
    password_change,
    recovery_codes_issue,
    second_factor_verify,
    totp_enrol_begin,
    totp_enrol_confirm,
    totp_enrol_pending,
    totp_remove,
)
from gov21.identity.session import (
    idp_current,
    idp_establish,
    pending_get,
    pending_set,
    safe_next,
    source_of,
)

_CHALLENGE_KEY = "gov21_webauthn_challenge"
# Wrong codes typed while setting up an authenticator app; after this many the page mentions the
# phone's clock, the likely cause once a typing slip is ruled out.
_TOTP_FAILURES_KEY = "gov21_totp_enrol_failures"
TOTP_CLOCK_HINT_AFTER = 3


def _rp(request: HttpRequest) -> tuple[str, str]:
    """The WebAuthn relying-party id (this host's name) and the origin the browser reports."""
    host = request.get_host()
    return urlsplit(f"//{host}").hostname or host, f"{request.scheme}://{host}"


def _refused(request: HttpRequest, template: str, context: dict[str, Any], error: DomainError) -> HttpResponse:
    """The form again with the error (what the person typed kept, never the password), and when to
    try again if the error says so: too many attempts (429) or too many people signing in (503)."""
    response = render(request, template, context, status=error.status)
    if "retry_after" in error.extra:
        response["Retry-After"] = str(error.extra["retry_after"])
        response._has_been_logged = True  # type: ignore[attr-defined]  # counted, not an error of ours
    return response


@never_cache
@require_http_methods(["GET", "POST"])
def sign_in(request: HttpRequest) -> HttpResponse:
    form = SignInForm.bind(request)
    next_url = safe_next(request, form.typed("next") or request.GET.get("next"), "/auth/account")
    context: dict[str, Any] = {"next": next_url, "identifier": "", "activate_url": _activate_url(next_url)}
    if request.method == "POST":
        context["identifier"] = form.typed("identifier")
        errors = _missing(
            form,
            [
                ("identifier", _("Enter your UIN, or your user name if you work for the government")),
                ("password", _("Enter your password")),
            ],
        )
        if errors:
            context["errors"] = errors
            return render(request, "identity/sign_in.html", context, status=422)
        try:
            data = form.cleaned()
            account = password_authenticate(
                identifier=data["identifier"], password=data["password"], source=source_of(request)
            )
        except DomainError as error:
            context["errors"] = {"identifier": error.detail}
            return _refused(request, "identity/sign_in.html", context, error)
        factors = account_second_factors(account)
        if factors["totp"] or factors["passkey"] or factors["recovery"]:
            pending_set(request, account, ["pwd"])
            return redirect(f"/auth/verify?{urlencode({'next': next_url})}")
        idp_establish(request, account, ["pwd"])
        auth_event_record(kind="sign_in", account=account, source=source_of(request), acr=levels.LOW)
        if account.kind == account.Kind.STAFF:
            return redirect(f"/auth/account?{urlencode({'next': next_url, 'enrol': 1})}")
        return redirect(next_url)
    return render(request, "identity/sign_in.html", context)


@never_cache
@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of a sign-in, or a step-up to a higher level for a person already signed in."""
    form = VerifyForm.bind(request)
    next_url = safe_next(request, form.typed("next") or request.GET.get("next"), "/auth/account")
    level = request.GET.get("level") or form.typed("level") or levels.SUBSTANTIAL
    current = idp_current(request)
    pending = pending_get(request)
    if pending is not None:
        account, amr = pending
    elif current is not None:
        account, amr = current.account, current.amr
    else:
        return redirect(f"/auth/sign-in?{urlencode({'next': next_url})}")
    factors = account_second_factors(account)
    reachable = levels.HIGH if factors["passkey"] and account.proofed_in_person else levels.SUBSTANTIAL
    context: dict[str, Any] = {
        "next": next_url,
        "level": level,
        "level_name": levels.NAMES.get(level, level),
        "factors": factors,
        "code_ok": levels.rank(level) <= levels.rank(levels.SUBSTANTIAL) and (factors["totp"] or factors["recovery"]),
        "passkey_ok": factors["passkey"],
        "unreachable": levels.rank(level) > levels.rank(reachable),
        "has_factor": factors["totp"] or factors["passkey"],
    }
    if request.method == "POST":
        try:
            code = form.cleaned()["code"]
            if not code.strip():
                raise DomainError(
                    "code_required", _("Enter the code from your authenticator app, or a recovery code"), field="code"
                )
            method = second_factor_verify(account=account, code=code, source=source_of(request))
        except DomainError as error:
            context["error"] = error.detail
            return render(request, "identity/verify.html", context, status=error.status)
        signed = idp_establish(request, account, levels.amr_with(amr, method))
        auth_event_record(kind="sign_in", account=account, source=source_of(request), acr=signed.acr)
        return redirect(next_url)
    return render(request, "identity/verify.html", context)


@require_POST
def passkey_options(request: HttpRequest) -> HttpResponse:
    """Options for ``navigator.credentials.get``: for the account mid-sign-in, or discoverable."""
    rp_id, _origin = _rp(request)
    pending = pending_get(request)
    current = idp_current(request)
    account = pending[0] if pending else (current.account if current else None)
    options, challenge = passkeys.authentication_options(rp_id=rp_id, account=account)
    request.session[_CHALLENGE_KEY] = base64.b64encode(challenge).decode()
    return HttpResponse(options, content_type="application/json")


@require_POST
def passkey_sign_in(request: HttpRequest) -> HttpResponse:
    rp_id, origin = _rp(request)
    challenge = request.session.pop(_CHALLENGE_KEY, None)
    if not challenge:
        return JsonResponse({"error": _("Start again: the passkey request expired.")}, status=400)
    pending = pending_get(request)
    current = idp_current(request)
    expected = pending[0] if pending else (current.account if current else None)
    base_amr = pending[1] if pending else (current.amr if current else [])
    try:
        credential = json.loads(request.body)
        account = passkeys.authenticate(
            credential=credential,
            challenge=base64.b64decode(challenge),
            rp_id=rp_id,
            origin=origin,
            source=source_of(request),
            account=expected,
        )
    except (ValueError, DomainError) as error:
        auth_event_record(kind="sign_in_failed", account=expected, source=source_of(request), step="passkey")
        detail = error.detail if isinstance(error, DomainError) else _("The passkey response could not be read.")
        status = error.status if isinstance(error, DomainError) and error.status == 429 else 400
        return JsonResponse({"error": detail}, status=status)
    signed = idp_establish(request, account, levels.amr_with(base_amr, "hwk"))
    auth_event_record(kind="sign_in", account=account, source=source_of(request), acr=signed.acr, method="passkey")
    next_url = safe_next(request, request.GET.get("next"), "/auth/account")
    return JsonResponse({"next": next_url, "acr": signed.acr})


@require_POST
def passkey_register_options(request: HttpRequest) -> HttpResponse:
    current = idp_current(request)
    if current is None:
        return JsonResponse({"error": _("Sign in first.")}, status=401)
    rp_id, _origin = _rp(request)
    options, challenge = passkeys.registration_options(
        account=current.account, rp_id=rp_id, rp_name=str(settings.GOV21_COUNTRY_NAME)
    )
    request.session[_CHALLENGE_KEY] = base64.b64encode(challenge).decode()
    return HttpResponse(options, content_type="application/json")


@require_POST
def passkey_register(request: HttpRequest) -> HttpResponse:
    current = idp_current(request)
    if current is None:
        return JsonResponse({"error": _("Sign in first.")}, status=401)
    challenge = request.session.pop(_CHALLENGE_KEY, None)
    if not challenge:
        return JsonResponse({"error": _("Start again: the passkey request expired.")}, status=400)
    rp_id, origin = _rp(request)
    try:
        body = json.loads(request.body)
        passkey = passkeys.register(
            account=current.account,
            credential=body["credential"],
            challenge=base64.b64decode(challenge),
            rp_id=rp_id,
            origin=origin,
            name=str(body.get("name") or "Passkey"),
            source=source_of(request),
        )
    except (ValueError, KeyError, TypeError):
        return JsonResponse({"error": _("The passkey response could not be read.")}, status=400)
    except DomainError as error:
        return JsonResponse({"error": error.detail}, status=400)
    # Creating a passkey with user verification proves possession of it: the session is now that strong.
    idp_establish(request, current.account, levels.amr_with(current.amr, "hwk"))
    return JsonResponse({"id": passkey.pk, "name": passkey.name})


@never_cache
@require_http_methods(["GET", "POST"])
def activate(request: HttpRequest) -> HttpResponse:
    form = ActivateForm.bind(request)
    next_url = safe_next(request, form.typed("next") or request.GET.get("next"), "")
    context: dict[str, Any] = {"uin": form.typed("uin"), "next": next_url}
    if request.method == "POST":
        errors = _missing(
            form,
            [
                ("uin", _("Enter your UIN: the 10 digits on your identity card")),
                ("code", _("Enter the activation code from the service counter")),
                ("password", _("Choose a password")),
                ("password_again", _("Type the password again")),
            ],
        )
        if "uin" not in errors:
            try:
                uin_check(form.cleaned_data["uin"])
            except DomainError as error:
                errors["uin"] = error.detail
        data = form.cleaned_data
        if not errors.keys() & {"password", "password_again"} and data["password"] != data["password_again"]:
            errors["password_again"] = _("The two passwords are not the same. Type them again.")
        if errors:
            context["errors"] = _in_page_order(errors, ["uin", "code", "password", "password_again"])
            return render(request, "identity/activate.html", context, status=422)
        try:
            account = account_activate(
                uin=data["uin"], code=data["code"], password=data["password"], source=source_of(request)
            )
        except DomainError as error:
            context["errors"] = {error.field or "code": error.detail}
            return _refused(request, "identity/activate.html", context, error)
        idp_establish(request, account, ["pwd"])
        return redirect(f"/auth/account?{urlencode({'enrol': 1, **({'next': next_url} if next_url else {})})}")
    return render(request, "identity/activate.html", context)


def _activate_url(next_url: str) -> str:
    """Activation for a person who finds at sign-in that they have no digital ID yet: afterwards they
    go on where they were going (a service they had started), not to a page of their own."""
    if next_url == "/auth/account":
        return "/auth/activate"
    return f"/auth/activate?{urlencode({'next': next_url})}"


def _missing(form: Form, required: list[tuple[str, str]]) -> dict[str, str]:
    """Every field at fault at once, so a person fixes them in one round: what the form refused
    (characters we cannot accept), or what was left empty, with that field's own message."""
    form.is_valid()
    refused = form.first_errors()
    errors: dict[str, str] = {}
    for name, message in required:
        if name in refused:
            errors[name] = refused[name]
        elif not str(form.cleaned_data.get(name, "")).strip():
            errors[name] = message
    return errors


def _in_page_order(errors: dict[str, str], order: list[str]) -> dict[str, str]:
    return {name: errors[name] for name in order if name in errors}


@never_cache
@require_http_methods(["GET", "POST"])
def account(request: HttpRequest) -> HttpResponse:
    """The security page: second factors, passkeys, recovery codes and recent sign-ins."""
    current = idp_current(request)
    if current is None:
        return redirect(f"/auth/sign-in?{urlencode({'next': request.get_full_path()})}")
    acct = current.account
    source = source_of(request)
    acr = current.acr
    # The provider's session is a sign-in: the header says so, though the portal's own comes later.
    context: dict[str, Any] = {"signed_in": current, "provider_signed_in": True}
    form = SecurityForm.bind(request)
    next_url = safe_next(request, request.GET.get("next") or form.typed("next"), "")
    context["next"] = next_url
    if request.method == "POST":
        try:
            data = form.cleaned()
            action = data["action"]
            if action == "totp_start":
                # The secret already being set up, if any: the entry on the phone keeps matching.
                if totp_enrol_pending(account=acct) is None:
                    totp_enrol_begin(account=acct)
                request.session[_TOTP_FAILURES_KEY] = 0
            elif action == "totp_restart":
                totp_enrol_begin(account=acct)
                request.session[_TOTP_FAILURES_KEY] = 0
                context["done"] = _(
                    "This is a new key. Delete the entry you added before from your authenticator app, "
                    "then scan this code."
                )
            elif action == "totp_confirm":
                acr = _totp_confirm(request, acct, current, data["code"], context)
            elif action == "totp_remove":
                totp_remove(account=acct, source=source, auth_time=current.auth_time)
                context["done"] = _("The authenticator app was removed.")
            elif action == "passkey_remove":
                passkeys.remove(
                    account=acct,
                    passkey_id=data["passkey"] or 0,
                    source=source,
                    auth_time=current.auth_time,
                )
                context["done"] = _("The passkey was removed.")
            elif action == "recovery_cancel":
                if account_recovery_cancel(account=acct, source=source):
                    context["done"] = _("The recovery of your account was cancelled. Its code no longer works.")
            elif action == "password_change":
                if data["new_password"] != data["new_password_again"]:
                    raise DomainError("passwords_differ", _("The two new passwords are not the same."))
                password_change(account=acct, current=data["current_password"], new=data["new_password"], source=source)
                context["done"] = _("Your password was changed.")
            elif action == "recovery_codes":
                context["recovery_codes"] = recovery_codes_issue(
                    account=acct, source=source, auth_time=current.auth_time
                )
        except (DomainError, ValueError) as error:
            context["error"] = error.detail if isinstance(error, DomainError) else _("That request was not understood.")
            context["error_field"] = (error.field or "") if isinstance(error, DomainError) else ""
            if isinstance(error, DomainError) and error.code == "reauthentication_required":
                context["reauthenticate"] = f"/auth/verify?{urlencode({'next': '/auth/account'})}"
    secret = totp_enrol_pending(account=acct)
    if secret:
        uri = totp.provisioning_uri(
            secret, account_name=acct.user.get_username(), issuer=str(settings.GOV21_COUNTRY_NAME)
        )
        context["totp_secret"] = secret
        context["totp_uri"] = uri
        context["totp_qr"] = segno.make(uri, error="m").svg_data_uri(scale=4)
    context["level_name"] = levels.DESCRIPTIONS.get(acr, acr)
    context["factors"] = account_second_factors(acct)
    context["passkeys"] = passkeys_of(account=acct)
    context["recoveries"] = account_recoveries_open(account=acct)
    context["events"] = auth_events_recent(account=acct, limit=15)
    has_factor = context["factors"]["totp"] or context["factors"]["passkey"]
    context["enrol"] = bool(request.GET.get("enrol")) and not has_factor
    # After activation or setting up a second factor, the way on: where the person was going, or their page.
    context["way_on"] = next_url or ("/my/" if has_factor or context["enrol"] else "")
    return render(request, "identity/account.html", context)


def _totp_confirm(request: HttpRequest, acct: Account, current: SignedIn, code: str, context: dict[str, Any]) -> str:
    """Confirm the app being set up with a code from it; the level the session has afterwards. A wrong
    code is said plainly, and the phone's clock is mentioned only once typing slips are unlikely."""
    if not code.strip():
        raise DomainError("code_required", _("Enter the 6-digit code from your authenticator app"), field="code")
    try:
        totp_enrol_confirm(account=acct, code=code, source=source_of(request), auth_time=current.auth_time)
    except DomainError as error:
        if error.code != "totp_wrong_code":
            raise
        failures = int(request.session.get(_TOTP_FAILURES_KEY, 0)) + 1
        request.session[_TOTP_FAILURES_KEY] = failures
        detail = _("That code is not right. Type the 6-digit code the app shows now for this account.")
        if failures >= TOTP_CLOCK_HINT_AFTER:
            detail = _(
                "That code is still not right. Check that the phone's date and time are set automatically, "
                "then type the code the app shows now. If it keeps failing, start again with a new code."
            )
        raise DomainError("totp_wrong_code", detail, field="code") from None
    request.session.pop(_TOTP_FAILURES_KEY, None)
    signed = idp_establish(request, acct, levels.amr_with(current.amr, "otp"))
    if not account_second_factors(acct)["recovery"]:
        context["recovery_codes"] = recovery_codes_issue(
            account=acct, source=source_of(request), auth_time=signed.auth_time
        )
    context["done"] = _("Your authenticator app is set up. You will need a code from it each time you sign in.")
    return signed.acr


@require_POST
def sign_out(request: HttpRequest) -> HttpResponse:
    current = idp_current(request)
    if current is not None:
        auth_event_record(kind="sign_out", account=current.account, source=source_of(request))
    request.session.flush()
    return render(request, "identity/signed_out.html", {})
