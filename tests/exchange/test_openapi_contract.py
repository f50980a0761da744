"""Every service the platform's apps provide on the exchange answers what its published OpenAPI
document says: each route is called through the real gateway (signed, rights-checked, logged)
with valid input, and the body is validated against the schema of that route and status in the
document ``getOpenAPI`` returns; bad input is answered with problem details that match the
document too. The schemas refuse fields they do not describe, so a handler that answers a field
the document does not name fails here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import jsonschema
import orjson
import pytest
from django.utils import timezone

from gov21.concerns.categories import categories_load
from gov21.core import config
from gov21.core.principal import Principal
from gov21.exchange import node
from gov21.exchange.contracts import ExchangeResult, agency_client, exchange_call
from gov21.exchange.router import ServiceRouter, routers
from gov21.exchange.services import right_grant
from gov21.identity.contracts import person_assertion_issue
from gov21.onestop import registers
from gov21.onestop.documents import document_issue
from gov21.readiness.regional import member_register
from gov21.registry import services as registry
from gov21.registry.models import LifeEvent, Person
from tests.concerns.helpers import report as concerns_report
from tests.identity import flows
from tests.land.helpers import first_register, owners, square
from tests.registry.factories import register_person
from tests.security.world import _linkage_source_of

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("exchange")]

REGISTRAR = Principal(name="registrar.contract", kind="staff", roles=frozenset({"registrar"}))
ENGINE = "PORTAL/services"
# The registry publishes events; only it may deliver them into the engine's receiver.
PUBLISHER = "CRO/civil-registry"


@dataclass(frozen=True)
class Case:
    """One call of one route: ``template`` is the route's path as its document names it."""

    tail: str  # the service after <instance>/GOV/
    method: str
    template: str
    path: str
    status: int
    query: str = ""
    body: bytes = b""
    content_type: str = ""
    assertion: str = ""
    client: str = ENGINE


def _json(data: object) -> dict[str, Any]:
    return {"body": orjson.dumps(data), "content_type": "application/json"}


@pytest.fixture
def world() -> dict[str, Any]:
    """One of everything the services answer about, made through the apps' own services; and the
    engine's right to call every route (the demo grants it only what its work needs)."""
    instance = config.INSTANCE.read()
    for router in routers():
        for tail, _, _ in router.publications:
            right_grant(service=f"{instance}/GOV/{tail}", subject=f"{instance}/GOV/{ENGINE}", method="*", path="/**")
    node.CONFS.clear()
    # The regional hub takes this instance's readiness submissions as Barbados's.
    member_register(instance=instance, country_code="BRB")
    citizen = flows.citizen()
    mother = Person.objects.get(uin=citizen.identifier)
    child = register_person(REGISTRAR, born=date(2016, 3, 4), mother=mother)
    # A resident of a settlement the geography lists, for the residents named.
    register_person(REGISTRAR, address_parish="XA-01", address_settlement="Port Clement", address_line="2 Bay Road")
    birth = LifeEvent.objects.get(subject__uin=child.uin, kind="birth")
    certificate = registry.certificate_issue(event_id=birth.pk, actor=REGISTRAR)
    licence = registers.licence_issue(uin=mother.uin)
    registers.benefit_award(
        kind="child", claimant=mother.uin, beneficiary=child.uin, started_on=timezone.localdate(), application=None
    )
    business = registers.business_register(
        name="Contract Bakery", owner=mother.uin, activity="Bakery", address="1 Harbour Road"
    )
    documents = {
        agency: document_issue(
            application=None,
            kind="licence",
            title="A document",
            holder_uin=mother.uin,
            agency=agency,
            facts=[("Number", "1")],
            valid_until=date(2035, 1, 1),
        ).serial
        for agency in ("licensing", "benefits", "business-register")
    }
    parcel = first_register(square(0, 0), owners((mother, "1/1")))
    # A source of the engine's own agency in the record linkage, holding a record of the mother.
    _linkage_source_of(mother.uin, source="contract-clinic", agency=ENGINE.split("/")[0])
    categories_load()  # the services a report is made in (gone if a transactional test flushed them)
    report, duplicate = (concerns_report("street-light"), concerns_report("street-light", offset_m=20))
    sold = first_register(square(2, 0), owners((mother, "1/1")))
    return {
        "report": report.pk,
        "duplicate": duplicate.pk,
        "sold": sold,
        "buyer": child.uin,
        "uin": mother.uin,
        "parcel": parcel,
        "token": flows.access_token_of(citizen),
        "birth": birth.number,
        "credential": certificate.credential,
        "licence": licence.number,
        "business": business.number,
        "documents": documents,
    }


