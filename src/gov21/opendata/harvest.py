"""Harvesting: copying the catalogue of another portal, a CKAN (its Action API) or a DCAT catalogue
(Turtle, JSON-LD or RDF/XML, paged with Hydra), on a schedule, with the provenance of every dataset.

A job reads the whole catalogue first, under a time limit per answer, a size cap per answer and a
cap on datasets, from public addresses only; any failure there ends the job with nothing changed.
Then each dataset is written in a transaction of its own: created, updated when what the source says
of it changed, left alone when not, and withdrawn (CKAN's ``deleted`` state) when the source no
longer lists it. A dataset published here is never touched: harvested ones are known by their
source and the source's identifier, and take another name when theirs is taken here."""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import logging
import socket
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Final
from urllib.parse import urlencode, urljoin, urlsplit

import httpx2
import orjson
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF
from rdflib.term import Node

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.core.loops import batches_loop
from gov21.core.principal import Principal
from gov21.opendata.dcat import HYDRA
from gov21.opendata.licences import BY_ID, LICENCES
from gov21.opendata.models import Dataset, HarvestJob, HarvestSource, Organization, Resource
from gov21.opendata.publishing import NAME, name_check, organization_ensure, search_text_refresh, tags_set
from gov21.opendata.search import catalogue_changed
from gov21.opendata.selectors import organization_get

logger = logging.getLogger(__name__)

PAGE_ROWS: Final = 100
REDIRECTS_MAX: Final = 3
LOG_MAX: Final = 500
FREQUENCY_HOURS: Final = dict(HarvestSource.FREQUENCIES)
KINDS: Final = {kind for kind, _label in HarvestSource.KINDS}
# CKAN's harvester's names for the kinds of source, accepted as well as ours.
KIND_ALIASES: Final = {"ckan": "ckan", "dcat": "dcat", "dcat_rdf": "dcat", "dcat_json": "dcat"}
RDF_ACCEPT: Final = "text/turtle, application/ld+json;q=0.9, application/rdf+xml;q=0.8"
RDF_MEDIA: Final = {
    "text/turtle": "turtle",
    "application/x-turtle": "turtle",
    "application/ld+json": "json-ld",
    "application/json": "json-ld",
    "application/rdf+xml": "xml",
    "application/xml": "xml",
    "text/xml": "xml",
}
RDF_SUFFIX: Final = {".ttl": "turtle", ".jsonld": "json-ld", ".rdf": "xml", ".xml": "xml"}
HAS_VERSION: Final = URIRef(f"{DCAT}hasVersion")  # DCAT 3, unknown to rdflib's DCAT namespace
LICENCE_BY_URL: Final = {lic.url.rstrip("/"): lic.id for lic in LICENCES}


class HarvestError(Exception):
    """The source could not be read as a catalogue; the message is for the person running the harvest."""


@dataclass(frozen=True)
class HarvestedResource:
    name: str
    url: str
    format: str
    description: str = ""


@dataclass(frozen=True)
class HarvestedDataset:
    """What a source says of one dataset, in the shape the catalogue keeps."""

    guid: str  # the source's own identifier
    uri: str  # the dataset's address at the source
    name: str
    title: str
    notes: str
    tags: tuple[str, ...] = ()
    licence: str = ""
    resources: tuple[HarvestedResource, ...] = field(default=())

    def digest(self) -> str:
        return hashlib.sha256(orjson.dumps(asdict(self))).hexdigest()


# --- where a source may be --------------------------------------------------------------------------


