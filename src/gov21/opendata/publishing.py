"""Writes to the catalogue: organizations from the exchange directory, datasets, and the versions of
a published table with their diffs."""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from collections.abc import Sequence
from typing import Any, Final

import orjson
from django.db import transaction
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.core.principal import Principal
from gov21.exchange.contracts import agency_name
from gov21.opendata import datastore, uploads
from gov21.opendata.contracts import PublishedVersion, TableColumn, TablePublication
from gov21.opendata.licences import BY_ID, FREQUENCIES
from gov21.opendata.models import Dataset, Group, Organization, Resource, Tag, Version
from gov21.opendata.search import catalogue_changed

NAME: Final = re.compile(r"[a-z0-9_-]{2,100}")
MEMBER_CODE: Final = re.compile(r"[A-Z0-9][A-Z0-9-]{0,49}")
EXAMPLES: Final = 5


def name_check(value: str, field: str = "name") -> str:
    if not NAME.fullmatch(value):
        raise DomainError(
            "invalid_name",
            _("A name is 2 to 100 lower-case letters, digits, hyphens or underscores."),
            field=field,
        )
    return value


def organization_ensure(member_code: str) -> Organization:
    """The organization of agency ``member_code``, created from the exchange directory the first time."""
    found = Organization.objects.filter(member_code=member_code).first()
    if found is not None:
        return found
    if not MEMBER_CODE.fullmatch(member_code):
        raise DomainError("unknown_organization", _("No such agency in the exchange directory."), field="organization")
    identifier = f"{config.INSTANCE.read()}/GOV/{member_code}"
    # The directory keeps names in English; the catalogue does too.
    with translation.override("en"):
        title = agency_name(identifier)
    if title == identifier:
        raise DomainError(
            "unknown_organization",
            _("The exchange directory has no agency %(code)s.") % {"code": member_code},
            status=404,
            field="organization",
        )
    organization, _created = Organization.objects.get_or_create(
        member_code=member_code,
        defaults={"name": member_code.lower(), "title": title, "created": timezone.now()},
    )
    return organization


def group_ensure(name: str) -> Group:
    name_check(name, "groups")
    group, _created = Group.objects.get_or_create(
        name=name, defaults={"title": name.replace("-", " ").capitalize(), "created": timezone.now()}
    )
    return group


def tags_set(dataset: Dataset, names: Sequence[str]) -> None:
    tags = []
    for raw in names:
        name = raw.strip()
        if not name or len(name) > 100:
            raise DomainError("invalid_tag", _("A tag is 1 to 100 characters."), field="tags")
        tags.append(Tag.objects.get_or_create(name=name)[0])
    dataset.tags.set(tags)


def search_text_refresh(dataset: Dataset) -> None:
    """Keep the words a search looks in current (after any change of the dataset or its tags)."""
    tags = " ".join(dataset.tags.values_list("name", flat=True))
    text = f"{dataset.name} {dataset.title} {dataset.notes} {tags}".lower()
    Dataset.objects.filter(pk=dataset.pk).update(search_text=text)
    catalogue_changed([dataset.pk])


def _canonical(row: Sequence[object]) -> tuple[str, ...]:
    return tuple("" if cell is None else cell.isoformat() if hasattr(cell, "isoformat") else str(cell) for cell in row)


def rows_digest(columns: Sequence[tuple[str, str]], rows: Sequence[Sequence[object]]) -> str:
    payload = orjson.dumps({"columns": list(columns), "rows": [_canonical(r) for r in rows]})
    return hashlib.sha256(payload).hexdigest()