def _valid_cases(world: dict[str, Any]) -> list[Case]:
    uin, parcel = world["uin"], world["parcel"]
    cases = [
        Case("CRO/civil-registry/persons", "GET", "/{uin}", f"/{uin}", 200),
        Case("CRO/civil-registry/persons", "GET", "/{uin}", f"/{uin}", 200, query=f"as_of={timezone.localdate()}"),
        Case("CRO/civil-registry/persons", "GET", "/{uin}/history", f"/{uin}/history", 200),
        Case("CRO/civil-registry/residents", "GET", "/counts", "/counts", 200, query="parishes=XA-01,XA-02"),
        Case(
            "CRO/civil-registry/residents",
            "GET",
            "/named",
            "/named",
            200,
            query="places=XA-01%2FPort%20Clement&purpose=welfare_check&size=5",
        ),
        Case("CRO/civil-registry/versions", "GET", "/", "/", 200, query="after=0&limit=5"),
        Case("CRO/record-linkage/extracts", "GET", "/{source}", "/contract-clinic", 200),
        Case("CRO/civil-registry/numbers", "GET", "/population", "/population", 200, query="as_of=2026-01-01"),
        Case("CRO/civil-registry/numbers", "GET", "/events", "/events", 200, query="kind=birth&year=2026"),
        Case(
            "CRO/civil-registry/certificates",
            "POST",
            "/verify",
            "/verify",
            200,
            **_json({"token": world["credential"]}),
        ),
        _declaration(uin),
        Case("LTA/licensing/licences", "GET", "/holders/{uin}", f"/holders/{uin}", 200),
        Case("LTA/licensing/licences", "GET", "/{number}", f"/{world['licence']}", 200),
        Case("MSD/benefits/awards", "GET", "/claimants/{uin}", f"/claimants/{uin}", 200),
        Case("BRA/business-register/businesses", "GET", "/", "/", 200, query="q=Bakery"),
        Case("BRA/business-register/businesses", "GET", "/{number}", f"/{world['business']}", 200),
        Case("BRA/business-register/businesses", "GET", "/owners/{uin}", f"/owners/{uin}", 200),
        Case(
            "PORTAL/services/events",
            "POST",
            "/",
            "/",
            200,
            client=PUBLISHER,
            **_json({"event_type": "name.changed", "seq": 1, "payload": {"uin": uin}}),
        ),
        Case("LRA/land-register/parcels", "GET", "/owners/{kind}/{identifier}", f"/owners/person/{uin}", 200),
        Case("LRA/land-register/parcels", "GET", "/parcels/{number}/title", f"/parcels/{parcel}/title", 200),
        Case(
            "LRA/land-register/parcels",
            "GET",
            "/parcels/{number}/encumbrances",
            f"/parcels/{parcel}/encumbrances",
            200,
            query=f"as_of={timezone.localdate()}",
        ),
        Case("LRA/land-register/parcels", "POST", "/parcels/{number}/extracts", f"/parcels/{parcel}/extracts", 201),
        Case(
            "LRA/land-register/parcels",
            "POST",
            "/transfers",
            "/transfers",
            201,
            **_json(
                {
                    "parcel": world["sold"],
                    "seller": {"kind": "person", "identifier": uin},
                    "buyers": [{"party": {"kind": "person", "identifier": world["buyer"]}, "share": "1/1"}],
                    "price_cents": 100,
                }
            ),
        ),
        Case(
            "LRA/land-register/events",
            "POST",
            "/",
            "/",
            200,
            client=PUBLISHER,
            **_json({"event_type": "death.registered", "seq": 1, "payload": {"uin": "2345678901"}}),
        ),
        # The reporting desk: the agency responsible works its queue.
        Case("PORTAL/concerns/reports", "GET", "/queue", "/queue", 200, client="PWD/works"),
        Case(
            "PORTAL/concerns/reports",
            "GET",
            "/reports/{report_id}/contact",
            f"/reports/{world['report']}/contact",
            200,
            client="PWD/works",
        ),
        Case(
            "PORTAL/concerns/reports",
            "POST",
            "/reports/{report_id}/merge",
            f"/reports/{world['duplicate']}/merge",
            200,
            client="PWD/works",
            **_json({"into": world["report"]}),
        ),
        Case(
            "PORTAL/concerns/reports",
            "POST",
            "/reports/{report_id}/actions",
            f"/reports/{world['report']}/actions",
            200,
            client="PWD/works",
            **_json({"status": "closed", "public_update": "Mended."}),
        ),
        Case(
            "PORTAL/concerns/reports",
            "POST",
            "/reports/{report_id}/reassign",
            f"/reports/{world['report']}/reassign",
            200,
            client="PWD/works",
            **_json({"service_code": "drain"}),
        ),
        Case(
            "EXCHANGE/data-embassy/store",
            "PUT",
            "/objects/{key}",
            "/objects/manifests/contract.json",
            201,
            body=b"{}",
            content_type="application/octet-stream",
        ),
        Case("EXCHANGE/data-embassy/store", "GET", "/objects/{key}", "/objects/manifests/contract.json", 200),
        Case("EXCHANGE/data-embassy/store", "GET", "/list/{prefix}", "/list/manifests", 200),
        Case("EXCHANGE/data-embassy/store", "GET", "/inventory", "/inventory", 200),
        Case("EXCHANGE/data-embassy/store", "DELETE", "/objects/{key}", "/objects/manifests/contract.json", 204),
        Case("DGO/readiness/regional", "POST", "/submissions", "/submissions", 201, **_json(_SUBMISSION)),
        # The agencies' numbers for the readiness indicators.
        Case("PORTAL/services/numbers", "GET", "/", "/", 200),
        Case("IDA/identity/numbers", "GET", "/", "/", 200),
        Case("EXCHANGE/data-embassy/drills", "GET", "/", "/", 200),
        Case("EXCHANGE/pubsub/directory", "GET", "/", "/", 200),
    ]
    for tail, agency in (
        ("PORTAL/services/documents", "licensing"),
        ("LTA/licensing/documents", "licensing"),
        ("MSD/benefits/documents", "benefits"),
        ("BRA/business-register/documents", "business-register"),
    ):
        serial = world["documents"][agency]
        cases.append(Case(tail, "GET", "/{serial}", f"/{serial}", 200))
        cases.append(Case(tail, "GET", "/holders/{uin}", f"/holders/{uin}", 200))
    return cases