def address_check(url: str) -> str:
    """A harvest source's address: http(s), and every address its name resolves to public; loopback
    only where ``GOV21_OPENDATA_HARVEST_LOOPBACK`` allows it. Private, link-local, multicast and
    reserved addresses are always refused, so that a harvest cannot be pointed inside the network."""
    parts = urlsplit(url)
    if parts.scheme not in {"http", "https"} or not parts.hostname:
        raise DomainError("invalid_url", _("A harvest source is an http or https address."), field="url")
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
        found = socket.getaddrinfo(parts.hostname, port, type=socket.SOCK_STREAM)
    except (OSError, ValueError, UnicodeError):
        raise DomainError(
            "unknown_host", _("The address %(host)s could not be found.") % {"host": parts.hostname}, field="url"
        ) from None
    loopback_allowed = config.OPENDATA_HARVEST_LOOPBACK.read()
    for *_rest, sockaddr in found:
        address = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if address.is_loopback and loopback_allowed:
            continue
        if not address.is_global:
            raise DomainError(
                "private_url",
                _("A harvest source must be on a public address; %(host)s is not.") % {"host": parts.hostname},
                field="url",
            )
    return url


# --- reading a source -------------------------------------------------------------------------------


def _fetch(client: httpx2.Client, url: str, *, accept: str) -> tuple[bytes, str, str]:
    """The body, media type and final address of ``url``; redirects followed (each address checked),
    the body read up to the cap."""
    limit = config.OPENDATA_HARVEST_MAX_BYTES.read()
    timeout = config.OPENDATA_HARVEST_TIMEOUT_S.read()
    for _hop in range(REDIRECTS_MAX + 1):
        try:
            address_check(url)
        except DomainError as error:
            raise HarvestError(error.detail) from None
        try:
            with client.stream("GET", url, headers={"Accept": accept}) as response:
                if response.is_redirect and "location" in response.headers:
                    url = urljoin(url, response.headers["location"])
                    continue
                if response.status_code >= 400:
                    raise HarvestError(
                        _("The source answered %(url)s with HTTP status %(status)d.")
                        % {"url": url, "status": response.status_code}
                    )
                declared = int(response.headers.get("content-length") or 0)
                if declared > limit:
                    raise HarvestError(_too_big(url, limit))
                body = bytearray()
                for chunk in response.iter_bytes():
                    body += chunk
                    if len(body) > limit:
                        raise HarvestError(_too_big(url, limit))
                media = response.headers.get("content-type", "").split(";", 1)[0].strip().lower()
                return bytes(body), media, url
        except httpx2.TimeoutException:
            raise HarvestError(
                _("The source did not answer %(url)s within %(seconds)d seconds.") % {"url": url, "seconds": timeout}
            ) from None
        except httpx2.HTTPError as error:
            raise HarvestError(
                _("The source could not be reached at %(url)s: %(reason)s")
                % {"url": url, "reason": type(error).__name__}
            ) from None
    raise HarvestError(_("The source redirected more than %(n)d times.") % {"n": REDIRECTS_MAX})


def _too_big(url: str, limit: int) -> str:
    return _("The answer to %(url)s is larger than %(mb).1f MB, the most a harvest reads.") % {
        "url": url,
        "mb": limit / 1_048_576,
    }


def _client() -> httpx2.Client:
    seconds = config.OPENDATA_HARVEST_TIMEOUT_S.read()
    return httpx2.Client(
        timeout=httpx2.Timeout(seconds),
        follow_redirects=False,
        trust_env=False,
        headers={"User-Agent": "gov21-harvest"},
    )


