"""Reads of the catalogue, in CKAN's shapes (the Action API's dictionaries). Open data names no
person, so reads are not purpose-logged; a private dataset does not exist on this portal."""

from __future__ import annotations

import re
import shlex
from collections.abc import Iterable
from typing import Any, Final

import orjson
from django.conf import settings
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils.translation import gettext as _

from gov21.core.errors import DomainError, NotFound
from gov21.opendata import search
from gov21.opendata.licences import BY_ID
from gov21.opendata.models import Dataset, Group, Organization, Resource, Tag, Version

ROWS_MAX: Final = 1000
FACETABLE: Final = {
    "organization": "organization__name",
    "groups": "groups__name",
    "tags": "tags__name",
    "license_id": "license_id",
    "res_format": "resources__format",
    "frequency": "frequency",
}
SORTS: Final = {
    "name": "name",
    "title_string": "title",
    "metadata_modified": "modified",
    "metadata_created": "created",
    "score": "-modified",
}
_FQ_TERM: Final = re.compile(r"^\+?([a-z_]+):(.+)$")


def _base() -> str:
    return str(settings.BASE_URL).rstrip("/")


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def organization_dict(organization: Organization, *, package_count: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": str(organization.id),
        "name": organization.name,
        "title": organization.title,
        "display_name": organization.title,
        "description": organization.description,
        "type": "organization",
        "is_organization": True,
        "state": "active",
        "approval_status": "approved",
        "image_url": "",
        "created": _iso(organization.created),
        "member_code": organization.member_code,
    }
    if package_count is not None:
        found["package_count"] = package_count
    return found


