"""The catalogue in DCAT-AP 3.0 (RDF through rdflib): the catalogue, its datasets with their
releases, distributions, publishers, licences, contact points, themes, coverage and frequency, as
Turtle, JSON-LD or RDF/XML, paged with Hydra for large catalogues. Every node a DCAT-AP property
points at carries the class the DCAT-AP shapes expect of it."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Final

from django.conf import settings
from rdflib import BNode, Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, FOAF, RDF, RDFS, SKOS, XSD

from gov21.core import config
from gov21.opendata import selectors
from gov21.opendata.licences import BY_ID, FREQUENCIES
from gov21.opendata.models import Dataset, Resource

VCARD: Final = Namespace("http://www.w3.org/2006/vcard/ns#")
HYDRA: Final = Namespace("http://www.w3.org/ns/hydra/core#")
ADMS: Final = Namespace("http://www.w3.org/ns/adms#")
FREQUENCY: Final = "http://publications.europa.eu/resource/authority/frequency/"
FILE_TYPE: Final = "http://publications.europa.eu/resource/authority/file-type/"
MEDIA_TYPE: Final = "https://www.iana.org/assignments/media-types/"
LANGUAGE_EN: Final = URIRef("http://publications.europa.eu/resource/authority/language/ENG")
PAGE_SIZE: Final = 100
FORMATS: Final = {
    "ttl": ("turtle", "text/turtle; charset=utf-8"),
    "jsonld": ("json-ld", "application/ld+json"),
    "rdf": ("xml", "application/rdf+xml"),
}
ACCEPT: Final = {"text/turtle": "ttl", "application/ld+json": "jsonld", "application/rdf+xml": "rdf"}
_MEDIA: Final = {
    "CSV": "text/csv",
    "JSON": "application/json",
    "XLSX": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "PDF": "application/pdf",
    "PARQUET": "application/vnd.apache.parquet",
    "GEOJSON": "application/geo+json",
}


def _base() -> str:
    return str(settings.BASE_URL).rstrip("/")


def catalogue_uri() -> URIRef:
    return URIRef(f"{_base()}/catalog")


def dataset_uri(name: str) -> URIRef:
    return URIRef(f"{_base()}/dataset/{name}")


def _graph() -> Graph:
    graph = Graph()
    for prefix, namespace in (
        ("dcat", DCAT),
        ("dct", DCTERMS),
        ("foaf", FOAF),
        ("vcard", VCARD),
        ("skos", SKOS),
        ("hydra", HYDRA),
        ("adms", ADMS),
    ):
        graph.bind(prefix, namespace)
    return graph


def _typed(graph: Graph, node: URIRef, *classes: URIRef) -> URIRef:
    for cls in classes:
        graph.add((node, RDF.type, cls))
    return node


def _catalogue_header(graph: Graph) -> URIRef:
    catalogue = catalogue_uri()
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    graph.add((catalogue, DCTERMS.title, Literal(f"{config.COUNTRY_NAME.read()} open data", lang="en")))
    graph.add(
        (
            catalogue,
            DCTERMS.description,
            Literal("Open data published by the agencies of the government, the same day.", lang="en"),
        )
    )
    publisher = _typed(graph, URIRef(f"{_base()}/organization/dgo"), FOAF.Agent, FOAF.Organization)
    graph.add((publisher, FOAF.name, Literal("Office of Digital Government", lang="en")))
    graph.add((catalogue, DCTERMS.publisher, publisher))
    graph.add((catalogue, DCTERMS.language, _typed(graph, LANGUAGE_EN, DCTERMS.LinguisticSystem)))
    graph.add((catalogue, FOAF.homepage, _typed(graph, URIRef(f"{_base()}/dataset/"), FOAF.Document)))
    themes = _typed(graph, URIRef(f"{_base()}/group/"), SKOS.ConceptScheme)
    graph.add((themes, DCTERMS.title, Literal("Themes", lang="en")))
    graph.add((catalogue, DCAT.themeTaxonomy, themes))
    return catalogue


def _distribution(graph: Graph, resource: Resource, licence: URIRef | None) -> URIRef:
    url = selectors.resource_url(resource)
    node = _typed(graph, URIRef(f"{_base()}/dataset/{resource.dataset.name}/resource/{resource.id}"), DCAT.Distribution)
    graph.add((node, DCAT.accessURL, _typed(graph, URIRef(url), RDFS.Resource)))
    if resource.url_type in {"datastore", "upload"}:
        graph.add((node, DCAT.downloadURL, _typed(graph, URIRef(url), RDFS.Resource)))
    if resource.name:
        graph.add((node, DCTERMS.title, Literal(resource.name, lang="en")))
    if resource.description:
        graph.add((node, DCTERMS.description, Literal(resource.description, lang="en")))
    kind = (resource.format or "").upper()
    if kind:
        graph.add((node, DCTERMS.format, _typed(graph, URIRef(FILE_TYPE + kind), DCTERMS.MediaTypeOrExtent)))
        if kind in _MEDIA:
            graph.add((node, DCAT.mediaType, _typed(graph, URIRef(MEDIA_TYPE + _MEDIA[kind]), DCTERMS.MediaType)))
    if licence is not None:
        graph.add((node, DCTERMS.license, licence))
    if resource.size is not None:
        graph.add((node, DCAT.byteSize, Literal(resource.size, datatype=XSD.nonNegativeInteger)))
    graph.add((node, DCTERMS.modified, Literal(resource.modified.isoformat(), datatype=XSD.dateTime)))
    return node


def dataset_add(graph: Graph, dataset: Dataset) -> URIRef:
    """The triples of one dataset (and of the releases it keeps) in ``graph``; its node."""
    node = _typed(graph, dataset_uri(dataset.name), DCAT.Dataset)
    graph.add((node, DCTERMS.title, Literal(dataset.title, lang="en")))
    graph.add((node, DCTERMS.description, Literal(dataset.notes or dataset.title, lang="en")))
    graph.add((node, DCTERMS.identifier, Literal(str(dataset.id))))
    graph.add((node, DCAT.landingPage, _typed(graph, URIRef(f"{_base()}/dataset/{dataset.name}"), FOAF.Document)))
    graph.add((node, DCTERMS.issued, Literal(dataset.created.isoformat(), datatype=XSD.dateTime)))
    graph.add((node, DCTERMS.modified, Literal(dataset.modified.isoformat(), datatype=XSD.dateTime)))
    graph.add((node, DCTERMS.language, _typed(graph, LANGUAGE_EN, DCTERMS.LinguisticSystem)))
    organization = dataset.organization
    publisher = _typed(graph, URIRef(f"{_base()}/organization/{organization.name}"), FOAF.Agent, FOAF.Organization)
    graph.add((publisher, FOAF.name, Literal(organization.title, lang="en")))
    graph.add((node, DCTERMS.publisher, publisher))
    contact = _typed(
        graph, URIRef(f"{_base()}/organization/{organization.name}#contact"), VCARD.Kind, VCARD.Organization
    )
    graph.add((contact, VCARD.fn, Literal(dataset.contact_name or organization.title)))
    if dataset.contact_email:
        graph.add((contact, VCARD.hasEmail, URIRef(f"mailto:{dataset.contact_email}")))
    graph.add((node, DCAT.contactPoint, contact))
    graph.add(
        (
            node,
            DCTERMS.accrualPeriodicity,
            _typed(graph, URIRef(FREQUENCY + FREQUENCIES[dataset.frequency]), DCTERMS.Frequency),
        )
    )
    for tag in dataset.tags.all():
        graph.add((node, DCAT.keyword, Literal(tag.name, lang="en")))
    for group in dataset.groups.all():
        theme = _typed(graph, URIRef(f"{_base()}/group/{group.name}"), SKOS.Concept)
        graph.add((theme, SKOS.prefLabel, Literal(group.title, lang="en")))
        graph.add((theme, SKOS.inScheme, URIRef(f"{_base()}/group/")))
        graph.add((node, DCAT.theme, theme))
    for code in dataset.spatial:
        place = _typed(graph, URIRef(f"{_base()}/geo/parishes/{code}"), DCTERMS.Location)
        graph.add((place, SKOS.prefLabel, Literal(code)))
        graph.add((node, DCTERMS.spatial, place))
    if dataset.temporal_start or dataset.temporal_end:
        period = BNode()
        graph.add((period, RDF.type, DCTERMS.PeriodOfTime))
        if dataset.temporal_start:
            graph.add((period, DCAT.startDate, Literal(dataset.temporal_start.isoformat(), datatype=XSD.date)))
        if dataset.temporal_end:
            graph.add((period, DCAT.endDate, Literal(dataset.temporal_end.isoformat(), datatype=XSD.date)))
        graph.add((node, DCTERMS.temporal, period))
    licence_info = BY_ID.get(dataset.license_id)
    licence = _typed(graph, URIRef(licence_info.url), DCTERMS.LicenseDocument) if licence_info else None
    if licence_info is not None and licence is not None:
        graph.add((licence, DCTERMS.title, Literal(licence_info.title, lang="en")))
    for resource in dataset.resources.all():
        if resource.state == "active":
            graph.add((node, DCAT.distribution, _distribution(graph, resource, licence)))
    if dataset.harvest_source:
        graph.add((node, DCTERMS.source, _typed(graph, URIRef(dataset.harvest_identifier), DCAT.Dataset)))
    _versions(graph, node, dataset, licence)
    return node


def _versions(graph: Graph, node: URIRef, dataset: Dataset, licence: URIRef | None) -> None:
    """DCAT 3's versions: the dataset names its current release; each release is a dataset of its own,
    with its change note and a distribution of its rows as they were."""
    releases = list(dataset.versions.order_by("number"))
    if not releases:
        return
    graph.add((node, DCAT.version, Literal(str(dataset.version))))
    graph.add((node, ADMS.versionNotes, Literal(releases[-1].change_note, lang="en")))
    for release in releases:
        uri = _typed(graph, URIRef(f"{_base()}/dataset/{dataset.name}/version/{release.number}"), DCAT.Dataset)
        graph.add((uri, DCTERMS.title, Literal(f"{dataset.title} (version {release.number})", lang="en")))
        graph.add((uri, DCTERMS.description, Literal(dataset.notes or dataset.title, lang="en")))
        graph.add((uri, DCAT.version, Literal(str(release.number))))
        graph.add((uri, ADMS.versionNotes, Literal(release.change_note, lang="en")))
        graph.add((uri, DCTERMS.issued, Literal(release.created.isoformat(), datatype=XSD.dateTime)))
        graph.add((uri, DCAT.isVersionOf, node))
        graph.add((node, DCAT.hasVersion, uri))
        download = f"{_base()}/datastore/dump/{release.resource_id}?version={release.number}"
        distribution = _typed(graph, URIRef(f"{uri}/csv"), DCAT.Distribution)
        graph.add((distribution, DCAT.accessURL, _typed(graph, URIRef(download), RDFS.Resource)))
        graph.add((distribution, DCAT.downloadURL, _typed(graph, URIRef(download), RDFS.Resource)))
        graph.add((distribution, DCTERMS.format, _typed(graph, URIRef(FILE_TYPE + "CSV"), DCTERMS.MediaTypeOrExtent)))
        graph.add((distribution, DCAT.mediaType, _typed(graph, URIRef(MEDIA_TYPE + "text/csv"), DCTERMS.MediaType)))
        if licence is not None:
            graph.add((distribution, DCTERMS.license, licence))
        graph.add((uri, DCAT.distribution, distribution))


def catalogue_graph(*, page: int, page_size: int | None = None) -> Graph:
    """One page of the catalogue: its header, ``page_size`` datasets and Hydra's links to the others."""
    page_size = page_size or PAGE_SIZE
    graph = _graph()
    catalogue = _catalogue_header(graph)
    everything = selectors.datasets().order_by("name").prefetch_related("versions")
    total = everything.count()
    last = max(1, -(-total // page_size))
    for dataset in everything[(page - 1) * page_size : page * page_size]:
        graph.add((catalogue, DCAT.dataset, dataset_add(graph, dataset)))
    if total > page_size:
        view = URIRef(f"{catalogue}?page={page}")
        graph.add((view, RDF.type, HYDRA.PartialCollectionView))
        graph.add((view, HYDRA.totalItems, Literal(total, datatype=XSD.integer)))
        graph.add((view, HYDRA.first, URIRef(f"{catalogue}?page=1")))
        graph.add((view, HYDRA.last, URIRef(f"{catalogue}?page={last}")))
        if page > 1:
            graph.add((view, HYDRA.previous, URIRef(f"{catalogue}?page={page - 1}")))
        if page < last:
            graph.add((view, HYDRA.next, URIRef(f"{catalogue}?page={page + 1}")))
        graph.add((catalogue, HYDRA.view, view))
    return graph


def dataset_graph(dataset: Dataset) -> Graph:
    graph = _graph()
    dataset_add(graph, dataset)
    return graph


def serialize(graph: Graph, kind: str) -> bytes:
    fmt = FORMATS[kind][0]
    if fmt == "json-ld":
        return graph.serialize(format="json-ld", auto_compact=True).encode("utf-8")
    return graph.serialize(format=fmt).encode("utf-8")


def negotiate(accept: str, default: str = "ttl") -> str | None:
    """The RDF format an ``Accept`` header asks for; None when it asks for none of them."""
    for part in accept.split(","):
        media = part.split(";", 1)[0].strip().lower()
        if media in ACCEPT:
            return ACCEPT[media]
    return None if "text/html" in accept else default if not accept or "*/*" in accept else None


def uris(values: Iterable[str]) -> list[URIRef]:
    return [URIRef(v) for v in values]
