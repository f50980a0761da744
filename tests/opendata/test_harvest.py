"""Harvesting another portal's catalogue from a real HTTP server on loopback: a CKAN Action API and
DCAT catalogues in Turtle, JSON-LD and RDF/XML; what changed, what went away, and sources that
time out, answer garbage, answer too much or sit on an address the policy refuses."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import orjson
import pytest
from django.core.management import CommandError, call_command
from django.test import Client
from django.utils import timezone
from rdflib import Graph, Literal, Namespace, URIRef
from rdflib.namespace import DCAT, DCTERMS, RDF

from gov21.core.errors import DomainError
from gov21.core.principal import Principal, PrincipalKind
from gov21.opendata import harvest, selectors
from gov21.opendata.contracts import table_publish
from gov21.opendata.models import Dataset, HarvestSource
from tests.opendata.helpers import births

pytestmark = pytest.mark.django_db

ADMIN = Principal(name="ana", kind=PrincipalKind.STAFF, roles=frozenset({"administrator"}))
READER = Principal(name="rex", kind=PrincipalKind.STAFF, roles=frozenset({"reader"}))
HYDRA = Namespace("http://www.w3.org/ns/hydra/core#")
Route = Callable[[BaseHTTPRequestHandler, dict[str, list[str]]], None]


class Peer:
    """Another portal on loopback, answering whatever the test puts in ``routes`` (path → handler)."""

    def __init__(self) -> None:
        self.routes: dict[str, Route] = {}
        self.requests: list[str] = []
        peer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                peer.requests.append(self.path)
                route = peer.routes.get(parts.path)
                if route is None:
                    self.send_response(404)
                    self.end_headers()
                    return
                route(self, parse_qs(parts.query))

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def reply(body: bytes, media: str, *, status: int = 200, length: bool = True) -> Route:
    def answer(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", media)
        if length:
            handler.send_header("Content-Length", str(len(body)))
        handler.end_headers()
        handler.wfile.write(body)

    return answer


@pytest.fixture
def peer(monkeypatch: pytest.MonkeyPatch) -> Iterator[Peer]:
    monkeypatch.setenv("GOV21_OPENDATA_HARVEST_LOOPBACK", "true")
    server = Peer()
    yield server
    server.close()


def package(name: str, title: str, *, tags: tuple[str, ...] = (), url: str = "") -> dict[str, Any]:
    return {
        "id": f"id-{name}",
        "name": name,
        "title": title,
        "notes": f"{title}, from the partner nation.",
        "license_id": "CC-BY-4.0",
        "tags": [{"name": t} for t in tags],
        "resources": [{"name": f"{title} (CSV)", "url": url or f"https://data.xb.example/{name}.csv", "format": "CSV"}],
    }


def ckan_peer(peer: Peer, packages: list[dict[str, Any]]) -> None:
    """A CKAN's package_search over ``packages`` (read at each request, so a test may change them)."""

    def search(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        rows, start = int(query["rows"][0]), int(query["start"][0])
        ordered = sorted(packages, key=lambda p: p["name"])
        result = {"count": len(ordered), "results": ordered[start : start + rows]}
        reply(orjson.dumps({"help": "", "success": True, "result": result}), "application/json")(handler, query)

    peer.routes["/api/3/action/package_search"] = search


def source(peer: Peer, kind: str = "ckan", path: str = "", name: str = "xb-portal") -> HarvestSource:
    return harvest.source_add(
        principal=ADMIN, name=name, url=peer.url + path, kind=kind, organization="DGO", frequency="daily"
    )


def test_a_ckan_is_harvested_with_provenance_then_kept_current(
    peer: Peer, monkeypatch: pytest.MonkeyPatch, client: Client
) -> None:
    monkeypatch.setattr(harvest, "PAGE_ROWS", 2)  # three datasets over two pages
    packages = [
        package("rainfall", "Rainfall", tags=("weather",)),
        package("schools", "Schools"),
        package("births-by-parish-month", "Births in XB"),
    ]
    ckan_peer(peer, packages)
    local = table_publish(births())
    xb = source(peer)

    job = harvest.job_run(xb, started_by="test")

    assert (job.status, job.created, job.updated, job.deleted, job.errors) == ("finished", 3, 0, 0, 0)
    assert len([r for r in peer.requests if "package_search" in r]) == 2
    rainfall = selectors.package_dict(selectors.dataset_get("rainfall"))
    assert rainfall["organization"]["name"] == "dgo"
    assert rainfall["harvest_source"] == peer.url
    assert rainfall["harvest_identifier"] == f"{peer.url}/dataset/rainfall"
    assert [t["name"] for t in rainfall["tags"]] == ["weather"]
    assert rainfall["resources"][0]["url"] == "https://data.xb.example/rainfall.csv"
    assert rainfall["harvest_timestamp"].startswith(str(timezone.now().year))
    assert (
        f'Copied from</dt><dd><a href="{peer.url}/dataset/rainfall"' in client.get("/dataset/rainfall").content.decode()
    )
    # The name of a dataset published here is not taken over: the harvested one takes another.
    ours = Dataset.objects.get(name="births-by-parish-month")
    assert (ours.organization.member_code, ours.version, ours.harvested_from) == ("STATS", local.version, None)
    theirs = Dataset.objects.get(harvest_guid="id-births-by-parish-month")
    assert theirs.name == "xb-portal-births-by-parish-month"
    assert (
        selectors.package_search(q="rainfall", fq="", rows=5, start=0, sort="", facet_fields=[], facet_limit=5)["count"]
        == 1
    )

    # The source changes one dataset and drops another.
    packages[0]["title"] = "Rainfall by station"
    del packages[1]
    again = harvest.job_run(xb, started_by="test")

    assert (again.status, again.created, again.updated, again.unchanged, again.deleted) == ("finished", 0, 1, 1, 1)
    assert selectors.dataset_get("rainfall").title == "Rainfall by station"
    assert Dataset.objects.get(name="schools").state == "deleted"
    with pytest.raises(DomainError):
        selectors.dataset_get("schools")
    assert {"level": "info", "identifier": "id-schools", "message": "deleted"} in again.log
    # Our own dataset stayed as it was.
    assert Dataset.objects.get(name="births-by-parish-month").state == "active"

    # A dataset the source lists again comes back.
    packages.append(package("schools", "Schools"))
    third = harvest.job_run(xb, started_by="test")
    assert (third.updated, third.unchanged, third.deleted) == (1, 2, 0)
    assert selectors.dataset_get("schools").state == "active"


def test_one_bad_dataset_is_refused_and_the_others_are_taken(peer: Peer) -> None:
    ckan_peer(peer, [package("good", "Good"), package("inside", "Inside", url="http://10.1.2.3/secret.csv")])

    job = harvest.job_run(source(peer), started_by="test")

    assert (job.status, job.created, job.errors) == ("partial", 1, 1)
    assert not Dataset.objects.filter(harvest_guid="id-inside").exists()
    assert any(e["identifier"] == "id-inside" and "private" in e["message"] for e in job.log)


def dcat_graph(base: str, names: list[str], *, next_page: str = "") -> Graph:
    graph = Graph()
    catalogue = URIRef(f"{base}/catalog")
    graph.add((catalogue, RDF.type, DCAT.Catalog))
    for name in names:
        node = URIRef(f"{base}/dataset/{name}")
        graph.add((node, RDF.type, DCAT.Dataset))
        graph.add((node, DCTERMS.identifier, Literal(f"xb:{name}")))
        graph.add((node, DCTERMS.title, Literal(name.capitalize(), lang="en")))
        graph.add((node, DCTERMS.title, Literal(f"{name} (es)", lang="es")))
        graph.add((node, DCTERMS.description, Literal(f"All about {name}.", lang="en")))
        graph.add((node, DCAT.keyword, Literal("xb", lang="en")))
        graph.add((node, DCTERMS.license, URIRef("https://creativecommons.org/publicdomain/zero/1.0/")))
        distribution = URIRef(f"{base}/dataset/{name}/csv")
        graph.add((distribution, RDF.type, DCAT.Distribution))
        graph.add((distribution, DCAT.accessURL, URIRef(f"https://data.xb.example/{name}.csv")))
        graph.add(
            (distribution, DCTERMS.format, URIRef("http://publications.europa.eu/resource/authority/file-type/CSV"))
        )
        graph.add((node, DCAT.distribution, distribution))
        graph.add((catalogue, DCAT.dataset, node))
    if next_page:
        view = URIRef(f"{base}/catalog?page=1")
        graph.add((view, RDF.type, HYDRA.PartialCollectionView))
        graph.add((view, HYDRA.next, URIRef(next_page)))
        graph.add((catalogue, HYDRA.view, view))
    return graph


@pytest.mark.parametrize(
    ("fmt", "media", "suffix"),
    [
        ("turtle", "text/turtle", ".ttl"),
        ("json-ld", "application/ld+json", ".jsonld"),
        ("xml", "application/rdf+xml", ".rdf"),
    ],
)
def test_a_dcat_catalogue_is_harvested_page_by_page(peer: Peer, fmt: str, media: str, suffix: str) -> None:
    first = dcat_graph(peer.url, ["rainfall", "schools"], next_page=f"{peer.url}/page2{suffix}")
    second = dcat_graph(peer.url, ["roads"])
    peer.routes[f"/catalog{suffix}"] = reply(first.serialize(format=fmt).encode(), media)
    peer.routes[f"/page2{suffix}"] = reply(second.serialize(format=fmt).encode(), media)

    job = harvest.job_run(source(peer, "dcat", f"/catalog{suffix}"), started_by="test")

    assert (job.status, job.created, job.errors) == ("finished", 3, 0)
    roads = selectors.package_dict(selectors.dataset_get("roads"))
    assert roads["title"] == "Roads"
    assert roads["license_id"] == "CC0-1.0"
    assert roads["harvest_identifier"] == f"{peer.url}/dataset/roads"
    assert roads["resources"][0]["format"] == "CSV"
    assert Dataset.objects.get(name="roads").harvest_guid == "xb:roads"


def test_a_source_that_does_not_answer_in_time_fails_and_changes_nothing(
    peer: Peer, monkeypatch: pytest.MonkeyPatch
) -> None:
    packages = [package("rainfall", "Rainfall")]
    ckan_peer(peer, packages)
    xb = source(peer)
    assert harvest.job_run(xb, started_by="test").created == 1

    def slow(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        time.sleep(2.5)
        reply(b"{}", "application/json")(handler, query)

    peer.routes["/api/3/action/package_search"] = slow
    monkeypatch.setenv("GOV21_OPENDATA_HARVEST_TIMEOUT_S", "1")
    started = time.monotonic()
    job = harvest.job_run(xb, started_by="test")

    assert time.monotonic() - started < 2.4
    assert (job.status, job.errors, job.deleted) == ("failed", 1, 0)
    assert "did not answer" in job.log[0]["message"]
    assert selectors.dataset_get("rainfall").state == "active"


@pytest.mark.parametrize(
    ("kind", "body", "media", "words"),
    [
        ("ckan", b"<html><body>Welcome</body></html>", "text/html", "not JSON"),
        ("ckan", b'{"success": true, "result": {"count": "many"}}', "application/json", "package_search"),
        ("dcat", b"@prefix broken <", "text/turtle", "could not be read as DCAT"),
        ("dcat", b"<http://a> <http://b> <http://c> .", "text/turtle", "no DCAT catalogue"),
    ],
)
def test_a_source_answering_garbage_fails_with_a_clear_message(
    peer: Peer, kind: str, body: bytes, media: str, words: str
) -> None:
    path = "/api/3/action/package_search" if kind == "ckan" else "/catalog.ttl"
    peer.routes[path] = reply(body, media)

    job = harvest.job_run(source(peer, kind, "" if kind == "ckan" else path), started_by="test")

    assert job.status == "failed"
    assert words in job.log[0]["message"]
    assert not Dataset.objects.exists()


@pytest.mark.parametrize("length", [True, False])
def test_an_answer_larger_than_the_cap_is_not_read(peer: Peer, monkeypatch: pytest.MonkeyPatch, length: bool) -> None:
    monkeypatch.setenv("GOV21_OPENDATA_HARVEST_MAX_BYTES", "100000")
    peer.routes["/catalog.ttl"] = reply(b"# " + b"x" * 1_000_000 + b"\n", "text/turtle", length=length)

    job = harvest.job_run(source(peer, "dcat", "/catalog.ttl"), started_by="test")

    assert job.status == "failed"
    assert "larger than 0.1 MB" in job.log[0]["message"]


def test_a_source_listing_more_datasets_than_the_cap_fails(peer: Peer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_OPENDATA_HARVEST_MAX_DATASETS", "2")
    ckan_peer(peer, [package(f"d{i}", f"D {i}") for i in range(3)])

    job = harvest.job_run(source(peer), started_by="test")

    assert job.status == "failed"
    assert "more than the 2" in job.log[0]["message"]
    assert not Dataset.objects.exists()


@pytest.mark.parametrize(
    "url", ["http://10.0.0.8/api/3/action", "http://192.168.1.1/catalog.ttl", "http://169.254.169.254/", "ftp://x.org/"]
)
def test_private_addresses_are_refused_as_sources(peer: Peer, url: str) -> None:
    with pytest.raises(DomainError) as refused:
        harvest.source_add(principal=ADMIN, name="inside", url=url, kind="ckan", organization="DGO")
    assert refused.value.code in {"private_url", "invalid_url"}
    assert not HarvestSource.objects.exists()


def test_loopback_is_refused_unless_the_setting_allows_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("GOV21_OPENDATA_HARVEST_LOOPBACK", raising=False)
    with pytest.raises(DomainError) as refused:
        harvest.source_add(principal=ADMIN, name="here", url="http://127.0.0.1:9/", kind="ckan", organization="DGO")
    assert refused.value.code == "private_url"


def test_a_redirect_to_a_private_address_is_not_followed(peer: Peer) -> None:
    def away(handler: BaseHTTPRequestHandler, query: dict[str, list[str]]) -> None:
        handler.send_response(302)
        handler.send_header("Location", "http://10.9.9.9/catalog.ttl")
        handler.send_header("Content-Length", "0")
        handler.end_headers()

    peer.routes["/catalog.ttl"] = away
    job = harvest.job_run(source(peer, "dcat", "/catalog.ttl"), started_by="test")

    assert job.status == "failed"
    assert "public address" in job.log[0]["message"]


def test_only_publishers_add_sources(peer: Peer) -> None:
    with pytest.raises(DomainError) as refused:
        harvest.source_add(principal=READER, name="xb", url=peer.url, kind="ckan", organization="DGO")
    assert refused.value.status == 403


def test_the_schedule_harvests_due_sources_once(peer: Peer) -> None:
    ckan_peer(peer, [package("rainfall", "Rainfall")])
    xb = source(peer)
    manual = harvest.source_add(
        principal=ADMIN, name="by-hand", url=peer.url, kind="ckan", organization="DGO", frequency="manual"
    )

    assert harvest.due_run() == (1, 1)
    assert harvest.due_run() == (0, 0)  # claimed: its next run is a day away
    xb.refresh_from_db()
    assert xb.next_run is not None and xb.next_run > timezone.now() + timedelta(hours=23)
    assert not manual.jobs.exists()
    assert xb.jobs.get().started_by == "schedule"


def test_the_command_adds_lists_and_runs_a_source(peer: Peer, capsys: pytest.CaptureFixture[str]) -> None:
    ckan_peer(peer, [package("rainfall", "Rainfall")])

    call_command("opendata", "harvest-source", "add", "xb-portal", peer.url, "--organization", "DGO")
    call_command("opendata", "harvest-source", "run", "xb-portal")
    call_command("opendata", "harvest-source", "list")
    out = capsys.readouterr().out

    assert "added xb-portal (ckan, daily)" in out
    assert "finished: created 1, updated 0, unchanged 0, deleted 0, errors 0" in out
    assert "xb-portal" in out.splitlines()[-1] and "finished" in out.splitlines()[-1]
    with pytest.raises(CommandError, match="No such harvest source"):
        call_command("opendata", "harvest-source", "run", "nowhere")
    peer.routes["/api/3/action/package_search"] = reply(b"garbage", "text/plain")
    with pytest.raises(CommandError, match="failed"):
        call_command("opendata", "harvest-source", "run", "xb-portal")