_PILLARS = ("citizen-centric", "seamless", "resilient", "open", "participatory", "secure", "inter-connected")
_SUBMISSION = {"country_code": "BRB", "round": 2026, "agencies": 3, "levels": dict.fromkeys(_PILLARS, 2.5)}


def _declaration(uin: str) -> Case:
    moved = {"uin": uin, "date": timezone.localdate().isoformat(), "parish": "XA-05", "line": "9 Cane Walk"}
    return Case("CRO/civil-registry/declarations", "POST", "/{kind}", "/address_change", 201, **_json(moved))


def _copy(world: dict[str, Any]) -> Case:
    return Case(
        "CRO/civil-registry/copies",
        "POST",
        "/",
        "/",
        201,
        assertion=_copy_assertion(world),
        **_json({"number": world["birth"]}),
    )


def _copy_assertion(world: dict[str, Any]) -> str:
    """The mother's assertion, from her sign-in, that she asks for a copy of her child's birth."""
    return person_assertion_issue(
        access_token=world["token"],
        audience=f"{config.INSTANCE.read()}/GOV/CRO/civil-registry/copies",
        purpose="certificate_copy",
        actor=agency_client("PORTAL", "services"),
    )


def _bad_cases() -> list[Case]:
    return [
        Case("CRO/civil-registry/persons", "GET", "/{uin}", "/0000000000", 422, query="as_of=soon"),
        Case("CRO/civil-registry/persons", "GET", "/{uin}/history", "/12/history", 422),
        Case("CRO/civil-registry/residents", "GET", "/counts", "/counts", 422, query="parishes=XA-99"),
        Case(
            "CRO/civil-registry/residents",
            "GET",
            "/named",
            "/named",
            422,
            query="places=XA-01%2FNowhere&purpose=evacuation",
        ),
        Case("CRO/civil-registry/versions", "GET", "/", "/", 422, query="limit=0"),
        Case("CRO/record-linkage/extracts", "GET", "/{source}", "/no-such-source", 404),
        Case("CRO/civil-registry/numbers", "GET", "/events", "/events", 422, query="kind=baptism&year=2026"),
        Case("CRO/civil-registry/certificates", "POST", "/verify", "/verify", 422, **_json({"credential": "x"})),
        Case("CRO/civil-registry/declarations", "POST", "/{kind}", "/birth", 422, **_json(["not", "facts"])),
        Case("CRO/civil-registry/declarations", "GET", "/{id}", "/999999", 404),
        Case("CRO/civil-registry/copies", "POST", "/", "/", 422, body=b"{", content_type="application/json"),
        Case("CRO/civil-registry/copies", "GET", "/{serial}.pdf", "/NOPE.pdf", 404),
        Case("LTA/licensing/licences", "GET", "/holders/{uin}", "/holders/123", 422),
        Case("LTA/licensing/licences", "GET", "/{number}", "/DL-NONE", 404),
        Case("MSD/benefits/awards", "GET", "/claimants/{uin}", "/claimants/abc", 422),
        Case("BRA/business-register/businesses", "GET", "/{number}", "/BN-NONE", 404),
        Case("BRA/business-register/businesses", "GET", "/owners/{uin}", "/owners/1", 422),
        Case("PORTAL/services/documents", "GET", "/{serial}", "/D-NONE", 404),
        Case("PORTAL/services/documents", "GET", "/holders/{uin}", "/holders/x", 422),
        Case("PORTAL/services/events", "POST", "/", "/", 422, client=PUBLISHER, body=b"nope"),
        Case("LRA/land-register/parcels", "GET", "/owners/{kind}/{identifier}", "/owners/person/123", 422),
        Case("LRA/land-register/parcels", "GET", "/parcels/{number}/title", "/parcels/XA-01-404/title", 404),
        Case(
            "LRA/land-register/parcels",
            "POST",
            "/parcels/{number}/extracts",
            "/parcels/XA-01-404/extracts",
            422,
            query="as_of=soon",
        ),
        Case("LRA/land-register/parcels", "POST", "/transfers", "/transfers", 422, **_json({"parcel": "XA-01-404"})),
        Case("LRA/land-register/events", "POST", "/", "/", 422, client=PUBLISHER, body=b"nope"),
        Case("DGO/readiness/regional", "POST", "/submissions", "/submissions", 422, **_json({"round": 2026})),
        Case("PORTAL/services/numbers", "GET", "", "/by-person", 404),
        Case("IDA/identity/numbers", "GET", "", "/accounts", 404),
        Case("EXCHANGE/data-embassy/drills", "GET", "", "/latest", 404),
        Case("EXCHANGE/pubsub/directory", "GET", "", "/members", 404),
        Case("PORTAL/concerns/reports", "GET", "/queue", "/queue", 422, query="status=pending"),
        Case("PORTAL/concerns/reports", "POST", "/reports/{report_id}/actions", "/reports/1/actions", 422, body=b"no"),
        Case(
            "PORTAL/concerns/reports",
            "POST",
            "/reports/{report_id}/reassign",
            "/reports/999999/reassign",
            404,
            **_json({"service_code": "drain"}),
        ),
        Case("PORTAL/concerns/reports", "POST", "/reports/{report_id}/merge", "/reports/1/merge", 422, **_json({})),
        Case("EXCHANGE/data-embassy/store", "PUT", "/objects/{key}", "/objects/not-a-key", 422, body=b"x"),
        Case("EXCHANGE/data-embassy/store", "GET", "/list/{prefix}", "/list/keys", 422),
        Case("CRO/civil-registry/persons", "GET", "", "/a/b/c", 404),
        Case("EXCHANGE/data-embassy/store", "POST", "", "/inventory", 405),
    ]


