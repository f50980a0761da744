"""The DCAT-AP 3.0 catalogue: parsed with rdflib and validated with pyshacl against the official
DCAT-AP 3.0.0 SHACL shapes (vendored in gov21/opendata/shapes)."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.test import Client
from pyshacl import validate
from rdflib import Graph, Literal, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

import gov21.opendata
from gov21.core.principal import Principal, PrincipalKind
from gov21.opendata import services
from gov21.opendata.contracts import table_publish
from gov21.opendata.dcat import dataset_uri
from tests.opendata.helpers import ROWS, births

pytestmark = pytest.mark.django_db
HYDRA = "http://www.w3.org/ns/hydra/core#"
PUBLISHER = Principal(name="publisher", kind=PrincipalKind.TOKEN, roles=frozenset({"registrar"}))


@cache
def _shapes() -> Graph:
    return Graph().parse(Path(gov21.opendata.__file__).parent / "shapes" / "dcat-ap-3.0.0-SHACL.ttl")


def _conforms(graph: Graph) -> None:
    conforms, _report, text = validate(graph, shacl_graph=_shapes(), allow_warnings=True)
    assert conforms, text


def _catalogue(client: Client, path: str, **headers: Any) -> Graph:
    answer = client.get(path, **headers)
    assert answer.status_code == 200, answer.content
    kind = {"text/turtle": "turtle", "application/ld+json": "json-ld", "application/rdf+xml": "xml"}
    return Graph().parse(data=answer.content, format=kind[answer["Content-Type"].split(";")[0]])


def _publish_two_versions() -> None:
    table_publish(births())
    table_publish(births(rows=ROWS[1:], change_note="One row withdrawn."))
    services.package_create(
        principal=PUBLISHER,
        data={
            "name": "bus-stops",
            "title": "Bus stops",
            "owner_org": "LTA",
            "notes": "Where the buses stop.",
            "contact_email": "data@lta.example.org",
            "resources": [{"name": "Map", "url": "https://lta.example.org/stops.pdf", "format": "PDF"}],
        },
    )


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        ("/catalog.ttl", {}),
        ("/catalog.jsonld", {}),
        ("/catalog.rdf", {}),
        ("/catalog", {"HTTP_ACCEPT": "application/ld+json"}),
        ("/catalog", {"HTTP_ACCEPT": "application/rdf+xml;q=0.9"}),
    ],
)
def test_the_catalogue_in_every_format_validates_against_the_dcat_ap_shapes(
    client: Client, path: str, headers: dict[str, str]
) -> None:
    _publish_two_versions()
    graph = _catalogue(client, path, **headers)

    _conforms(graph)
    datasets = set(graph.objects(None, DCAT.dataset))
    assert {str(d).rsplit("/", 1)[-1] for d in datasets} == {"births-by-parish-month", "bus-stops"}


def test_a_dataset_names_its_publisher_licence_coverage_frequency_and_releases(client: Client) -> None:
    _publish_two_versions()
    graph = _catalogue(client, "/dataset/births-by-parish-month.ttl")
    _conforms(graph)
    node = dataset_uri("births-by-parish-month")
    assert graph.value(node, DCAT.version) == Literal("2")
    publisher = graph.value(node, DCTERMS.publisher)
    assert str(graph.value(publisher, URIRef("http://xmlns.com/foaf/0.1/name"))) == "Statistics Office"
    assert str(graph.value(node, DCTERMS.accrualPeriodicity)).endswith("/frequency/DAILY")
    period = graph.value(node, DCTERMS.temporal)
    assert graph.value(period, DCAT.startDate).toPython() == date(2026, 1, 1)
    assert len(list(graph.objects(node, DCTERMS.spatial))) == 2
    releases = sorted(str(v) for v in graph.objects(node, DCAT.hasVersion))
    assert [r.rsplit("/", 1)[-1] for r in releases] == ["1", "2"]
    licences = {str(o) for o in graph.objects(None, DCTERMS.license)}
    assert licences == {"https://creativecommons.org/licenses/by/4.0/"}


def test_a_large_catalogue_is_paged_with_hydra(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("gov21.opendata.dcat.PAGE_SIZE", 2)
    for number in range(5):
        services.package_create(
            principal=PUBLISHER,
            data={"name": f"set-{number}", "title": f"Set {number}", "owner_org": "STATS", "notes": "A set."},
        )
    first = _catalogue(client, "/catalog.ttl")
    view = next(first.subjects(RDF.type, URIRef(HYDRA + "PartialCollectionView")))
    assert str(first.value(view, URIRef(HYDRA + "next"))).endswith("/catalog?page=2")
    assert first.value(view, URIRef(HYDRA + "totalItems")).toPython() == 5
    assert len(set(first.objects(None, DCAT.dataset))) == 2
    last = _catalogue(client, "/catalog.ttl?page=3")
    assert len(set(last.objects(None, DCAT.dataset))) == 1
    assert client.get("/catalog.ttl?page=0").status_code == 422
    assert client.get("/dataset/no-such.ttl").status_code == 404


def test_the_shapes_catch_a_dataset_without_a_description() -> None:
    """The validation can fail: a dataset stripped of its description does not conform."""
    graph = Graph()
    node = URIRef("https://example.org/dataset/x")
    graph.add((node, RDF.type, DCAT.Dataset))
    graph.add((node, DCTERMS.title, Literal("X", lang="en")))
    conforms, _report, _text = validate(graph, shacl_graph=_shapes())
    assert not conforms