def table_diff(
    columns: Sequence[tuple[str, str]], before: Sequence[Sequence[object]], after: Sequence[Sequence[object]]
) -> dict[str, Any]:
    """Rows added, removed and changed between two releases of a table. A row is known by its
    dimension columns (text, date, timestamp, boolean); when those do not tell rows apart, by the
    whole row, and a change is then a removal and an addition."""
    key = [i for i, (_name, kind) in enumerate(columns) if kind in {"text", "date", "timestamp", "boolean"}]
    old = [_canonical(r) for r in before]
    new = [_canonical(r) for r in after]

    def keyed(rows: list[tuple[str, ...]]) -> dict[tuple[str, ...], tuple[str, ...]] | None:
        out = {tuple(r[i] for i in key): r for r in rows}
        return out if key and len(out) == len(rows) else None

    old_keyed, new_keyed = keyed(old), keyed(new)
    if old_keyed is not None and new_keyed is not None:
        added = [new_keyed[k] for k in new_keyed if k not in old_keyed]
        removed = [old_keyed[k] for k in old_keyed if k not in new_keyed]
        changed = [(old_keyed[k], new_keyed[k]) for k in new_keyed if k in old_keyed and old_keyed[k] != new_keyed[k]]
        key_names = [columns[i][0] for i in key]
    else:
        old_count, new_count = Counter(old), Counter(new)
        added = list((new_count - old_count).elements())
        removed = list((old_count - new_count).elements())
        changed = []
        key_names = [name for name, _kind in columns]
    return {
        "key": key_names,
        "added": len(added),
        "removed": len(removed),
        "changed": len(changed),
        "examples": {
            "added": [list(r) for r in added[:EXAMPLES]],
            "removed": [list(r) for r in removed[:EXAMPLES]],
            "changed": [{"before": list(b), "after": list(a)} for b, a in changed[:EXAMPLES]],
        },
    }


def _publication_check(publication: TablePublication) -> list[tuple[str, str]]:
    name_check(publication.dataset, "dataset")
    if not publication.title.strip():
        raise DomainError("invalid_title", _("A dataset needs a title."), field="title")
    if not publication.change_note.strip():
        raise DomainError("invalid_change_note", _("Say what changed in this version."), field="change_note")
    if publication.licence not in BY_ID:
        raise DomainError("invalid_licence", _("Choose one of the portal's licences."), field="licence")
    if publication.frequency not in FREQUENCIES:
        raise DomainError("invalid_frequency", _("Choose an update frequency DCAT knows."), field="frequency")
    if not publication.columns:
        raise DomainError("invalid_columns", _("A table has at least one column."), field="columns")
    seen: set[str] = set()
    for column in publication.columns:
        if not datastore.COLUMN_NAME.fullmatch(column.name) or column.name in seen or column.name == "_id":
            raise DomainError(
                "invalid_column",
                _("Column names are unique, lower-case letters, digits and underscores: %(name)s")
                % {"name": column.name},
                field="columns",
            )
        if column.type not in datastore.DUCKDB_TYPES:
            raise DomainError(
                "invalid_column", _("Unknown column type %(type)s.") % {"type": column.type}, field="columns"
            )
        seen.add(column.name)
    if (
        publication.temporal_start is not None
        and publication.temporal_end is not None
        and publication.temporal_start > publication.temporal_end
    ):
        raise DomainError("invalid_temporal", _("The period ends before it starts."), field="temporal_end")
    return [(c.name, c.type) for c in publication.columns]


def resource_fields(publication: TablePublication) -> list[dict[str, Any]]:
    return [
        {"id": c.name, "type": datastore.CKAN_TYPES[c.type], "info": {"label": c.title}} for c in publication.columns
    ]


def publication_publish(publication: TablePublication) -> PublishedVersion:
    columns = _publication_check(publication)
    rows = datastore.rows_check(columns, publication.rows)
    digest = rows_digest(columns, rows)
    # What was done to the datastore, to undo it if the catalogue's transaction fails.
    undo: dict[str, str] = {}
    try:
        with transaction.atomic():
            return _publish(publication, columns, rows, digest, undo)
    except BaseException:
        if "view" in undo:
            datastore.view_restore(name=undo["view"], table=undo.get("previous", ""))
        if "table" in undo:
            datastore.table_drop(undo["table"])
        raise


