"""The reporting desk's back office at /office/concerns/: the open reports of every agency, the ones
past their target first, and a report's page where an officer of the desk acts for the agency
responsible (status, public update, internal note, reassignment, merging a duplicate) and reads
the reporter's contact details, a read recorded in the person's access log."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.concerns import selectors, services
from gov21.concerns.forms import ActForm, MergeForm, ReassignForm, WhichForm
from gov21.core.errors import DomainError
from gov21.core.office import Office
from gov21.core.principal import Principal


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    return render(request, "concerns/refused.html", {"detail": _("Your role does not allow this.")}, status=403)


office_page = Office(
    home="concerns-office:home", home_label=gettext_lazy("Go to the reported problems"), refuse=_refused
).page


@never_cache
@require_http_methods(["GET"])
@office_page("concerns.work")
def home(request: HttpRequest, principal: Principal) -> HttpResponse:
    rows = sorted(
        (r for agency in ("PWD", "WSA", "SWA") for r in selectors.queue(agency=agency)),
        key=lambda r: (not selectors.overdue(r), r["expected_at"]),
    )
    for row in rows:
        row["overdue"] = selectors.overdue(row)
    return render(request, "concerns/office_home.html", {"rows": rows})


@never_cache
@require_http_methods(["GET", "POST"])
@office_page("concerns.work")
def report(request: HttpRequest, principal: Principal, report_id: int) -> HttpResponse:
    try:
        row = selectors.request_get(report_id)
    except DomainError:
        return render(request, "core/error.html", {"status": 404}, status=404)
    act, reassign, merge = ActForm(), ReassignForm(), MergeForm()
    errors: dict[str, str] = {}
    contact = None
    if request.method == "POST":
        which = WhichForm(request.POST).value("form")
        form = {"act": ActForm, "reassign": ReassignForm, "merge": MergeForm, "contact": ActForm}.get(which, ActForm)(
            request.POST
        )
        try:
            data = form.cleaned()
            author = principal.name
            if which == "reassign":
                services.report_reassign(
                    report_id=report_id, agency=row["agency"], to_service_code=data["service_code"], author=author
                )
            elif which == "merge":
                services.report_merge(report_id=report_id, into_id=data["into"], agency=row["agency"], author=author)
            elif which == "contact":
                if not data["internal"]:
                    raise DomainError(
                        "purpose_required", _("Say why you need the reporter's details."), field="contact_internal"
                    )
                contact = selectors.report_contact(
                    report_id=report_id, agency=row["agency"], reader=principal, purpose=data["internal"] or ""
                )
            else:
                services.report_act(
                    report_id=report_id,
                    agency=row["agency"],
                    author=author,
                    status=data["status"],
                    public=data["public"],
                    internal=data["internal"],
                )
            if contact is None:
                return HttpResponseRedirect(reverse("concerns-office:report", args=[report_id]))
        except DomainError as error:
            errors[error.field or "__all__"] = error.detail
    return render(
        request,
        "concerns/office_report.html",
        {
            "report": row,
            "updates": selectors.public_updates(report_id),
            "notes": selectors.internal_notes(report_id),
            "photos": selectors.photo_ids(report_id),
            "overdue": selectors.overdue(row),
            "act": act,
            "reassign": reassign,
            "merge": merge,
            "errors": errors,
            "contact": contact,
        },
        status=400 if errors else 200,
    )