def _call(case: Case) -> ExchangeResult:
    instance = config.INSTANCE.read()
    return exchange_call(
        client=agency_client(*case.client.split("/")),
        service=f"{instance}/GOV/{case.tail}",
        path=case.path,
        method=case.method,
        query=case.query,
        body=case.body,
        content_type=case.content_type,
        assertion=case.assertion,
        issue="contract test",
    )


def _document(tail: str) -> dict[str, Any]:
    """The service's OpenAPI document as the provider's gateway publishes it (``getOpenAPI``)."""
    instance = config.INSTANCE.read()
    provider, code = tail.rsplit("/", 1)
    result = exchange_call(
        client=agency_client("PORTAL", "services"),
        service=f"{instance}/GOV/{provider}/getOpenAPI",
        query=f"serviceCode={code}",
    )
    assert result.status == 200, result.body
    document: dict[str, Any] = result.json()
    return document


def _check(document: dict[str, Any], case: Case, result: ExchangeResult) -> None:
    """The response matches the document's schema for its route, status and media type."""
    operation = document["paths"][case.template][case.method.lower()] if case.template else None
    responses = operation["responses"] if operation else document_problem(document)
    described = responses.get(str(result.status)) or responses["default"]
    media = result.headers.get("content-type", "")
    if "content" not in described:
        assert result.body == b"", f"{case}: the document describes no body"
        return
    assert media in described["content"], f"{case}: {media} is not in {list(described['content'])}"
    schema = described["content"][media]["schema"]
    if schema.get("format") == "binary":
        assert result.body
        return
    validate(document, schema, result.json())


