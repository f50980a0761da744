"""Server-rendered pages of the civil registry: the public verification page, the JWKS, and the
registrar back office."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_http_methods

from gov21.core.credentials import other_keys, verifier_for
from gov21.registry import selectors
from gov21.registry.forms import CertificateCodeForm
from gov21.registry.keys import registry_keys


@cache_control(public=True, max_age=300)
def jwks(request: HttpRequest) -> JsonResponse:
    jwks = registry_keys().public_jwks()
    return JsonResponse({**jwks, "keys": [*jwks["keys"], *other_keys()]})


@require_http_methods(["GET", "POST"])
def verify(request: HttpRequest) -> HttpResponse:
    form = CertificateCodeForm.bind(request)
    payload = form.typed("payload") or request.GET.get("payload", "").strip()
    result = None
    error = None
    if request.method == "POST" or payload:
        if not payload:
            error = "Paste the text from the certificate's QR code, or scan it."
        elif len(payload) > 4000:
            error = "This is too long to be a certificate code. Check what was pasted."
        elif form.is_bound and "payload" in form.errors:
            error = form.first_errors()["payload"]
        else:
            other = verifier_for(payload)
            result = other(payload) if other is not None else selectors.certificate_verify(payload=payload)
    return render(request, "registry/verify.html", {"payload": payload, "result": result, "error": error})
