"""Writes through the Action API and the back office: datasets, resources (links, uploads, datastore
tables). Each is one transaction; the caller must hold ``opendata.publish``."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any, Final
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.opendata import datastore, uploads
from gov21.opendata.licences import BY_ID, FREQUENCIES
from gov21.opendata.models import Dataset, Resource
from gov21.opendata.publishing import group_ensure, name_check, organization_ensure, search_text_refresh, tags_set
from gov21.opendata.search import catalogue_changed
from gov21.opendata.selectors import dataset_get, organization_get, resource_get

FILES: Final = "opendata/files"
_TEXT_LIMITS: Final = {"title": 300, "notes": 20_000, "contact_name": 200, "contact_email": 200}


def _text(data: dict[str, Any], key: str, default: str = "") -> str:
    value = data.get(key, default)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise DomainError("invalid_value", _("This must be text."), field=key)
    if len(value) > _TEXT_LIMITS.get(key, 1000):
        raise DomainError("invalid_value", _("This is too long."), field=key)
    return value


def _date(data: dict[str, Any], key: str) -> dt.date | None:
    value = data.get(key)
    if value in (None, ""):
        return None
    try:
        return dt.date.fromisoformat(str(value))
    except ValueError:
        raise DomainError("invalid_date", _("Give a date as YYYY-MM-DD."), field=key) from None


def _names(data: dict[str, Any], key: str) -> list[str] | None:
    """CKAN's ``tags``/``groups``: a list of {"name": ...} (or of names); None when not given."""
    if key not in data:
        return None
    value = data[key] or []
    if not isinstance(value, list):
        raise DomainError("invalid_value", _("This must be a list."), field=key)
    names = []
    for item in value:
        name = item.get("name") if isinstance(item, dict) else item
        if not isinstance(name, str):
            raise DomainError("invalid_value", _("Each item needs a name."), field=key)
        names.append(name)
    return names


def _apply(dataset: Dataset, data: dict[str, Any], *, partial: bool) -> None:
    if not partial or "title" in data:
        dataset.title = _text(data, "title") or dataset.name
    if not partial or "notes" in data:
        dataset.notes = _text(data, "notes")
    if not partial or "license_id" in data:
        licence = _text(data, "license_id", "CC-BY-4.0") or "CC-BY-4.0"
        if licence not in BY_ID:
            raise DomainError("invalid_licence", _("Choose one of the portal's licences."), field="license_id")
        dataset.license_id = licence
    if not partial or "frequency" in data:
        frequency = _text(data, "frequency", "irregular") or "irregular"
        if frequency not in FREQUENCIES:
            raise DomainError("invalid_frequency", _("Choose an update frequency DCAT knows."), field="frequency")
        dataset.frequency = frequency
    for key in ("contact_name", "contact_email"):
        if not partial or key in data:
            setattr(dataset, key, _text(data, key))
    if not partial or "temporal_start" in data:
        dataset.temporal_start = _date(data, "temporal_start")
    if not partial or "temporal_end" in data:
        dataset.temporal_end = _date(data, "temporal_end")
    if dataset.temporal_start and dataset.temporal_end and dataset.temporal_start > dataset.temporal_end:
        raise DomainError("invalid_temporal", _("The period ends before it starts."), field="temporal_end")
    if not partial or "spatial" in data:
        spatial = data.get("spatial") or []
        if isinstance(spatial, str):
            spatial = [part.strip() for part in spatial.split(",") if part.strip()]
        if not isinstance(spatial, list) or not all(isinstance(s, str) and len(s) <= 20 for s in spatial):
            raise DomainError("invalid_value", _("List the parish codes covered."), field="spatial")
        dataset.spatial = spatial


def _org(principal: Principal, data: dict[str, Any]) -> Any:
    owner = data.get("owner_org")
    if not isinstance(owner, str) or not owner:
        raise DomainError("missing_value", _("Say which organization publishes the dataset."), field="owner_org")
    try:
        return organization_get(owner)
    except DomainError:
        return organization_ensure(owner.upper())


@transaction.atomic
def package_create(*, principal: Principal, data: dict[str, Any]) -> Dataset:
    principal.require("opendata.publish")
    name = name_check(_text(data, "name"))
    if Dataset.objects.filter(name=name).exists():
        raise DomainError("name_taken", _("That URL is already in use."), status=409, field="name")
    now = timezone.now()
    dataset = Dataset(name=name, organization=_org(principal, data), created=now, modified=now)
    _apply(dataset, data, partial=False)
    dataset.save()
    _relations(dataset, data)
    search_text_refresh(dataset)
    for position, resource in enumerate(data.get("resources") or []):
        if not isinstance(resource, dict):
            raise DomainError("invalid_value", _("Each resource is an object."), field="resources")
        _resource_new(dataset, resource, position=position, upload=None)
    return dataset


def _relations(dataset: Dataset, data: dict[str, Any]) -> None:
    tags = _names(data, "tags")
    if tags is not None:
        tags_set(dataset, tags)
    groups = _names(data, "groups")
    if groups is not None:
        dataset.groups.set([group_ensure(g) for g in groups])