def document_problem(document: dict[str, Any]) -> dict[str, Any]:
    """The problem answer the document gives every operation (for a path that names none)."""
    first = next(iter(next(iter(document["paths"].values())).values()))
    return {"default": first["responses"]["default"]}


def validate(document: dict[str, Any], schema: dict[str, Any], instance: object) -> None:
    rooted = {**schema, "components": document.get("components", {})}
    jsonschema.Draft202012Validator(rooted).validate(instance)


def _route_keys(router: ServiceRouter) -> set[tuple[str, str]]:
    return {(route.method, route.openapi_path) for route in router.routes}


def test_the_published_documents_are_the_ones_generated_from_the_routes() -> None:
    for router in routers():
        for tail, _, api_title in router.publications:
            assert _document(tail) == router.openapi(title=api_title), tail


def test_every_route_answers_what_its_document_describes(world: dict[str, Any]) -> None:
    cases = _valid_cases(world)
    # Reading a declaration and printing a copy answer about what the calls before them made.
    declared, copy = _call(_declaration(world["uin"])), _call(_copy(world))
    assert declared.status == 201 and copy.status == 201, (declared.body, copy.body)
    cases += [
        _copy(world),
        Case("CRO/civil-registry/declarations", "GET", "/{id}", f"/{declared.json()['declaration']}", 200),
        Case("CRO/civil-registry/copies", "GET", "/{serial}.pdf", f"/{copy.json()['serial']}.pdf", 200),
    ]
    documents: dict[str, dict[str, Any]] = {}
    for case in cases:
        document = documents.setdefault(case.tail, _document(case.tail))
        result = _call(case)
        assert result.status == case.status, (case, result.body)
        _check(document, case, result)
    called = {(case.tail, case.method, case.template) for case in cases}
    for router in routers():
        for tail, _, _ in router.publications:
            missing = {key for key in _route_keys(router) if (tail, *key) not in called}
            assert not missing, f"{tail}: no contract case for {missing}"


@pytest.mark.parametrize("case", _bad_cases(), ids=lambda c: f"{c.tail}:{c.method}:{c.path}")
def test_bad_input_is_answered_with_the_documented_problem(world: dict[str, Any], case: Case) -> None:
    result = _call(case)

    assert result.status == case.status, result.body
    assert result.headers["content-type"] == "application/problem+json"
    assert result.json()["status"] == case.status
    _check(_document(case.tail), case, result)


def test_every_service_has_a_bad_input_case() -> None:
    bad = {case.tail for case in _bad_cases()}
    published = {tail for router in routers() for tail, _, _ in router.publications}
    assert published - bad <= {"LTA/licensing/documents", "MSD/benefits/documents", "BRA/business-register/documents"}


def test_a_field_the_document_does_not_name_fails_the_contract(world: dict[str, Any]) -> None:
    document = _document("CRO/civil-registry/persons")
    result = _call(Case("CRO/civil-registry/persons", "GET", "/{uin}", f"/{world['uin']}", 200))
    schema = document["paths"]["/{uin}"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    answered = result.json()
    validate(document, schema, answered)

    with pytest.raises(jsonschema.ValidationError, match="Additional properties"):
        validate(document, schema, {**answered, "date_of_birth": answered["birth_date"]})
    with pytest.raises(jsonschema.ValidationError, match="required"):
        validate(document, schema, {k: v for k, v in answered.items() if k != "address_parish"})
