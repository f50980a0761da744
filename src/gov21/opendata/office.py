"""The publishers' back office at /office/opendata/: create and describe datasets, add resources
(uploads, which go to the datastore when they are tables, or links), publish a new numbered release
of a table with a change note, and manage the portals whose catalogues are harvested. Staff whose
role gives ``opendata.publish`` use it; every page works without JavaScript."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from gov21.core.errors import DomainError
from gov21.core.forms import Form
from gov21.core.office import Office
from gov21.core.principal import Principal
from gov21.opendata import harvest, selectors, services, uploads
from gov21.opendata.forms import ActionForm, DatasetForm, HarvestSourceForm, ResourceForm, VersionForm
from gov21.opendata.models import Dataset
from gov21.opendata.publishing import dataset_version_publish

PERMISSION = "opendata.publish"


def _refused(request: HttpRequest, principal: Principal | None, permission: str | None) -> HttpResponse:
    detail = _("Your role does not allow publishing on the data portal.")
    return render(request, "opendata/office/refused.html", {"detail": detail}, status=403)


office = Office(home="opendata-office:home", home_label=gettext_lazy("Go to the data portal's office"), refuse=_refused)
office_page = office.page


def _form_refusal(form: Form, error: DomainError, rename: dict[str, str] | None = None) -> None:
    """Show a service's refusal on the form, at the field it names (``rename`` maps the service's
    names to the form's) or at the top."""
    if error.status in (401, 403):
        raise error
    name = (error.field or "").split(".")[0]
    name = (rename or {}).get(name, name)
    form.add_error(name if name in form.fields else None, error.detail)


def _upload(file: Any) -> uploads.Upload:
    uploads.size_check(file.size or 0)
    return uploads.Upload(
        filename=str(file.name or "upload"),
        content=file.read(),
        media_type=str(file.content_type or "application/octet-stream"),
    )


@never_cache
@require_http_methods(["GET", "POST"])
@office_page(PERMISSION)
def home(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The datasets published here (harvested ones are listed with their source), and a new one."""
    form = DatasetForm.bind(request)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                dataset = services.package_create(principal=principal, data=form.data_for_service())
            except DomainError as error:
                _form_refusal(form, error)
            else:
                return HttpResponseRedirect(reverse("opendata-office:dataset", args=[dataset.name]))
        status = 422
    context = {
        "form": form,
        "errors": form.first_errors() if form.is_bound else {},
        "datasets": selectors.local_datasets(limit=200),
        "harvested": selectors.harvested_count(),
    }
    return render(request, "opendata/office/home.html", context, status=status)


def _dataset_form(dataset: Dataset, data: Any = None) -> DatasetForm:
    form = DatasetForm(
        data,
        auto_id="describe_%s",
        initial={
            "name": dataset.name,
            "title": dataset.title,
            "notes": dataset.notes,
            "owner_org": dataset.organization.member_code,
            "license_id": dataset.license_id,
            "frequency": dataset.frequency,
            "tags": ", ".join(sorted(dataset.tags.values_list("name", flat=True))),
            "contact_name": dataset.contact_name,
            "contact_email": dataset.contact_email,
        },
    )
    form.fields["name"].disabled = True
    return form


@never_cache
@require_http_methods(["GET", "POST"])
@office_page(PERMISSION)
def dataset(request: HttpRequest, principal: Principal, name: str) -> HttpResponse:
    """One dataset: its description, its resources and releases, and the forms that change them.
    Which form was sent is told by its submit button (``action``)."""
    found = selectors.dataset_get(name)
    if found.harvested_from_id is not None:
        raise DomainError("harvested", _("This dataset is copied from another portal; it changes there."), status=409)
    chosen = ActionForm(request.POST if request.method == "POST" else None)
    action = chosen.cleaned_data["action"] if chosen.is_valid() else ""
    posted = request.POST if request.method == "POST" else None
    files = request.FILES if request.method == "POST" else None
    describe = _dataset_form(found, posted if action == "describe" else None)
    resource = ResourceForm(
        posted if action == "resource" else None, files if action == "resource" else None, auto_id="resource_%s"
    )
    version = VersionForm(
        posted if action == "version" else None, files if action == "version" else None, auto_id="version_%s"
    )
    here = reverse("opendata-office:dataset", args=[found.name])
    status = 200
    sent: Form | None = {"describe": describe, "resource": resource, "version": version}.get(action)
    if sent is not None:
        if sent.is_valid():
            try:
                if sent is describe:
                    data = describe.data_for_service() | {"id": str(found.id)}
                    data.pop("name", None)
                    services.package_update(principal=principal, data=data, partial=True)
                elif sent is resource:
                    upload = resource.cleaned_data.get("upload")
                    services.resource_create(
                        principal=principal,
                        data={
                            "package_id": str(found.id),
                            "name": resource.cleaned_data["name"],
                            "url": resource.cleaned_data["url"],
                        },
                        upload=_upload(upload) if upload is not None else None,
                    )
                else:
                    dataset_version_publish(
                        principal=principal,
                        name=found.name,
                        upload=_upload(version.cleaned_data["table"]),
                        change_note=version.cleaned_data["change_note"],
                    )
            except DomainError as error:
                _form_refusal(sent, error, {"upload": "table"} if sent is version else None)
            else:
                return HttpResponseRedirect(here)
        status = 422
    found = selectors.dataset_get(found.name)
    context = {
        "package": selectors.package_dict(found),
        "versions": selectors.versions_of(found),
        "describe": describe,
        "resource_form": resource,
        "version_form": version,
        "errors": sent.first_errors() if sent is not None and sent.is_bound else {},
        "id_prefix": f"{action}_",
    }
    return render(request, "opendata/office/dataset.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page(PERMISSION)
def sources(request: HttpRequest, principal: Principal) -> HttpResponse:
    """The harvest sources with their last job, and a new one."""
    form = HarvestSourceForm.bind(request)
    status = 200
    if form.is_bound:
        if form.is_valid():
            try:
                added = harvest.source_add(principal=principal, **form.cleaned_data)
            except DomainError as error:
                _form_refusal(form, error)
            else:
                return HttpResponseRedirect(reverse("opendata-office:source", args=[added.name]))
        status = 422
    context = {"form": form, "errors": form.first_errors() if form.is_bound else {}, "sources": harvest.sources()}
    return render(request, "opendata/office/sources.html", context, status=status)


@never_cache
@require_http_methods(["GET", "POST"])
@office_page(PERMISSION)
def source(request: HttpRequest, principal: Principal, name: str) -> HttpResponse:
    """One source: its jobs with their counts and logs; a button harvests it now."""
    found = harvest.source_get(name)
    if request.method == "POST":
        harvest.source_run(principal=principal, key=found.name)
        return HttpResponseRedirect(reverse("opendata-office:source", args=[found.name]))
    context = {
        "source": found,
        "jobs": harvest.jobs_of(found),
        "datasets": found.datasets.filter(state="active").count(),
    }
    return render(request, "opendata/office/source.html", context)