def group_dict(group: Group, *, package_count: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {
        "id": str(group.id),
        "name": group.name,
        "title": group.title,
        "display_name": group.title,
        "description": group.description,
        "type": "group",
        "is_organization": False,
        "state": "active",
        "image_display_url": "",
        "created": _iso(group.created),
    }
    if package_count is not None:
        found["package_count"] = package_count
    return found


def resource_url(resource: Resource) -> str:
    if resource.url_type == "datastore":
        return f"{_base()}/datastore/dump/{resource.id}"
    if resource.url_type == "upload":
        return f"{_base()}/dataset/{resource.dataset.name}/resource/{resource.id}/download"
    return resource.url


def resource_dict(resource: Resource) -> dict[str, Any]:
    return {
        "id": str(resource.id),
        "package_id": str(resource.dataset_id),
        "name": resource.name,
        "description": resource.description,
        "format": resource.format,
        "url": resource_url(resource),
        "url_type": resource.url_type or None,
        "mimetype": resource.mimetype or None,
        "size": resource.size,
        "hash": f"sha256:{resource.sha256}" if resource.sha256 else "",
        "datastore_active": resource.datastore_active,
        "position": resource.position,
        "state": resource.state,
        "created": _iso(resource.created),
        "last_modified": _iso(resource.modified),
        "metadata_modified": _iso(resource.modified),
    }


def package_dict(dataset: Dataset) -> dict[str, Any]:
    licence = BY_ID.get(dataset.license_id)
    resources = [r for r in dataset.resources.all() if r.state == "active"]
    tags = sorted(dataset.tags.all(), key=lambda t: t.name)
    extras = {
        "frequency": dataset.frequency,
        "spatial": ",".join(dataset.spatial),
        "temporal_start": _iso(dataset.temporal_start) or "",
        "temporal_end": _iso(dataset.temporal_end) or "",
    }
    if dataset.harvest_source:
        extras |= {
            "harvest_source": dataset.harvest_source,
            "harvest_identifier": dataset.harvest_identifier,
            "harvest_timestamp": _iso(dataset.harvested) or "",
        }
    return {
        "id": str(dataset.id),
        "name": dataset.name,
        "title": dataset.title,
        "notes": dataset.notes,
        "type": "dataset",
        "state": dataset.state,
        "private": False,
        "isopen": licence is not None,
        "license_id": dataset.license_id,
        "license_title": licence.title if licence else dataset.license_id,
        "license_url": licence.url if licence else "",
        "metadata_created": _iso(dataset.created),
        "metadata_modified": _iso(dataset.modified),
        "version": str(dataset.version) if dataset.version else None,
        "url": f"{_base()}/dataset/{dataset.name}",
        "author": dataset.organization.title,
        "author_email": "",
        "maintainer": dataset.contact_name,
        "maintainer_email": dataset.contact_email,
        "owner_org": str(dataset.organization_id),
        "organization": organization_dict(dataset.organization),
        "groups": [group_dict(g) for g in sorted(dataset.groups.all(), key=lambda g: g.name)],
        "tags": [
            {"id": str(t.pk), "name": t.name, "display_name": t.name, "state": "active", "vocabulary_id": None}
            for t in tags
        ],
        "num_tags": len(tags),
        "resources": [resource_dict(r) for r in sorted(resources, key=lambda r: r.position)],
        "num_resources": len(resources),
        "extras": [{"key": k, "value": v} for k, v in extras.items()],
        "relationships_as_object": [],
        "relationships_as_subject": [],
        **extras,
    }


def datasets() -> QuerySet[Dataset]:
    """Active datasets with everything their dictionaries need, in a fixed number of queries."""
    return (
        Dataset.objects.filter(state="active")
        .select_related("organization")
        .prefetch_related(Prefetch("resources", queryset=Resource.objects.order_by("position")), "groups", "tags")
    )


def local_datasets(*, limit: int) -> list[Dataset]:
    """The active datasets published here (not copied from another portal), latest changed first."""
    own = Dataset.objects.filter(state="active", harvested_from__isnull=True).select_related("organization")
    return list(own.order_by("-modified")[:limit])


def harvested_count() -> int:
    """How many active datasets are copies of another portal's."""
    return Dataset.objects.filter(state="active", harvested_from__isnull=False).count()


def dataset_get(id_or_name: str) -> Dataset:
    query = Q(name=id_or_name)
    if re.fullmatch(r"[0-9a-f-]{36}", id_or_name):
        query |= Q(id=id_or_name)
    found = datasets().filter(query).first()
    if found is None:
        raise NotFound("not_found", _("No such dataset."), field="id")
    return found


def resource_get(resource_id: str) -> Resource:
    if not re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", resource_id):
        raise NotFound("not_found", _("No such resource."), field="id")
    found = (
        Resource.objects.select_related("dataset")
        .filter(id=resource_id, state="active", dataset__state="active")
        .first()
    )
    if found is None:
        raise NotFound("not_found", _("No such resource."), field="id")
    return found


def organization_get(id_or_name: str) -> Organization:
    query = Q(name=id_or_name) | Q(member_code=id_or_name)
    if re.fullmatch(r"[0-9a-f-]{36}", id_or_name):
        query |= Q(id=id_or_name)
    found = Organization.objects.filter(query).first()
    if found is None:
        raise NotFound("not_found", _("No such organization."), field="id")
    return found


def group_get(id_or_name: str) -> Group:
    query = Q(name=id_or_name)
    if re.fullmatch(r"[0-9a-f-]{36}", id_or_name):
        query |= Q(id=id_or_name)
    found = Group.objects.filter(query).first()
    if found is None:
        raise NotFound("not_found", _("No such group."), field="id")
    return found


def package_names(*, limit: int, offset: int) -> list[str]:
    names = Dataset.objects.filter(state="active").order_by("name").values_list("name", flat=True)
    return list(names[offset : offset + limit])


def organizations_with_counts() -> list[tuple[Organization, int]]:
    rows = Organization.objects.annotate(n=Count("datasets", filter=Q(datasets__state="active"))).order_by("name")
    return [(row, row.n) for row in rows]


def groups_with_counts() -> list[tuple[Group, int]]:
    rows = Group.objects.annotate(n=Count("datasets", filter=Q(datasets__state="active"))).order_by("name")
    return [(row, row.n) for row in rows]


def tag_names(query: str = "") -> list[str]:
    tags = Tag.objects.filter(datasets__state="active").distinct().order_by("name")
    if query:
        tags = tags.filter(name__icontains=query)
    return list(tags.values_list("name", flat=True))


def _terms(text: str, *, field: str) -> list[tuple[str, str]]:
    """Solr-style ``field:value`` terms, all of which must hold, as CKAN's ``fq`` takes them."""
    try:
        words = shlex.split(text)
    except ValueError:
        raise DomainError("search_query_error", _("The filter could not be read."), field=field) from None
    terms = []
    for word in words:
        match = _FQ_TERM.match(word)
        if match is None or match.group(1) not in FACETABLE | {"name": "name", "id": "id"}:
            raise DomainError(
                "search_query_error",
                _("Filters are field:value terms on %(fields)s.") % {"fields": ", ".join(sorted(FACETABLE))},
                field=field,
            )
        terms.append((match.group(1), match.group(2).strip('"')))
    return terms


def _query(q: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The words of ``q`` (each looked for in the search text) and its ``field:value`` terms."""
    words, terms = [], []
    for word in q.split():
        if word in {"*:*", "*"}:
            continue
        if _FQ_TERM.match(word):
            terms += _terms(word, field="q")
            continue
        words.append(word.lower())
    return words, terms


def _packages(ids: list[str]) -> dict[str, dict[str, Any]]:
    return {str(d.id): package_dict(d) for d in datasets().filter(id__in=ids)}


def package_search(
    *,
    q: str,
    fq: str,
    rows: int,
    start: int,
    sort: str,
    facet_fields: Iterable[str],
    facet_limit: int,
    rendered: bool = False,
) -> dict[str, Any]:
    """CKAN's ``package_search``: the datasets matching the words of ``q`` (in title, description,
    name or a tag) and every ``fq`` term, one page of them, and the counts of each facet's values.
    Answered from the process's in-memory index (``search.py``), current with the database. With
    ``rendered``, the results are the datasets' JSON as made once (``orjson.Fragment``), for an
    answer that is serialised as it is; otherwise dictionaries."""
    if not 0 <= rows <= ROWS_MAX or start < 0:
        raise DomainError(
            "search_query_error", _("rows is 0 to %(max)d and start is not negative.") % {"max": ROWS_MAX}, field="rows"
        )
    order = []
    for part in (sort or "score desc, metadata_modified desc").split(","):
        words = part.split()
        if not words or words[0] not in SORTS or (len(words) > 1 and words[1] not in {"asc", "desc"}):
            raise DomainError(
                "search_query_error", _("Sort by %(fields)s.") % {"fields": ", ".join(SORTS)}, field="sort"
            )
        column = SORTS[words[0]]
        descending = (len(words) > 1 and words[1] == "desc") != column.startswith("-")
        order.append((column.lstrip("-"), descending))
    facets = list(facet_fields)
    for facet in facets:
        if facet not in FACETABLE:
            raise DomainError(
                "search_query_error",
                _("Facets are %(fields)s.") % {"fields": ", ".join(sorted(FACETABLE))},
                field="facet.field",
            )
    words, terms = _query(q)
    terms += _terms(fq, field="fq")
    index = search.index_current()
    found, page = search.answer(
        index, words=words, terms=terms, order=order, facets=facets, limit=facet_limit, start=start, rows=rows
    )
    made = search.packages(index, page, _packages)
    search_facets = {
        facet: {
            "title": facet,
            "items": [{"name": k, "display_name": k, "count": n} for k, n in found.facets[facet].items()],
        }
        for facet in facets
    }
    return {
        "count": found.count,
        "results": [orjson.Fragment(m) for m in made] if rendered else [orjson.loads(m) for m in made],
        "facets": found.facets,
        "search_facets": search_facets,
        "sort": sort or "score desc, metadata_modified desc",
    }


def versions_of(dataset: Dataset) -> list[Version]:
    return list(dataset.versions.order_by("-number"))


def version_get(dataset: Dataset, number: int) -> Version:
    found = dataset.versions.filter(number=number).first()
    if found is None:
        raise NotFound("not_found", _("No such version of this dataset."), field="version")
    return found


def latest_version(resource: Resource) -> Version | None:
    return resource.versions.order_by("-number").first()
