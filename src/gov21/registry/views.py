"""Server-rendered pages of the civil registry: the public verification page, the JWKS, and the
registrar back office."""

from __future__ import annotations

import re
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from gov21.core.credentials import code_from_text, other_keys, verifier_for
from gov21.core.errors import DomainError
from gov21.core.http import client_address
from gov21.registry import selectors, services
from gov21.registry.forms import CertificateCodeForm, DocumentLookupForm
from gov21.registry.keys import registry_keys

# What a printed serial or registration number looks like (B-2026-000123, BC-2026-1A2B3C4D5E,
# D-2026-1A2B3C4D5E): typed into the box for the code, it is answered with the way to check it.
_SERIAL = re.compile(r"^[A-Z]{1,2}-\d{4}-[0-9A-F]{5,12}$", re.IGNORECASE)
# The longest code a document carries is well under this; more is a paste gone wrong.
_CODE_LIMIT = 4000


@cache_control(public=True, max_age=300)
def jwks(request: HttpRequest) -> JsonResponse:
    jwks = registry_keys().public_jwks()
    return JsonResponse({**jwks, "keys": [*jwks["keys"], *other_keys()]})


def _check_code(text: str) -> tuple[Any, str]:
    """The verdict on a pasted or scanned code, or the message that says what is wrong with it."""
    code = code_from_text(text)
    if not code:
        return None, _("Paste the text from the document's QR code, or scan the code with a phone's camera.")
    if len(code) > _CODE_LIMIT:
        return None, _("This is too long to be a document's code. Check what was pasted.")
    if _SERIAL.match(code):
        return None, _(
            "This is a serial number, not the code. Type it in the form to check with the serial number,"
            " with the holder's date of birth."
        )
    other = verifier_for(code)
    return (other(code) if other is not None else selectors.certificate_verify(payload=code)), ""


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    """Check a document: by the code its QR holds (a camera opens this page with it, and the check
    is made on that GET, no JavaScript needed), or by its serial number and the holder's date of
    birth."""
    code_form = CertificateCodeForm(request.POST if request.method == "POST" else request.GET)
    code_form.is_valid()
    lookup_form = DocumentLookupForm(request.POST if request.method == "POST" and "serial" in request.POST else None)
    payload = code_form.code_text()
    result: Any = None
    error = ""
    retry_after = 0
    not_found = False
    status = 200
    if lookup_form.is_bound:
        if lookup_form.is_valid():
            try:
                found = services.document_lookup_check(
                    serial=lookup_form.cleaned_data["serial"],
                    birth_date=lookup_form.cleaned_data["birth_date"],
                    source=client_address(request),
                )
            except DomainError as failure:
                status = lookup_form.add_domain_error(failure)
                retry_after = int(failure.extra.get("retry_after", 0))
            else:
                result = found.verdict
                not_found = result is None
    elif code_form.errors:
        error = next(iter(code_form.first_errors().values()))
    elif request.method == "POST" or payload:
        result, error = _check_code(payload)
        if error and _SERIAL.match(code_from_text(payload)):
            lookup_form = DocumentLookupForm(initial={"serial": code_from_text(payload).upper()})
    context = {
        "payload": payload,
        "result": result,
        "not_found": not_found,
        "error": error,
        "lookup_form": lookup_form,
        "lookup_errors": lookup_form.error_summary() if lookup_form.is_bound else [],
    }
    response = render(request, "registry/verify.html", context, status=status)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