def _publish(
    publication: TablePublication,
    columns: list[tuple[str, str]],
    rows: list[tuple[object, ...]],
    digest: str,
    undo: dict[str, str],
) -> PublishedVersion:
    now = timezone.now()
    organization = organization_ensure(publication.organization)
    dataset = Dataset.objects.select_for_update().filter(name=publication.dataset).first()
    if dataset is not None and dataset.organization_id != organization.id:
        raise DomainError(
            "name_taken", _("Another organization publishes a dataset of this name."), status=409, field="dataset"
        )
    metadata = {
        "title": publication.title,
        "notes": publication.notes,
        "license_id": publication.licence,
        "frequency": publication.frequency,
        "spatial": list(publication.spatial),
        "temporal_start": publication.temporal_start,
        "temporal_end": publication.temporal_end,
        "state": "active",
    }
    if dataset is None:
        dataset = Dataset.objects.create(
            name=publication.dataset, organization=organization, created=now, modified=now, **metadata
        )
    else:
        for attribute, value in metadata.items():
            setattr(dataset, attribute, value)
    dataset.groups.set([group_ensure(g) for g in publication.groups])
    tags_set(dataset, publication.tags)
    dataset.search_text = ""
    resource = dataset.resources.filter(url_type="datastore", versions__isnull=False).distinct().first()
    if resource is None:
        resource = Resource.objects.create(
            dataset=dataset,
            name=publication.title,
            format="CSV",
            url_type="datastore",
            datastore_active=True,
            created=now,
            modified=now,
        )
    last = dataset.versions.order_by("-number").first()
    fields = resource_fields(publication)
    if last is not None and last.rows_sha256 == digest:
        dataset.save()
        search_text_refresh(dataset)
        return PublishedVersion(publication.dataset, last.number, str(resource.id), created=False)
    number = (last.number if last is not None else 0) + 1
    before = datastore.table_rows(last.table, [c["id"] for c in last.columns]) if last is not None else []
    previous_columns = [(c["id"], c["kind"]) for c in last.columns] if last is not None else []
    if last is not None and previous_columns != columns:
        diff = table_diff(columns, [], rows) | {"columns_changed": True, "removed": len(before)}
    else:
        diff = table_diff(columns, before, rows)
    rid = str(resource.id)
    table = datastore.version_table(rid, number)
    undo["table"] = table
    datastore.table_write(table=table, columns=columns, rows=rows)
    Version.objects.create(
        dataset=dataset,
        number=number,
        resource=resource,
        change_note=publication.change_note,
        table=table,
        columns=[
            {"id": n, "kind": k, "title": c.title} for (n, k), c in zip(columns, publication.columns, strict=True)
        ],
        row_count=len(rows),
        rows_sha256=digest,
        diff=diff,
        created=now,
    )
    resource.fields = fields
    resource.name = publication.title
    resource.modified = now
    resource.save()
    dataset.version = number
    dataset.modified = now
    dataset.save()
    search_text_refresh(dataset)
    undo["view"], undo["previous"] = rid, last.table if last is not None else ""
    datastore.view_point(name=rid, table=table)
    return PublishedVersion(publication.dataset, number, rid, created=True)


def dataset_version_publish(
    *, principal: Principal, name: str, upload: uploads.Upload, change_note: str
) -> PublishedVersion:
    """A publisher's new release of a dataset's table from an uploaded CSV or XLSX file, with its
    change note: numbered, diffed against the last release, and all or nothing (``table_publish``)."""
    principal.require("opendata.publish")
    dataset = Dataset.objects.select_related("organization").filter(name=name, state="active").first()
    if dataset is None:
        raise DomainError("not_found", _("No such dataset."), status=404, field="name")
    if dataset.harvested_from_id is not None:
        raise DomainError("harvested", _("This dataset is copied from another portal; it changes there."), status=409)
    table = uploads.table_read(upload)
    if table is None:
        raise DomainError("not_a_table", _("Upload the table as a CSV or XLSX file."), field="upload")
    columns, rows = table
    last = dataset.versions.order_by("-number").first()
    titles = {c["id"]: c.get("title") or c["id"] for c in last.columns} if last is not None else {}
    publication = TablePublication(
        dataset=dataset.name,
        organization=dataset.organization.member_code,
        title=dataset.title,
        notes=dataset.notes,
        columns=tuple(TableColumn(n, k, titles.get(n, n)) for n, k in columns),  # type: ignore[arg-type]
        rows=rows,
        change_note=change_note,
        tags=tuple(dataset.tags.values_list("name", flat=True)),
        groups=tuple(dataset.groups.values_list("name", flat=True)),
        frequency=dataset.frequency if dataset.frequency in FREQUENCIES else "irregular",
        spatial=tuple(dataset.spatial),
        temporal_start=dataset.temporal_start,
        temporal_end=dataset.temporal_end,
        licence=dataset.license_id if dataset.license_id in BY_ID else "CC-BY-4.0",
    )
    return publication_publish(publication)
