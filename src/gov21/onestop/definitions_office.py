"""Administrators edit service definitions in the back office: the YAML of the active version, checked
against the schema and the rules' syntax when saved, stored as a version of its own. The schema is
published for anyone writing a definition."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods

from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.onestop import definitions, selectors
from gov21.onestop.forms import DefinitionForm

PERMISSION = "services.admin"


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    return render(request, "services/definitions_refused.html", status=403)


office_page = Office(
    home="service-definitions:list", home_label=gettext_lazy("Go to the service definitions"), refuse=_refused
).page


@cache_control(public=True, max_age=3600)
@require_GET
def schema(request: HttpRequest) -> JsonResponse:
    return JsonResponse(definitions.schema())


@never_cache
@require_GET
@office_page(PERMISSION)
def definition_list(request: HttpRequest, principal: Principal) -> HttpResponse:
    # Each service's ratings from "rate this service" after a completed application, beside its versions.
    numbers = selectors.feedback_numbers()
    rows = [(row, numbers.get(row.code) if row.active else None) for row in selectors.definition_versions()]
    return render(request, "services/definitions.html", {"rows": rows})


@never_cache
@require_http_methods(["GET", "POST"])
@office_page(PERMISSION)
def definition_edit(request: HttpRequest, principal: Principal, code: str) -> HttpResponse:
    current = selectors.definition_in_use(code=code)
    if current is None:
        raise Http404("No such service")
    error = None
    source = ""
    if request.method == "POST":
        form = DefinitionForm(request.POST)
        source = form.typed("definition")
        try:
            if not form.is_valid():
                raise DomainError("invalid_definition", DefinitionForm.REFUSED)
            source = form.cleaned_data["definition"]
            data = definitions.definition_parse(source)
            if not isinstance(data, dict) or data.get("code") != code:
                raise DomainError("invalid_definition", f"The definition must keep its code: {code}.", field="code")
            row, _created = definitions.definition_save(definition=data, source="office", by=principal.name)
        except DomainError as problem:
            error = problem
        else:
            return redirect(f"/office/services/{row.code}?saved={row.version}")
    else:
        source = definitions.definition_dump(current.definition)
    return render(
        request,
        "services/definition_edit.html",
        {
            "current": current,
            "source": source,
            "error": error,
            "saved": request.GET.get("saved", ""),
            "versions": selectors.definition_versions(code=code),
        },
        status=400 if error else 200,
    )