@transaction.atomic
def package_update(*, principal: Principal, data: dict[str, Any], partial: bool) -> Dataset:
    principal.require("opendata.publish")
    key = data.get("id") or data.get("name")
    if not isinstance(key, str):
        raise DomainError("missing_value", _("Say which dataset."), field="id")
    dataset = Dataset.objects.select_for_update().get(pk=dataset_get(key).pk)
    if "owner_org" in data:
        dataset.organization = _org(principal, data)
    _apply(dataset, data, partial=partial)
    dataset.modified = timezone.now()
    dataset.save()
    _relations(dataset, data)
    search_text_refresh(dataset)
    return dataset


@transaction.atomic
def package_delete(*, principal: Principal, key: str) -> None:
    principal.require("opendata.publish")
    dataset = dataset_get(key)
    Dataset.objects.filter(pk=dataset.pk).update(state="deleted", modified=timezone.now())
    catalogue_changed([dataset.pk])


def url_check(url: str) -> str:
    """A link a resource may carry: http(s), and never to a loopback, private or link-local address
    (the portal does not fetch it, and neither should a visitor's browser be pointed inside)."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DomainError("invalid_url", _("A link is an http or https address."), field="url")
    host = parts.hostname.lower()
    if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
        raise DomainError("private_url", _("A link may not point at a private address."), field="url")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return url
    if not address.is_global:
        raise DomainError("private_url", _("A link may not point at a private address."), field="url")
    return url


def _file_store(content: bytes) -> str:
    sha = hashlib.sha256(content).hexdigest()
    target = Path(settings.DATA_DIR) / FILES / sha[:2] / sha
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        fd, temporary = tempfile.mkstemp(dir=target.parent)
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        os.replace(temporary, target)
    return sha


def file_path(sha256: str) -> Path:
    return Path(settings.DATA_DIR) / FILES / sha256[:2] / sha256


def _resource_new(dataset: Dataset, data: dict[str, Any], *, position: int, upload: uploads.Upload | None) -> Resource:
    now = timezone.now()
    resource = Resource(dataset=dataset, position=position, created=now, modified=now)
    resource.name = _text(data, "name")
    resource.description = _text(data, "description")
    resource.format = _text(data, "format")[:50]
    _content(resource, data, upload)
    resource.save()
    return resource


def _content(resource: Resource, data: dict[str, Any], upload: uploads.Upload | None) -> Any:
    """A resource's content: an uploaded file (checked; a table also goes to the datastore), or a link."""
    if upload is not None:
        table = uploads.table_read(upload)
        resource.url_type = "upload"
        resource.sha256 = _file_store(upload.content)
        resource.size = len(upload.content)
        resource.mimetype = upload.media_type
        resource.format = resource.format or upload.format
        resource.name = resource.name or upload.filename
        resource.url = upload.filename
        if table is not None:
            columns, rows = table
            resource.fields = [{"id": n, "type": datastore.CKAN_TYPES[k]} for n, k in columns]
            resource.datastore_active = True
            if resource.pk is None or not Resource.objects.filter(pk=resource.pk).exists():
                resource.id = uuid.uuid4()
            rid = str(resource.id)
            datastore.table_write(table=rid, columns=columns, rows=rows, replace=True)
        return resource
    url = data.get("url")
    if isinstance(url, str) and url:
        resource.url = url_check(url)
        resource.url_type = ""
    elif resource.url_type != "datastore":
        raise DomainError("missing_value", _("Give a link or upload a file."), field="url")
    return resource


@transaction.atomic
def resource_create(*, principal: Principal, data: dict[str, Any], upload: uploads.Upload | None) -> Resource:
    principal.require("opendata.publish")
    key = data.get("package_id")
    if not isinstance(key, str):
        raise DomainError("missing_value", _("Say which dataset."), field="package_id")
    dataset = dataset_get(key)
    position = dataset.resources.count()
    resource = _resource_new(dataset, data, position=position, upload=upload)
    Dataset.objects.filter(pk=dataset.pk).update(modified=timezone.now())
    catalogue_changed([dataset.pk])
    return resource


@transaction.atomic
def resource_update(*, principal: Principal, data: dict[str, Any], upload: uploads.Upload | None) -> Resource:
    principal.require("opendata.publish")
    key = data.get("id")
    if not isinstance(key, str):
        raise DomainError("missing_value", _("Say which resource."), field="id")
    resource = resource_get(key)
    if resource.versions.exists() and upload is not None:
        raise DomainError(
            "versioned_resource", _("This table is published in versions by its agency."), status=409, field="upload"
        )
    for field in ("name", "description", "format"):
        if field in data:
            setattr(resource, field, _text(data, field)[: 50 if field == "format" else 1000])
    if upload is not None or "url" in data:
        _content(resource, data, upload)
    resource.modified = timezone.now()
    resource.save()
    catalogue_changed([resource.dataset_id])
    return resource


@transaction.atomic
def datastore_resource_create(*, principal: Principal, data: dict[str, Any]) -> Resource:
    """A resource whose content is a datastore table (its rows follow through ``datastore_create``)."""
    principal.require("opendata.publish")
    key = data.get("package_id")
    if not isinstance(key, str):
        raise DomainError("missing_value", _("Say which dataset."), field="package_id")
    dataset = dataset_get(key)
    now = timezone.now()
    catalogue_changed([dataset.pk])
    return Resource.objects.create(
        dataset=dataset,
        name=_text(data, "name"),
        description=_text(data, "description"),
        format="CSV",
        url_type="datastore",
        datastore_active=True,
        position=dataset.resources.count(),
        created=now,
        modified=now,
    )