def _ckan_text(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _ckan_dataset(base: str, package: Any) -> HarvestedDataset:
    if not isinstance(package, dict) or not isinstance(package.get("id"), str) or not package["id"]:
        raise HarvestError(_("A dataset in the source's answer has no identifier."))
    resources = []
    for item in package.get("resources") or []:
        if isinstance(item, dict) and isinstance(item.get("url"), str) and item["url"]:
            resources.append(
                HarvestedResource(
                    name=_ckan_text(item.get("name"))[:300],
                    url=item["url"][:1000],
                    format=_ckan_text(item.get("format"))[:50],
                    description=_ckan_text(item.get("description"))[:1000],
                )
            )
    tags = sorted(
        {t["name"][:100] for t in package.get("tags") or [] if isinstance(t, dict) and isinstance(t.get("name"), str)}
    )
    name = _ckan_text(package.get("name")) or package["id"]
    return HarvestedDataset(
        guid=package["id"][:500],
        uri=f"{base}/dataset/{name}"[:500],
        name=name,
        title=(_ckan_text(package.get("title")) or name)[:300],
        notes=_ckan_text(package.get("notes"))[:20_000],
        tags=tuple(t for t in tags if t.strip()),
        licence=_ckan_text(package.get("license_id"))[:50],
        resources=tuple(resources),
    )


def ckan_read(client: httpx2.Client, url: str) -> list[HarvestedDataset]:
    """Every active dataset of a CKAN, page by page through ``package_search``."""
    base = url.rstrip("/")
    for suffix in ("/api/3/action", "/api/action"):
        base = base.removesuffix(suffix)
    most = config.OPENDATA_HARVEST_MAX_DATASETS.read()
    found: list[HarvestedDataset] = []
    start = 0
    while True:
        query = urlencode({"q": "*:*", "rows": PAGE_ROWS, "start": start, "sort": "name asc"})
        body, _media, _final = _fetch(client, f"{base}/api/3/action/package_search?{query}", accept="application/json")
        try:
            answer = orjson.loads(body)
        except orjson.JSONDecodeError:
            raise HarvestError(_("The source's answer is not JSON: it is not a CKAN Action API.")) from None
        result = answer.get("result") if isinstance(answer, dict) and answer.get("success") is True else None
        if not isinstance(result, dict) or not isinstance(result.get("results"), list):
            raise HarvestError(_("The source's answer is not a CKAN package_search result."))
        count = result.get("count")
        if not isinstance(count, int) or count < 0:
            raise HarvestError(_("The source's answer is not a CKAN package_search result."))
        if count > most:
            raise HarvestError(
                _("The source lists %(count)d datasets, more than the %(most)d one harvest takes.")
                % {"count": count, "most": most}
            )
        found.extend(_ckan_dataset(base, package) for package in result["results"])
        start += PAGE_ROWS
        if not result["results"] or start >= count:
            return found


def _literal(graph: Graph, node: Node, predicate: URIRef) -> str:
    """The English (or untagged, or any) text of ``predicate``."""
    values = [v for v in graph.objects(node, predicate) if isinstance(v, Literal)]
    for wanted in ("en", None):
        for value in values:
            if value.language == wanted:
                return str(value)
    return str(values[0]) if values else ""


def _format(graph: Graph, node: Node) -> str:
    for predicate in (DCTERMS.format, DCAT.mediaType):
        for value in graph.objects(node, predicate):
            text = str(value).rstrip("/")
            return text.rsplit("/", 1)[-1].upper()[:50]
    return ""


def _dcat_dataset(graph: Graph, node: Node) -> HarvestedDataset:
    uri = str(node) if isinstance(node, URIRef) else ""
    guid = _literal(graph, node, DCTERMS.identifier) or uri
    if not guid:
        raise HarvestError(_("A dataset in the source's catalogue has neither an address nor an identifier."))
    licence = ""
    distributions = list(graph.objects(node, DCAT.distribution))
    for subject in (node, *distributions):
        for value in graph.objects(subject, DCTERMS.license):
            licence = licence or LICENCE_BY_URL.get(str(value).rstrip("/"), "")
    resources = []
    for distribution in distributions:
        link = next(iter(graph.objects(distribution, DCAT.downloadURL)), None) or next(
            iter(graph.objects(distribution, DCAT.accessURL)), None
        )
        if link is None:
            continue
        resources.append(
            HarvestedResource(
                name=_literal(graph, distribution, DCTERMS.title)[:300],
                url=str(link)[:1000],
                format=_format(graph, distribution),
                description=_literal(graph, distribution, DCTERMS.description)[:1000],
            )
        )
    title = _literal(graph, node, DCTERMS.title) or guid
    tail = uri.rstrip("/").rsplit("/", 1)[-1].lower() if uri else ""
    return HarvestedDataset(
        guid=guid[:500],
        uri=(uri or guid)[:500],
        name=tail,
        title=title[:300],
        notes=_literal(graph, node, DCTERMS.description)[:20_000],
        tags=tuple(sorted({str(k)[:100] for k in graph.objects(node, DCAT.keyword) if str(k).strip()})),
        licence=licence,
        resources=tuple(sorted(resources, key=lambda r: (r.url, r.name))),
    )


def dcat_read(client: httpx2.Client, url: str) -> list[HarvestedDataset]:
    """Every dataset of a DCAT catalogue, following Hydra's next page."""
    most = config.OPENDATA_HARVEST_MAX_DATASETS.read()
    found: dict[str, HarvestedDataset] = {}
    seen_pages: set[str] = set()
    page: str | None = url
    while page is not None and page not in seen_pages:
        seen_pages.add(page)
        body, media, final = _fetch(client, page, accept=RDF_ACCEPT)
        fmt = RDF_MEDIA.get(media) or next(
            (f for suffix, f in RDF_SUFFIX.items() if urlsplit(final).path.endswith(suffix)), "turtle"
        )
        graph = Graph()
        try:
            graph.parse(data=body, format=fmt, publicID=final)
        except Exception:  # rdflib's parsers raise many kinds; each means the same here
            raise HarvestError(
                _("The source's answer could not be read as DCAT (%(format)s).") % {"format": fmt}
            ) from None
        catalogues = set(graph.subjects(RDF.type, DCAT.Catalog))
        listed = {d for c in catalogues for d in graph.objects(c, DCAT.dataset)}
        nodes = listed or set(graph.subjects(RDF.type, DCAT.Dataset))
        if not nodes and not catalogues:
            raise HarvestError(_("The source's answer holds no DCAT catalogue or dataset."))
        for node in nodes:
            if (None, HAS_VERSION, node) in graph:
                continue  # a release of a dataset, listed with the dataset itself
            dataset = _dcat_dataset(graph, node)
            found[dataset.guid] = dataset
        if len(found) > most:
            raise HarvestError(
                _("The source lists more than the %(most)d datasets one harvest takes.") % {"most": most}
            )
        following = [o for p in (HYDRA.next, HYDRA.nextPage) for o in graph.objects(None, p)]
        page = str(following[0]) if following else None
    return list(found.values())


def source_read(source: HarvestSource) -> list[HarvestedDataset]:
    with _client() as client:
        if source.kind == "ckan":
            return ckan_read(client, source.url)
        return dcat_read(client, source.url)


# --- writing what was read --------------------------------------------------------------------------


def _local_name(source: HarvestSource, harvested: HarvestedDataset, mine: Dataset | None) -> str:
    if mine is not None:
        return mine.name
    candidates = []
    raw = harvested.name.lower()
    if NAME.fullmatch(raw):
        candidates.append(raw)
    stem = raw if NAME.fullmatch(raw) else hashlib.sha256(harvested.guid.encode()).hexdigest()[:12]
    candidates.append(f"{source.name}-{stem}"[:100])
    for candidate in candidates:
        if not Dataset.objects.filter(name=candidate).exists():
            return candidate
    raise DomainError("name_taken", _("Its name is taken on this portal by another dataset."), status=409)


def _licence(harvested: HarvestedDataset) -> str:
    if harvested.licence in BY_ID:
        return harvested.licence
    return harvested.licence or "notspecified"


def _link(url: str, check: Any) -> str:
    """A harvested resource's link, held to the rule of every link; one on this machine only where
    sources may be (``GOV21_OPENDATA_HARVEST_LOOPBACK``), since such a source's links point home."""
    try:
        return str(check(url))
    except DomainError:
        host = (urlsplit(url).hostname or "").lower()
        loopback = host == "localhost" or _is_loopback(host)
        if loopback and urlsplit(url).scheme in {"http", "https"} and config.OPENDATA_HARVEST_LOOPBACK.read():
            return url
        raise


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _resources_write(dataset: Dataset, harvested: HarvestedDataset, now: dt.datetime) -> None:
    from gov21.opendata.services import url_check

    links = [_link(r.url, url_check) for r in harvested.resources]
    Resource.objects.filter(dataset=dataset).delete()
    Resource.objects.bulk_create(
        Resource(
            dataset=dataset,
            name=r.name,
            description=r.description,
            format=r.format,
            url=link,
            position=position,
            created=now,
            modified=now,
        )
        for position, (r, link) in enumerate(zip(harvested.resources, links, strict=True))
    )


def _dataset_write(source: HarvestSource, harvested: HarvestedDataset, now: dt.datetime) -> str:
    """Create or update one harvested dataset; "created", "updated" or "unchanged"."""
    digest = harvested.digest()
    with transaction.atomic():
        mine = Dataset.objects.select_for_update().filter(harvested_from=source, harvest_guid=harvested.guid).first()
        if mine is not None and mine.harvest_digest == digest and mine.state == "active":
            Dataset.objects.filter(pk=mine.pk).update(harvested=now)
            return "unchanged"
        outcome = "created" if mine is None else "updated"
        dataset = mine or Dataset(
            name=_local_name(source, harvested, None),
            organization=source.organization,
            created=now,
            harvested_from=source,
            harvest_guid=harvested.guid,
        )
        dataset.title = harvested.title or dataset.name
        dataset.notes = harvested.notes
        dataset.license_id = _licence(harvested)
        dataset.state = "active"
        dataset.modified = now
        dataset.harvested = now
        dataset.harvest_source = source.url
        dataset.harvest_identifier = harvested.uri
        dataset.harvest_digest = digest
        dataset.save()
        tags_set(dataset, harvested.tags)
        _resources_write(dataset, harvested, now)
        search_text_refresh(dataset)
        return outcome


def _log(job: HarvestJob, level: str, message: str, identifier: str = "") -> None:
    if len(job.log) < LOG_MAX:
        job.log.append({"level": level, "identifier": identifier, "message": message})
    elif len(job.log) == LOG_MAX:
        job.log.append({"level": "info", "identifier": "", "message": _("Further messages were left out.")})


def job_run(source: HarvestSource, *, started_by: str) -> HarvestJob:
    """Harvest ``source`` now; the job with its counts and log."""
    job = HarvestJob.objects.create(source=source, started=timezone.now(), started_by=started_by[:200])
    try:
        harvested = source_read(source)
    except HarvestError as error:
        _log(job, "error", str(error))
        job.errors += 1
        job.status = "failed"
        job.finished = timezone.now()
        job.save()
        logger.warning("harvest of %s failed: %s", source.name, error)
        return job
    _log(job, "info", _("The source lists %(n)d datasets.") % {"n": len(harvested)})
    now = timezone.now()
    seen: set[str] = set()
    for item in harvested:
        if item.guid in seen:
            continue
        seen.add(item.guid)
        try:
            outcome = _dataset_write(source, item, now)
        except DomainError as error:
            job.errors += 1
            _log(job, "error", str(error.detail), item.guid)
            continue
        setattr(job, outcome, getattr(job, outcome) + 1)
        if outcome != "unchanged":
            _log(job, "info", outcome, item.guid)
    gone = Dataset.objects.filter(harvested_from=source, state="active").exclude(harvest_guid__in=seen)
    for guid in list(gone.values_list("harvest_guid", flat=True)):
        _log(job, "info", "deleted", guid)
    with transaction.atomic():
        withdrawn = list(gone.values_list("id", flat=True))
        job.deleted = gone.update(state="deleted", modified=now)
        if job.deleted:
            catalogue_changed(withdrawn)
    job.status = "partial" if job.errors else "finished"
    job.finished = timezone.now()
    job.save()
    return job


# --- sources ----------------------------------------------------------------------------------------


def _organization(code: str) -> Organization:
    try:
        return organization_get(code)
    except DomainError:
        return organization_ensure(code.upper())


@transaction.atomic
def source_add(
    *,
    principal: Principal,
    name: str,
    url: str,
    kind: str,
    organization: str,
    title: str = "",
    frequency: str = "daily",
) -> HarvestSource:
    """Register a source whose datasets the portal copies (filed under ``organization``)."""
    principal.require("opendata.publish")
    name_check(name)
    if HarvestSource.objects.filter(name=name).exists():
        raise DomainError("name_taken", _("A harvest source of this name exists."), status=409, field="name")
    if kind not in KIND_ALIASES:
        raise DomainError("invalid_kind", _("A harvest source is a CKAN or a DCAT catalogue."), field="source_type")
    if frequency not in FREQUENCY_HOURS:
        raise DomainError(
            "invalid_frequency",
            _("Harvest %(choices)s.") % {"choices": ", ".join(FREQUENCY_HOURS)},
            field="frequency",
        )
    if len(url) > 1000:
        raise DomainError("invalid_url", _("This is too long."), field="url")
    address_check(url)
    if len(title) > 300:
        raise DomainError("invalid_value", _("This is too long."), field="title")
    now = timezone.now()
    return HarvestSource.objects.create(
        name=name,
        title=title or name,
        url=url,
        kind=KIND_ALIASES[kind],
        organization=_organization(organization),
        frequency=frequency,
        next_run=now if FREQUENCY_HOURS[frequency] else None,
        created=now,
        created_by=principal.name[:200],
    )


def source_get(key: str) -> HarvestSource:
    query = Q(name=key)
    if _is_uuid(key):
        query |= Q(id=key)
    found = HarvestSource.objects.select_related("organization").filter(query).first()
    if found is None:
        raise DomainError("not_found", _("No such harvest source."), status=404, field="id")
    return found


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except ValueError:
        return False
    return len(value) == 36


def source_run(*, principal: Principal, key: str) -> HarvestJob:
    principal.require("opendata.publish")
    return job_run(source_get(key), started_by=principal.name)


def _claimed_due(now: dt.datetime) -> Iterator[HarvestSource]:
    """The sources due, each claimed by moving its next run on first (compare and set), so that two
    workers never harvest one source at once."""
    due = HarvestSource.objects.filter(active=True, next_run__lte=now).order_by("next_run")
    for source in due.select_related("organization"):
        hours = FREQUENCY_HOURS.get(source.frequency, 0)
        following = now + dt.timedelta(hours=hours) if hours else None
        if HarvestSource.objects.filter(pk=source.pk, next_run=source.next_run).update(next_run=following):
            yield source


def due_run(batch: int = 10) -> tuple[int, int]:
    """Harvest up to ``batch`` sources whose time has come; (claimed, finished without error)."""
    claimed = done = 0
    for source in _claimed_due(timezone.now()):
        claimed += 1
        if job_run(source, started_by="schedule").status == "finished":
            done += 1
        if claimed >= batch:
            break
    return claimed, done


def harvest_loop(*, interval: float, stop_after: float | None) -> int:
    return batches_loop(due_run, batch=10, interval=interval, stop_after=stop_after, logger=logger, what="harvest")


def sources() -> list[tuple[HarvestSource, HarvestJob | None]]:
    """Every source with its last job."""
    found = []
    for source in HarvestSource.objects.select_related("organization").order_by("name"):
        found.append((source, source.jobs.order_by("-started").first()))
    return found


def jobs_of(source: HarvestSource, limit: int = 20) -> list[HarvestJob]:
    return list(source.jobs.order_by("-started")[:limit])
