"""Who may read and who may write each surface of gov21: one entry per URL pattern of ``gov21.urls``,
per operation of the platform's API (``/api/v1/``) and per operation of each exchange service.

A surface without an entry fails ``test_matrix.py``; so does an entry whose surface is gone (except
``gone`` entries, which must answer 404 wherever they still resolve). The table says what gov21
*intends*; where the code does not do it yet, the cells are listed in ``test_matrix.OPEN_FINDINGS``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from gov21.core.permissions import role_permissions
from tests.security.world import ROLES, STAFF_ROLES, TOKEN_ROLES, World

Roles = frozenset[str]

EVERYONE: Roles = frozenset(ROLES)
NOBODY: Roles = frozenset()
CITIZEN_A: Roles = frozenset({"citizen"})
CITIZENS: Roles = frozenset({"citizen", "other_citizen"})
STAFF: Roles = frozenset(role for role, _ in STAFF_ROLES)
SIGNED_IN: Roles = CITIZENS | STAFF
# The licensing agency's case workers: A's licence renewal is a case of their agency only.
LICENSING_CASES: Roles = frozenset({"case_officer", "supervisor", "administrator"})


def perm(permission: str, *, tokens: bool = True) -> Roles:
    """The staff roles (and, on the API, the token roles) whose role grants ``permission``."""
    staff = {role for role, _ in STAFF_ROLES if permission in role_permissions(role)}
    api = {f"token_{role}" for role in TOKEN_ROLES if permission in role_permissions(role)} if tokens else set()
    return frozenset(staff | api)


def page(permission: str) -> Roles:
    """A back-office page: staff who signed in through the provider; an API token opens no page."""
    return perm(permission, tokens=False)


@dataclass(frozen=True)
class Rule:
    """``get``/``post``: the roles allowed to read/write (None: the method is not part of the surface).
    ``urls`` gives the concrete requests, with real identifiers of citizen A's records."""

    urls: Callable[[World], list[str]]
    get: Roles | None = None
    post: Roles | None = None
    data: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    # Statuses that still mean "let in" (the caller passed the gate, the input was then judged).
    ok: frozenset[int] = frozenset({400, 409, 422})
    # Must answer 404 to everyone wherever it still resolves; the pattern may be removed.
    gone: bool = False
    # Who may see A's data in the answer even when refused the write (a form shown again with the
    # reason); by default those who may read the surface.
    sees: Roles | None = None
    # The office works a case only after the officer said why they open it (in the same session).
    opens_case: bool = False
    # Other statuses that refuse here; each says why next to its rule.
    refused: frozenset[int] = frozenset()


def _u(path: str) -> Callable[[World], list[str]]:
    return lambda w: [path]


PUBLIC_OIDC = frozenset({400, 401, 405})

# --- every URL pattern of gov21.urls (API operations under api/v1/ are in API below) ----------------
URLS: dict[str, Rule] = {
    "api/v1/openapi.json": Rule(_u("/api/v1/openapi.json"), get=EVERYONE),
    "api/v1/docs": Rule(_u("/api/v1/docs"), get=EVERYONE),
    "api/v1/": Rule(_u("/api/v1/"), get=EVERYONE, ok=frozenset({404})),
    ".well-known/jwks.json": Rule(_u("/.well-known/jwks.json"), get=EVERYONE),
    "verify": Rule(_u("/verify"), get=EVERYONE, post=EVERYONE, data=lambda w: {"payload": "GOV21:not-a-credential"}),
    # The exchange's client interface and its metaservices are served on a node's own ports, never
    # on the portal's public one.
    r"^r\d+/": Rule(
        lambda w: [f"/r1/{w.instance}/GOV/CRO/civil-registry/persons/{w.a.identifier}"], get=NOBODY, gone=True
    ),
    "listClients": Rule(_u("/listClients"), get=NOBODY, gone=True),
    "metrics": Rule(_u("/metrics"), get=NOBODY, gone=True),
    # The signed configuration lists every node's address: a node credential is needed.
    "exchange/conf": Rule(_u("/exchange/conf"), get=NOBODY),
    "exchange/anchor": Rule(_u("/exchange/anchor"), get=EVERYONE),
    # Joining the exchange needs the join secret an administrator handed over; none of these has it.
    "exchange/directory/join": Rule(
        _u("/exchange/directory/join"),
        post=NOBODY,
        data=lambda w: {
            "code": "intruder",
            "owner": f"{w.instance}/GOV/STATS",
            "address": "https://127.0.0.1:1",
            "auth_public_key": "-----BEGIN PUBLIC KEY-----",
        },
        # The matrix posts a form; the join takes JSON, so it is refused as unreadable before the
        # secret is looked at. tests/exchange/test_directory.py sends real JSON without, and with a
        # wrong, used or expired secret.
        refused=frozenset({422}),
    ),
    "healthz": Rule(_u("/healthz"), get=EVERYONE, ok=frozenset({503})),
    # --- OGC API Features: the country's geographic reference data is public. A collection holding
    # personal data declares a permission (tests/geo/test_api.py shows the 401 and 403).
    # Open311 GeoReport v2 (tests/concerns/test_open311.py): public reads; a report is posted only
    # with a client application's api_key, which no role holds (403, the specification's status).
    "open311/v2/discovery.<str:fmt>": Rule(_u("/open311/v2/discovery.json"), get=EVERYONE),
    "open311/v2/services.<str:fmt>": Rule(_u("/open311/v2/services.xml"), get=EVERYONE),
    "open311/v2/services/<str:code>.<str:fmt>": Rule(_u("/open311/v2/services/pothole.json"), get=EVERYONE),
    "open311/v2/requests.<str:fmt>": Rule(
        _u("/open311/v2/requests.json"),
        get=EVERYONE,
        post=NOBODY,
        data=lambda w: {"service_code": "pothole", "address_string": "Main Street"},
    ),
    "open311/v2/requests/<str:service_request_id>.<str:fmt>": Rule(
        _u("/open311/v2/requests/1.json"), get=EVERYONE, ok=frozenset({404})
    ),
    "open311/v2/tokens/<str:token>.<str:fmt>": Rule(
        _u("/open311/v2/tokens/abc.json"), get=EVERYONE, ok=frozenset({404})
    ),
    # Reporting a problem on the portal: anyone, signed in or not (tests/concerns/test_pages.py).
    "report/": Rule(_u("/report/"), get=EVERYONE, post=EVERYONE),
    "reports/": Rule(_u("/reports/"), get=EVERYONE),
    # A person's own reports: a citizen's page; staff accounts have none and are sent to sign in.
    "reports/mine/": Rule(_u("/reports/mine/"), get=CITIZENS),
    "reports/<int:report_id>/": Rule(_u("/reports/1/"), get=EVERYONE, ok=frozenset({404})),
    # The reporting desk's back office (tests/concerns/test_office.py).
    "office/concerns/": Rule(_u("/office/concerns/"), get=page("concerns.work")),
    "office/concerns/<int:report_id>/": Rule(
        _u("/office/concerns/1/"),
        get=page("concerns.work"),
        post=page("concerns.work"),
        data=lambda w: {"form": "act"},
        ok=frozenset({400, 404}),
    ),
    "reports/photos/<int:photo_id>.jpg": Rule(_u("/reports/photos/1.jpg"), get=EVERYONE, ok=frozenset({404})),
    "geo/": Rule(_u("/geo/"), get=EVERYONE),
    "geo/conformance": Rule(_u("/geo/conformance"), get=EVERYONE),
    "geo/api": Rule(_u("/geo/api"), get=EVERYONE),
    "geo/collections": Rule(_u("/geo/collections"), get=EVERYONE),
    "geo/collections/<str:collection_id>": Rule(_u("/geo/collections/parishes"), get=EVERYONE),
    "geo/collections/<str:collection_id>/queryables": Rule(_u("/geo/collections/parishes/queryables"), get=EVERYONE),
    "geo/collections/<str:collection_id>/items": Rule(_u("/geo/collections/parishes/items"), get=EVERYONE),
    "geo/collections/<str:collection_id>/items/<str:feature_id>": Rule(
        _u("/geo/collections/parishes/items/XA-01"), get=EVERYONE
    ),
    # Vector tiles (OGC API Tiles) of public collections, and the shared map's style and files: public
    # too. A collection that needs a right refuses its tiles as its features (tests/geo/test_tiles.py).
    "geo/tileMatrixSets": Rule(_u("/geo/tileMatrixSets"), get=EVERYONE),
    "geo/tileMatrixSets/<str:tile_matrix_set_id>": Rule(_u("/geo/tileMatrixSets/WebMercatorQuad"), get=EVERYONE),
    "geo/tiles": Rule(_u("/geo/tiles"), get=EVERYONE),
    "geo/tiles/<str:tile_matrix_set_id>": Rule(_u("/geo/tiles/WebMercatorQuad"), get=EVERYONE),
    "geo/tiles/<str:tile_matrix_set_id>/<str:tile_matrix>/<str:tile_row>/<str:tile_col>": Rule(
        _u("/geo/tiles/WebMercatorQuad/0/0/0"), get=EVERYONE
    ),
    "geo/collections/<str:collection_id>/tiles": Rule(_u("/geo/collections/parishes/tiles"), get=EVERYONE),
    "geo/collections/<str:collection_id>/tiles/<str:tile_matrix_set_id>": Rule(
        _u("/geo/collections/parishes/tiles/WebMercatorQuad"), get=EVERYONE
    ),
    "geo/collections/<str:collection_id>/tiles/<str:tile_matrix_set_id>/"  # one key, two lines
    "<str:tile_matrix>/<str:tile_row>/<str:tile_col>": Rule(
        _u("/geo/collections/parishes/tiles/WebMercatorQuad/0/0/0"), get=EVERYONE
    ),
    "geo/map/style.json": Rule(_u("/geo/map/style.json"), get=EVERYONE),
    "geo/map/<str:name>": Rule(_u("/geo/map/map.js"), get=EVERYONE),
    # The imagery catalogue is the government's open imagery: public, like /geo/. The test world
    # holds no imagery, so an item, its files and its tiles answer 404 to everyone (tests/imagery).
    # --- The open data portal: its catalogue, pages and downloads are public; writes through CKAN's
    # Action API need a publisher's token (tests/opendata/test_ckan.py drives every action). The
    # matrix's nation publishes no dataset, so reads of one answer 404 to everyone.
    "api/3/action/<str:name>": Rule(_u("/api/3/action/package_create"), post=perm("opendata.publish")),
    "api/action/<str:name>": Rule(_u("/api/action/datastore_create"), post=perm("opendata.publish")),
    "catalog": Rule(_u("/catalog"), get=EVERYONE),
    "catalog.ttl": Rule(_u("/catalog.ttl"), get=EVERYONE),
    "catalog.jsonld": Rule(_u("/catalog.jsonld"), get=EVERYONE),
    "catalog.rdf": Rule(_u("/catalog.rdf"), get=EVERYONE),
    "dataset/": Rule(_u("/dataset/"), get=EVERYONE),
    "dataset/<str:name>": Rule(_u("/dataset/no-such-dataset"), get=EVERYONE, ok=frozenset({404})),
    "dataset/<str:name>.ttl": Rule(_u("/dataset/no-such-dataset.ttl"), get=EVERYONE, ok=frozenset({404})),
    "dataset/<str:name>.jsonld": Rule(_u("/dataset/no-such-dataset.jsonld"), get=EVERYONE, ok=frozenset({404})),
    "dataset/<str:name>.rdf": Rule(_u("/dataset/no-such-dataset.rdf"), get=EVERYONE, ok=frozenset({404})),
    "datastore/dump/<str:resource_id>": Rule(
        _u("/datastore/dump/00000000-0000-4000-8000-000000000000"), get=EVERYONE, ok=frozenset({404})
    ),
    "dataset/<str:name>/resource/<str:resource_id>/download": Rule(
        _u("/dataset/x/resource/00000000-0000-4000-8000-000000000000/download"), get=EVERYONE, ok=frozenset({404})
    ),
    # The publishers' office: datasets, releases and harvest sources, for whoever may publish
    # (tests/opendata/test_office.py). The world publishes nothing and harvests from nowhere, so the
    # page of a dataset or a source answers 404 to those let in; an empty form is refused with 422.
    "office/opendata/": Rule(_u("/office/opendata/"), get=page("opendata.publish"), post=page("opendata.publish")),
    "office/opendata/datasets/<str:name>/": Rule(
        _u("/office/opendata/datasets/no-such-dataset/"),
        get=page("opendata.publish"),
        post=page("opendata.publish"),
        ok=frozenset({404}),
    ),
    "office/opendata/harvest/": Rule(
        _u("/office/opendata/harvest/"), get=page("opendata.publish"), post=page("opendata.publish")
    ),
    "office/opendata/harvest/<str:name>/": Rule(
        _u("/office/opendata/harvest/no-such-source/"),
        get=page("opendata.publish"),
        post=page("opendata.publish"),
        ok=frozenset({404}),
    ),
    "stac/": Rule(_u("/stac/"), get=EVERYONE),
    # The readiness report: published figures about countries, for everyone.
    "readiness/": Rule(_u("/readiness/"), get=EVERYONE),
    "readiness/report.pdf": Rule(_u("/readiness/report.pdf"), get=EVERYONE, ok=frozenset({404})),
    "readiness/countries/<str:code>/": Rule(_u("/readiness/countries/JAM/"), get=EVERYONE, ok=frozenset({404})),
    # The nation's live indicators: numbers about its services, nobody named.
    "readiness/indicators": Rule(_u("/readiness/indicators"), get=EVERYONE),
    "stac/conformance": Rule(_u("/stac/conformance"), get=EVERYONE),
    "stac/api": Rule(_u("/stac/api"), get=EVERYONE),
    "stac/search": Rule(_u("/stac/search"), get=EVERYONE, post=EVERYONE),
    "stac/collections": Rule(_u("/stac/collections"), get=EVERYONE),
    "stac/collections/<str:collection_id>": Rule(
        _u("/stac/collections/demo-scenes"), get=EVERYONE, ok=frozenset({400, 404})
    ),
    "stac/collections/<str:collection_id>/items": Rule(
        _u("/stac/collections/demo-scenes/items"), get=EVERYONE, ok=frozenset({400, 404})
    ),
    "stac/collections/<str:collection_id>/items/<str:item_id>": Rule(
        _u("/stac/collections/demo-scenes/items/none"), get=EVERYONE, ok=frozenset({400, 404})
    ),
    "stac/collections/<str:collection_id>/items/<str:item_id>/assets/<str:key>": Rule(
        _u("/stac/collections/demo-scenes/items/none/assets/data"), get=EVERYONE, ok=frozenset({400, 404})
    ),
    "stac/collections/<str:collection_id>/items/<str:item_id>/tiles/WebMercatorQuad/<int:z>/<int:y>/<int:x>.png": Rule(
        _u("/stac/collections/demo-scenes/items/none/tiles/WebMercatorQuad/0/0/0.png"),
        get=EVERYONE,
        ok=frozenset({400, 404}),
    ),
    # Readiness tells an operator which dependency is down: internal only.
    # For monitors on loopback and in GOV21_READYZ_ALLOW only; the matrix's callers are on loopback.
    # tests/continuity/test_views.py shows the refusal to any other address, forwarded or not.
    "readyz": Rule(_u("/readyz"), get=EVERYONE),
    # --- the civil registry's back office
    "office/registry/": Rule(_u("/office/registry/"), get=page("event.read")),
    "office/registry/declare": Rule(_u("/office/registry/declare"), get=page("event.declare")),
    "office/registry/declare/birth": Rule(
        _u("/office/registry/declare/birth"), get=page("event.declare"), post=page("event.declare")
    ),
    "office/registry/declare/death": Rule(
        _u("/office/registry/declare/death"), get=page("event.declare"), post=page("event.declare")
    ),
    "office/registry/declare/marriage": Rule(
        _u("/office/registry/declare/marriage"), get=page("event.declare"), post=page("event.declare")
    ),
    "office/registry/declare/address": Rule(
        _u("/office/registry/declare/address"),
        get=page("event.declare"),
        post=page("event.declare"),
        data=lambda w: {"uin": w.a.identifier, "address_parish": "XA-03", "address_settlement": "Elsewhere"},
    ),
    "office/registry/declare/divorce": Rule(
        _u("/office/registry/declare/divorce"), get=page("event.declare"), post=page("event.declare")
    ),
    "office/registry/declare/name-change": Rule(
        _u("/office/registry/declare/name-change"),
        get=page("event.declare"),
        post=page("event.declare"),
        data=lambda w: {"uin": w.a.identifier, "family_name": "Elsewhere", "reason": "test"},
    ),
    # The answers kept for a declaration's check page are the caller's own (in their session): without
    # any, the page sends back to the form.
    "office/registry/declare/<slug:slug>/check": Rule(
        lambda w: [f"/office/registry/declare/{slug}/check" for slug in ("birth", "address", "name-change")],
        get=page("event.declare"),
        post=page("event.declare"),
        data=lambda w: {"answers": "x"},
    ),
    # A declarant's corrected facts, typed at the counter; the declaration is not waiting for one (409).
    "office/registry/events/<int:event_id>/correct": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/correct"],
        get=page("event.declare"),
        post=page("event.declare"),
    ),
    "office/registry/events/<int:event_id>/correct/check": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/correct/check"],
        get=page("event.declare"),
        post=page("event.declare"),
        data=lambda w: {"answers": "x"},
    ),
    "office/registry/events/<int:event_id>": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}"], get=page("event.read")
    ),
    "office/registry/events/<int:event_id>/validate": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/validate"],
        post=page("event.decide"),
        sees=page("event.read"),
    ),
    "office/registry/events/<int:event_id>/register": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/register"],
        post=page("event.decide"),
        sees=page("event.read"),
    ),
    "office/registry/events/<int:event_id>/reject": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/reject"],
        post=page("event.decide"),
        sees=page("event.read"),
        data=lambda w: {"reason": "test"},
    ),
    "office/registry/events/<int:event_id>/request-correction": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/request-correction"],
        post=page("event.decide"),
        sees=page("event.read"),
        data=lambda w: {"note": "test"},
    ),
    "office/registry/events/<int:event_id>/duplicates/<int:candidate_id>": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/duplicates/999999"],
        post=page("event.decide"),
        sees=page("event.read"),
        data=lambda w: {"resolution": "distinct"},
        ok=frozenset({400, 404, 409, 422}),
    ),
    "office/registry/events/<int:event_id>/certificates": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/certificates"],
        post=page("certificate.issue"),
        sees=page("event.read"),
    ),
    "office/registry/events/<int:event_id>/certificates/<str:serial>/revoke": Rule(
        lambda w: [f"/office/registry/events/{w.birth_event}/certificates/{w.certificate_serial}/revoke"],
        post=page("certificate.issue"),
        sees=page("event.read"),
        data=lambda w: {"reason": "test"},
    ),
    "office/registry/certificates/<str:serial>.pdf": Rule(
        lambda w: [f"/office/registry/certificates/{w.certificate_serial}.pdf"], get=page("event.read")
    ),
    "office/registry/certificates/<str:serial>/qr.png": Rule(
        lambda w: [f"/office/registry/certificates/{w.certificate_serial}/qr.png"], get=page("event.read")
    ),
    "office/registry/search": Rule(
        lambda w: [f"/office/registry/search?name={w.a_family}&purpose_reason=registration"], get=page("person.read")
    ),
    "office/registry/persons/<str:uin>": Rule(
        lambda w: [f"/office/registry/persons/{w.a.identifier}?purpose_reason=registration"], get=page("person.read")
    ),
    "office/registry/persons/<str:uin>/correct": Rule(
        lambda w: [f"/office/registry/persons/{w.a.identifier}/correct"],
        get=page("person.correct"),
        post=page("person.correct"),
        sees=page("person.read"),
    ),
    # --- identity, exchange, service definitions, cases, continuity back offices
    "office/identity/activation": Rule(
        _u("/office/identity/activation"),
        get=page("identity.activate"),
        post=page("identity.activate"),
        data=lambda w: {"uin": w.a.identifier},
    ),
    # A second officer approves a recovery another asked for; no recovery 999999 waits (404).
    "office/identity/recoveries": Rule(
        _u("/office/identity/recoveries"),
        get=page("identity.activate"),
        post=page("identity.activate"),
        data=lambda w: {"recovery": "999999", "checked": "yes"},
        ok=frozenset({404, 409, 422}),
    ),
    "office/identity/clients": Rule(
        _u("/office/identity/clients"), get=page("identity.clients"), post=page("identity.clients")
    ),
    "office/exchange/": Rule(_u("/office/exchange/"), get=page("exchange.admin")),
    "office/exchange/rights": Rule(
        _u("/office/exchange/rights"), get=page("exchange.admin"), post=page("exchange.admin")
    ),
    "office/exchange/rights/revoke": Rule(_u("/office/exchange/rights/revoke"), post=page("exchange.admin")),
    "office/exchange/nodes": Rule(_u("/office/exchange/nodes"), get=page("exchange.admin")),
    "office/exchange/nodes/<str:code>/approve": Rule(
        lambda w: [f"/office/exchange/nodes/{w.node_code}/approve"],
        post=page("exchange.admin"),
        ok=frozenset({400, 404, 409, 422}),
    ),
    "office/exchange/nodes/<str:code>/revoke": Rule(
        lambda w: [f"/office/exchange/nodes/{w.node_code}-none/revoke"],
        post=page("exchange.admin"),
        ok=frozenset({400, 404, 409, 422}),
    ),
    # Each outbox's dead letters are administered under that outbox's permission; the deliveries'
    # stand for both here (tests/portal/test_outbox.py covers the notifications').
    "office/outbox/<slug:name>/": Rule(_u("/office/outbox/deliveries/"), get=page("exchange.admin")),
    "office/outbox/<slug:name>/<int:row_id>/retry": Rule(
        _u("/office/outbox/deliveries/1/retry"), post=page("exchange.admin"), ok=frozenset({404, 409})
    ),
    "office/services/": Rule(_u("/office/services/"), get=page("services.admin")),
    "office/services/<slug:code>": Rule(
        _u("/office/services/renew-driving-licence"),
        get=page("services.admin"),
        post=page("services.admin"),
        data=lambda w: {"definition": "code: renew-driving-licence\n"},
    ),
    "services/schema.json": Rule(_u("/services/schema.json"), get=EVERYONE),
    "office/cases/": Rule(_u("/office/cases/"), get=page("case.read")),
    "office/cases/workload": Rule(_u("/office/cases/workload"), get=page("case.assign")),
    "office/cases/automatic": Rule(_u("/office/cases/automatic"), get=page("case.read")),
    "office/cases/<str:reference>": Rule(
        lambda w: [f"/office/cases/{w.a_application}"],
        get=LICENSING_CASES,
        post=LICENSING_CASES,
        data=lambda w: {"purpose": "checking the renewal"},
    ),
    "office/cases/<str:reference>/assign": Rule(
        lambda w: [f"/office/cases/{w.a_application}/assign"],
        post=frozenset({"supervisor", "administrator"}),
        data=lambda w: {"me": "1"},
        opens_case=True,
        # A's renewal is already decided: the engine refuses to reassign a closed case (409) before
        # it asks whether a case officer may assign at all. Nothing changes either way.
        refused=frozenset({409}),
        sees=LICENSING_CASES,
    ),
    "office/cases/<str:reference>/request-info": Rule(
        lambda w: [f"/office/cases/{w.a_application}/request-info"], post=LICENSING_CASES, opens_case=True
    ),
    "office/cases/<str:reference>/decide": Rule(
        lambda w: [f"/office/cases/{w.a_application}/decide"], post=LICENSING_CASES, opens_case=True
    ),
    "office/cases/<str:reference>/review": Rule(
        lambda w: [f"/office/cases/{w.a_application}/review"], post=LICENSING_CASES, opens_case=True
    ),
    # A's renewal has no request for a review waiting: the engine refuses (409) once the gate let in.
    "office/cases/<str:reference>/reconsider": Rule(
        lambda w: [f"/office/cases/{w.a_application}/reconsider"],
        post=LICENSING_CASES,
        opens_case=True,
        data=lambda w: {"outcome": "uphold", "reason": "test"},
    ),
    "office/cases/<str:reference>/payments/<int:payment_id>/confirm": Rule(
        lambda w: [f"/office/cases/{w.a_application}/payments/999999/confirm"],
        post=LICENSING_CASES,
        opens_case=True,
        ok=frozenset({400, 404, 409, 422}),
    ),
    "office/continuity/": Rule(_u("/office/continuity/"), get=page("continuity.read")),
    # --- the asset register and disaster response; the forms are sent empty (422 once let in)
    "office/land/": Rule(_u("/office/land/"), get=page("land.read")),
    "office/statistics/": Rule(_u("/office/statistics/"), get=page("statistics.read")),
    "office/statistics/services/": Rule(_u("/office/statistics/services/"), get=page("statistics.read")),
    "office/statistics/services/csv": Rule(_u("/office/statistics/services/csv"), get=page("statistics.read")),
    "office/statistics/services/traffic.csv": Rule(
        _u("/office/statistics/services/traffic.csv"), get=page("statistics.read")
    ),
    "statistics/": Rule(_u("/statistics/"), get=EVERYONE),
    "statistics/completeness/": Rule(_u("/statistics/completeness/"), get=EVERYONE),
    "statistics/completeness/csv": Rule(_u("/statistics/completeness/csv"), get=EVERYONE),
    "statistics/forecasts/": Rule(_u("/statistics/forecasts/"), get=EVERYONE),
    "statistics/forecasts/csv": Rule(_u("/statistics/forecasts/csv"), get=EVERYONE),
    # Public tables; the world has published none (tests/statistics publishes and reads them), so a
    # table's page answers 404 to everyone alike, never a refusal.
    "statistics/<slug:dataset>/": Rule(
        _u("/statistics/population-by-parish-sex-age/"), get=EVERYONE, ok=frozenset({400, 404, 409, 422})
    ),
    "statistics/<slug:dataset>/csv": Rule(
        _u("/statistics/population-by-parish-sex-age/csv"), get=EVERYONE, ok=frozenset({400, 404, 409, 422})
    ),
    "office/land/parcels/<str:number>/": Rule(lambda w: [f"/office/land/parcels/{w.a_parcel}/"], get=page("land.read")),
    # Any reader may post to a transaction's page; checking, registering or rejecting it is then
    # refused by the service to whoever lacks land.decide (tests/land/test_office.py).
    "office/land/transactions/<str:number>/": Rule(
        lambda w: [f"/office/land/transactions/{w.a_land_transaction}/"],
        get=page("land.read"),
        post=page("land.read"),
    ),
    "office/land/lodge/transfer/": Rule(
        _u("/office/land/lodge/transfer/"), get=page("land.lodge"), post=page("land.lodge")
    ),
    "office/land/lodge/mortgage/": Rule(
        _u("/office/land/lodge/mortgage/"), get=page("land.lodge"), post=page("land.lodge")
    ),
    "office/land/lodge/first-registration/": Rule(
        _u("/office/land/lodge/first-registration/"), get=page("land.lodge"), post=page("land.lodge")
    ),
    "office/land/lodge/subdivision/": Rule(
        _u("/office/land/lodge/subdivision/"), get=page("land.lodge"), post=page("land.lodge")
    ),
    "office/land/lodge/merger/": Rule(
        _u("/office/land/lodge/merger/"), get=page("land.lodge"), post=page("land.lodge")
    ),
    "office/land/lodge/discharge/": Rule(
        _u("/office/land/lodge/discharge/"), get=page("land.lodge"), post=page("land.lodge")
    ),
    "office/land/lodge/lease/": Rule(_u("/office/land/lodge/lease/"), get=page("land.lodge"), post=page("land.lodge")),
    "office/land/lodge/easement/": Rule(
        _u("/office/land/lodge/easement/"), get=page("land.lodge"), post=page("land.lodge")
    ),
    # The record linkage: officers who may read the sources see their quality and the queue; the
    # decisions on a record are refused by the service to whoever lacks linkage.review.
    "office/linkage/": Rule(_u("/office/linkage/"), get=page("linkage.read")),
    "office/linkage/sources/<slug:code>/": Rule(
        lambda w: [f"/office/linkage/sources/{w.linkage_source}/"], get=page("linkage.read")
    ),
    "office/linkage/sources/<slug:code>/review/": Rule(
        lambda w: [f"/office/linkage/sources/{w.linkage_source}/review/"], get=page("linkage.read")
    ),
    "office/linkage/records/<int:pk>/": Rule(
        lambda w: [f"/office/linkage/records/{w.a_linkage_record}/"],
        get=page("linkage.read"),
        post=page("linkage.review"),
        sees=page("linkage.read"),
    ),
    "office/linkage/duplicates/": Rule(_u("/office/linkage/duplicates/"), get=page("linkage.read")),
    # Importing an agency's file is for those who review (registrars, administrators).
    "office/linkage/import/": Rule(
        _u("/office/linkage/import/"), get=page("linkage.review"), post=page("linkage.review")
    ),
    # The skills survey: any member of staff answers it, once (a second answer is 409); the gaps
    # per ministry and role are for reviewers (tests/readiness/test_office.py).
    "office/readiness/skills/": Rule(_u("/office/readiness/skills/"), get=STAFF, post=STAFF),
    "office/readiness/skills/gaps/": Rule(_u("/office/readiness/skills/gaps/"), get=page("readiness.review")),
    # Opening and closing the survey's rounds is for reviewers (tests/readiness/test_office.py).
    "office/readiness/skills/rounds/": Rule(
        _u("/office/readiness/skills/rounds/"), get=page("readiness.review"), post=page("readiness.review")
    ),
    # The live indicators for reviewers, who may also measure a round now (502 when an agency's
    # numbers cannot be read).
    "office/readiness/indicators/": Rule(
        _u("/office/readiness/indicators/"),
        get=page("readiness.review"),
        post=page("readiness.review"),
        ok=frozenset({502}),
    ),
    # Agency self-assessments: answered by those who assess; signing off is then refused by the
    # service to whoever lacks readiness.review (tests/readiness/test_office.py). The world holds
    # no assessment, so the page of one answers 404 to those let in.
    "office/readiness/assessments/": Rule(
        _u("/office/readiness/assessments/"), get=page("readiness.assess"), post=page("readiness.assess")
    ),
    "office/readiness/assessments/<int:pk>/": Rule(
        _u("/office/readiness/assessments/1/"),
        get=page("readiness.assess"),
        post=page("readiness.assess"),
        ok=frozenset({404}),
    ),
    "office/assets/": Rule(_u("/office/assets/"), get=page("assets.read")),
    "office/assets/add": Rule(_u("/office/assets/add"), get=page("assets.write"), post=page("assets.write")),
    "office/assets/<str:code>": Rule(lambda w: [f"/office/assets/{w.asset_code}"], get=page("assets.read")),
    "office/assets/<str:code>/edit": Rule(
        lambda w: [f"/office/assets/{w.asset_code}/edit"], get=page("assets.write"), post=page("assets.write")
    ),
    "office/assets/<str:code>/inspect": Rule(
        lambda w: [f"/office/assets/{w.asset_code}/inspect"], post=page("assets.write")
    ),
    "office/disasters/": Rule(_u("/office/disasters/"), get=page("disaster.read")),
    "office/disasters/declare": Rule(
        _u("/office/disasters/declare"), get=page("disaster.declare"), post=page("disaster.declare")
    ),
    "office/disasters/<int:event_id>": Rule(
        lambda w: [f"/office/disasters/{w.disaster_event}"], get=page("disaster.read")
    ),
    "office/disasters/<int:event_id>/assess": Rule(
        lambda w: [f"/office/disasters/{w.disaster_event}/assess"], post=page("disaster.assess")
    ),
    # The residents by name: the officer states a purpose first (a POST without one is refused, 422).
    "office/disasters/<int:event_id>/residents": Rule(
        lambda w: [f"/office/disasters/{w.disaster_event}/residents"],
        get=page("disaster.residents"),
        post=page("disaster.residents"),
    ),
    # No statement of purpose is in the world: once let in, the officer is told there is none (404).
    "office/disasters/<int:event_id>/residents/<int:listing_id>": Rule(
        lambda w: [f"/office/disasters/{w.disaster_event}/residents/999999"],
        get=page("disaster.residents"),
        ok=frozenset({404}),
    ),
    "office/disasters/<int:event_id>/residents/<int:listing_id>.csv": Rule(
        lambda w: [f"/office/disasters/{w.disaster_event}/residents/999999.csv"],
        get=page("disaster.residents"),
        ok=frozenset({404}),
    ),
    # No photo is in the world: once let in, the reader is told there is none (404).
    "office/disasters/photos/<str:sha256>": Rule(
        _u("/office/disasters/photos/" + "0" * 64), get=page("disaster.read"), ok=frozenset({404})
    ),
    # --- the identity provider: its own sign-in, and OpenID Connect, whose callers authenticate as
    # clients or with access tokens (none of the roles here holds either)
    "auth/sign-in": Rule(_u("/auth/sign-in"), get=EVERYONE),
    "auth/verify": Rule(_u("/auth/verify"), get=EVERYONE),
    "auth/activate": Rule(_u("/auth/activate"), get=EVERYONE),
    "auth/account": Rule(_u("/auth/account"), get=SIGNED_IN),
    "auth/sign-out": Rule(_u("/auth/sign-out"), post=EVERYONE),
    "auth/passkey/options": Rule(_u("/auth/passkey/options"), post=EVERYONE),
    "auth/passkey/sign-in": Rule(_u("/auth/passkey/sign-in"), post=EVERYONE),
    "auth/passkey/register-options": Rule(_u("/auth/passkey/register-options"), post=SIGNED_IN),
    "auth/passkey/register": Rule(_u("/auth/passkey/register"), post=SIGNED_IN),
    ".well-known/openid-configuration": Rule(_u("/.well-known/openid-configuration"), get=EVERYONE),
    "oidc/jwks.json": Rule(_u("/oidc/jwks.json"), get=EVERYONE),
    "oidc/authorize": Rule(_u("/oidc/authorize"), get=EVERYONE),
    "oidc/token": Rule(_u("/oidc/token"), post=EVERYONE, ok=PUBLIC_OIDC),
    "oidc/userinfo": Rule(_u("/oidc/userinfo"), get=NOBODY),
    "oidc/revoke": Rule(_u("/oidc/revoke"), post=NOBODY, data=lambda w: {"token": "x"}),
    "oidc/introspect": Rule(_u("/oidc/introspect"), post=NOBODY, data=lambda w: {"token": "x"}),
    "oidc/end-session": Rule(_u("/oidc/end-session"), get=EVERYONE),
    # Anyone may sign themselves out, from the provider's own confirmation page (CSRF-checked).
    "oidc/end-session/confirm": Rule(_u("/oidc/end-session/confirm"), post=EVERYONE),
    "oidc/assertion-keys.json": Rule(_u("/oidc/assertion-keys.json"), get=EVERYONE),
    "i18n/setlang/": Rule(_u("/i18n/setlang/"), post=EVERYONE, data=lambda w: {"language": "fr", "next": "/"}),
    # Django's admin site is not part of gov21: staff work in the back office above.
    "django-admin/*": Rule(
        lambda w: ["/django-admin/", "/django-admin/auth/user/", "/django-admin/login/"], get=NOBODY, gone=True
    ),
    # --- the portal
    "": Rule(_u("/"), get=EVERYONE),
    "favicon.svg": Rule(_u("/favicon.svg"), get=EVERYONE),
    "favicon.ico": Rule(_u("/favicon.ico"), get=EVERYONE),
    "services": Rule(_u("/services?q=licence"), get=EVERYONE),
    "services/<slug:code>": Rule(_u("/services/renew-driving-licence"), get=EVERYONE),
    "services/<slug:code>/start": Rule(_u("/services/change-of-address/start"), post=CITIZENS),
    "life/<slug:slug>": Rule(_u("/life/driving"), get=EVERYONE),
    "apply/<str:reference>": Rule(lambda w: [f"/apply/{w.a_application}"], get=CITIZEN_A),
    "apply/<str:reference>/consent": Rule(
        lambda w: [f"/apply/{w.a_application}/consent"], get=CITIZEN_A, post=CITIZEN_A, data=lambda w: {"agree": "yes"}
    ),
    "apply/<str:reference>/q/<slug:qid>": Rule(
        lambda w: [f"/apply/{w.a_application}/q/health"], get=CITIZEN_A, post=CITIZEN_A, data=lambda w: {"health": "no"}
    ),
    "apply/<str:reference>/check": Rule(lambda w: [f"/apply/{w.a_application}/check"], get=CITIZEN_A, post=CITIZEN_A),
    "apply/<str:reference>/pay": Rule(lambda w: [f"/apply/{w.a_application}/pay"], get=CITIZEN_A, post=CITIZEN_A),
    "apply/<str:reference>/paid": Rule(lambda w: [f"/apply/{w.a_application}/paid"], get=CITIZEN_A),
    "office/": Rule(_u("/office/"), get=SIGNED_IN),
    "my/": Rule(_u("/my/"), get=SIGNED_IN, post=SIGNED_IN, data=lambda w: {"consent": "999999"}),
    "my/data-uses": Rule(_u("/my/data-uses"), get=SIGNED_IN),
    "my/profile": Rule(_u("/my/profile"), get=CITIZENS),
    "my/applications": Rule(_u("/my/applications"), get=CITIZENS),
    "my/applications/<str:reference>": Rule(
        lambda w: [f"/my/applications/{w.a_application}"],
        get=CITIZEN_A,
        post=CITIZEN_A,
        data=lambda w: {"action": "feedback", "rating": "4", "comment": "fine"},
    ),
    # Only the applicant asks for a review; A's renewal was not refused, so the engine refuses (409).
    "my/applications/<str:reference>/review": Rule(
        lambda w: [f"/my/applications/{w.a_application}/review"],
        get=CITIZEN_A,
        post=CITIZEN_A,
        data=lambda w: {"step": "confirm", "disagreement": "test"},
    ),
    "my/documents": Rule(_u("/my/documents"), get=CITIZENS),
    "my/documents/<str:serial>": Rule(
        lambda w: [f"/my/documents/{w.a_document}", f"/my/documents/{w.a_certificate_document}"], get=CITIZEN_A
    ),
    "my/documents/<str:serial>/pdf": Rule(
        lambda w: [f"/my/documents/{w.a_document}/pdf", f"/my/documents/{w.a_certificate_document}/pdf"],
        get=CITIZEN_A,
    ),
    "my/inbox": Rule(_u("/my/inbox"), get=CITIZENS, post=CITIZENS, data=lambda w: {"notification": "1"}),
    "my/offers/<int:offer_id>": Rule(
        lambda w: [f"/my/offers/{w.a_offer}"], get=CITIZEN_A, post=CITIZEN_A, data=lambda w: {"answer": "decline"}
    ),
    # Only the person an application names as its other party (a buyer of land) confirms it; A's
    # renewal names nobody, so every caller finds nothing to confirm (404).
    "my/confirmations/<str:reference>": Rule(
        lambda w: [f"/my/confirmations/{w.a_application}"],
        get=NOBODY,
        post=NOBODY,
        data=lambda w: {"answer": "confirm"},
    ),
    "my/consents": Rule(_u("/my/consents"), get=CITIZENS),
    "my/property": Rule(_u("/my/property"), get=CITIZENS),
    # Only the owner gets an extract signed: anyone else's request finds no parcel of theirs (404).
    "my/property/<str:number>/extract": Rule(lambda w: [f"/my/property/{w.a_parcel}/extract"], post=CITIZEN_A),
    # --- e-participation: public pages of a process (none exists in this world: 404), the acts of a
    # signed-in resident (anyone else is sent to sign in), and the moderators' office.
    "participation/": Rule(_u("/participation/"), get=EVERYONE),
    "participation/<slug:slug>/": Rule(_u("/participation/none/"), get=EVERYONE, ok=frozenset({404})),
    "participation/<slug:slug>/ballots.json": Rule(
        _u("/participation/none/ballots.json"), get=EVERYONE, ok=frozenset({404})
    ),
    "participation/<slug:slug>/moderation": Rule(
        _u("/participation/none/moderation"), get=EVERYONE, ok=frozenset({404})
    ),
    "participation/<slug:slug>/sign": Rule(_u("/participation/none/sign"), post=CITIZENS, ok=frozenset({404})),
    "participation/<slug:slug>/ballot": Rule(_u("/participation/none/ballot"), post=CITIZENS, ok=frozenset({404})),
    "participation/<slug:slug>/survey": Rule(
        _u("/participation/none/survey"), post=CITIZENS, ok=frozenset({404}), data=lambda w: {"q1": "bus"}
    ),
    "participation/<slug:slug>/comments": Rule(
        _u("/participation/none/comments"), post=CITIZENS, ok=frozenset({404}), data=lambda w: {"body": "hello"}
    ),
    "participation/<slug:slug>/comments/<int:comment_id>/report": Rule(
        _u("/participation/none/comments/999999/report"), post=CITIZENS, ok=frozenset({404})
    ),
    "participation/<slug:slug>/statements": Rule(
        _u("/participation/none/statements"), post=CITIZENS, ok=frozenset({404}), data=lambda w: {"text": "A park"}
    ),
    "participation/<slug:slug>/statements/<int:statement_id>/vote": Rule(
        _u("/participation/none/statements/999999/vote"), post=CITIZENS, ok=frozenset({404})
    ),
    "participation/<slug:slug>/proposals": Rule(
        _u("/participation/none/proposals"),
        post=CITIZENS,
        ok=frozenset({404}),
        data=lambda w: {"title": "A park", "body": "Build a park"},
    ),
    "participation/<slug:slug>/proposals/<int:proposal_id>/": Rule(
        _u("/participation/none/proposals/999999/"), get=EVERYONE, ok=frozenset({404})
    ),
    "participation/<slug:slug>/proposals/<int:proposal_id>/support": Rule(
        _u("/participation/none/proposals/999999/support"), post=CITIZENS, ok=frozenset({404})
    ),
    "participation/<slug:slug>/proposals/<int:proposal_id>/comments": Rule(
        _u("/participation/none/proposals/999999/comments"),
        post=CITIZENS,
        ok=frozenset({404}),
        data=lambda w: {"body": "hello"},
    ),
    "office/participation/proposals/<int:proposal_id>/answer": Rule(
        _u("/office/participation/proposals/999999/answer"), post=page("participation.answer")
    ),
    "participation/<slug:slug>/sections/<int:section_id>/amendments": Rule(
        _u("/participation/none/sections/999999/amendments"),
        post=CITIZENS,
        ok=frozenset({404}),
        data=lambda w: {"text": "A better text"},
    ),
    "participation/<slug:slug>/amendments/<int:amendment_id>/support": Rule(
        _u("/participation/none/amendments/999999/support"), post=CITIZENS, ok=frozenset({404})
    ),
    "participation/<slug:slug>/summary": Rule(_u("/participation/none/summary"), get=EVERYONE, ok=frozenset({404})),
    "office/participation/amendments/<int:amendment_id>/decide": Rule(
        _u("/office/participation/amendments/999999/decide"),
        post=page("participation.answer"),
        ok=frozenset({404}),
        data=lambda w: {"decision": "accept", "reason": "Clearer"},
    ),
    "office/participation/processes/new": Rule(
        _u("/office/participation/processes/new"), get=page("participation.answer"), post=page("participation.answer")
    ),
    "office/participation/processes/<slug:slug>/phase": Rule(
        _u("/office/participation/processes/none/phase"), post=page("participation.answer")
    ),
    "office/participation/": Rule(_u("/office/participation/"), get=page("participation.moderate")),
    "office/participation/comments/<int:comment_id>/hide": Rule(
        _u("/office/participation/comments/999999/hide"), post=page("participation.moderate")
    ),
    "office/participation/statements/<int:statement_id>/hide": Rule(
        _u("/office/participation/statements/999999/hide"), post=page("participation.moderate")
    ),
    "office/participation/processes/<slug:slug>/answer": Rule(
        _u("/office/participation/processes/none/answer"), post=page("participation.answer")
    ),
    "feedback": Rule(_u("/feedback"), get=EVERYONE, post=EVERYONE, data=lambda w: {"rating": "5", "comment": "ok"}),
    "sign-in": Rule(_u("/sign-in"), get=EVERYONE),
    "auth/callback": Rule(_u("/auth/callback"), get=EVERYONE, ok=frozenset({400, 403})),
    "sign-out": Rule(_u("/sign-out"), post=EVERYONE),
}


# --- every operation of the platform's API (``/api/v1/``), keyed by method and OpenAPI path ----------
def _api(path: str) -> Callable[[World], list[str]]:
    return lambda w: [
        path.format(uin=w.a.identifier, event_id=w.birth_event, serial=w.certificate_serial, candidate_id=999999)
    ]


_BIRTH = {
    "given_names": "Nia",
    "family_name": "Quintyne",
    "sex": "F",
    "birth_date": "2026-11-30",
    "birth_parish": "XA-01",
}


@dataclass(frozen=True)
class Op:
    """One API operation: who may call it, with a realistic path and body."""

    urls: Callable[[World], list[str]]
    allowed: Roles
    body: Callable[[World], dict[str, Any]] = field(default=lambda w: {})
    ok: frozenset[int] = frozenset({400, 404, 409, 422})
    sees: Roles | None = None


API: dict[tuple[str, str], Op] = {
    # Published figures about countries: everyone, without a token (no data of the world's people).
    ("GET", "/api/v1/readiness/rankings"): Op(
        _u("/api/v1/readiness/rankings?index=egdi&year=2018&group=caricom"), EVERYONE
    ),
    ("GET", "/api/v1/readiness/indicators"): Op(_u("/api/v1/readiness/indicators"), EVERYONE),
    ("GET", "/api/v1/disasters/{event_id}/impact"): Op(
        lambda w: [f"/api/v1/disasters/{w.disaster_event}/impact"], perm("disaster.read")
    ),
    ("GET", "/api/v1/registry/persons/{uin}"): Op(
        lambda w: [f"/api/v1/registry/persons/{w.a.identifier}?purpose=matrix"], perm("person.read")
    ),
    ("GET", "/api/v1/registry/persons"): Op(
        lambda w: [f"/api/v1/registry/persons?name={w.a_family}&purpose=matrix"], perm("person.read")
    ),
    ("GET", "/api/v1/registry/persons/{uin}/history"): Op(
        lambda w: [f"/api/v1/registry/persons/{w.a.identifier}/history?purpose=matrix"], perm("person.read")
    ),
    ("POST", "/api/v1/registry/persons/{uin}/corrections"): Op(
        _api("/api/v1/registry/persons/{uin}/corrections"),
        perm("person.correct"),
        body=lambda w: {"changes": {"address_line": "2 Bay Street"}, "reason": "clerical error"},
        sees=perm("person.read"),
    ),
    ("POST", "/api/v1/registry/events/births"): Op(
        _api("/api/v1/registry/events/births"),
        perm("event.declare"),
        body=lambda w: {**_BIRTH, "mother_uin": w.a.identifier},
    ),
    ("POST", "/api/v1/registry/events/births/batch"): Op(
        _api("/api/v1/registry/events/births/batch"),
        # A trusted intake both declares and registers: only a role granted both may send a batch.
        perm("event.declare") & perm("event.decide"),
        body=lambda w: {"births": [{**_BIRTH, "mother_uin": w.a.identifier}]},
    ),
    ("POST", "/api/v1/registry/events/deaths"): Op(
        _api("/api/v1/registry/events/deaths"),
        perm("event.declare"),
        body=lambda w: {"uin": w.a.identifier, "death_date": "2026-12-01"},
    ),
    ("POST", "/api/v1/registry/events/marriages"): Op(
        _api("/api/v1/registry/events/marriages"),
        perm("event.declare"),
        body=lambda w: {
            "partner_a_uin": w.a.identifier,
            "partner_b_uin": w.b.identifier,
            "date": "2026-12-01",
            "parish": "XA-01",
        },
    ),
    ("POST", "/api/v1/registry/events/divorces"): Op(
        _api("/api/v1/registry/events/divorces"),
        perm("event.declare"),
        body=lambda w: {"partner_a_uin": w.a.identifier, "partner_b_uin": w.b.identifier, "date": "2026-12-01"},
    ),
    ("POST", "/api/v1/registry/events/name-changes"): Op(
        _api("/api/v1/registry/events/name-changes"),
        perm("event.declare"),
        body=lambda w: {"uin": w.a.identifier, "date": "2026-12-01", "family_name": "Best", "reason": "by deed poll"},
    ),
    ("POST", "/api/v1/registry/events/address-changes"): Op(
        _api("/api/v1/registry/events/address-changes"),
        perm("event.declare"),
        body=lambda w: {"uin": w.a.identifier, "date": "2026-12-01", "parish": "XA-02", "line": "4 Hill Road"},
    ),
    ("GET", "/api/v1/registry/events"): Op(_api("/api/v1/registry/events"), perm("event.read")),
    ("GET", "/api/v1/registry/events/{event_id}"): Op(_api("/api/v1/registry/events/{event_id}"), perm("event.read")),
    ("POST", "/api/v1/registry/events/{event_id}/validate"): Op(
        _api("/api/v1/registry/events/{event_id}/validate"), perm("event.decide")
    ),
    ("POST", "/api/v1/registry/events/{event_id}/register"): Op(
        _api("/api/v1/registry/events/{event_id}/register"), perm("event.decide")
    ),
    ("POST", "/api/v1/registry/events/{event_id}/reject"): Op(
        _api("/api/v1/registry/events/{event_id}/reject"), perm("event.decide"), body=lambda w: {"reason": "test"}
    ),
    ("POST", "/api/v1/registry/events/{event_id}/request-correction"): Op(
        _api("/api/v1/registry/events/{event_id}/request-correction"),
        perm("event.decide"),
        body=lambda w: {"note": "test"},
    ),
    ("POST", "/api/v1/registry/events/{event_id}/correct"): Op(
        _api("/api/v1/registry/events/{event_id}/correct"), perm("event.declare"), body=lambda w: {"data": {}}
    ),
    ("POST", "/api/v1/registry/duplicates/{candidate_id}/resolve"): Op(
        _api("/api/v1/registry/duplicates/{candidate_id}/resolve"),
        perm("event.decide"),
        body=lambda w: {"resolution": "distinct"},
    ),
    ("POST", "/api/v1/registry/events/{event_id}/certificates"): Op(
        _api("/api/v1/registry/events/{event_id}/certificates"), perm("certificate.issue")
    ),
    ("GET", "/api/v1/registry/certificates/{serial}"): Op(
        _api("/api/v1/registry/certificates/{serial}"), perm("event.read")
    ),
    ("GET", "/api/v1/registry/certificates/{serial}/pdf"): Op(
        _api("/api/v1/registry/certificates/{serial}/pdf"), perm("event.read")
    ),
    ("POST", "/api/v1/registry/certificates/{serial}/revoke"): Op(
        _api("/api/v1/registry/certificates/{serial}/revoke"),
        perm("certificate.issue"),
        body=lambda w: {"reason": "test"},
    ),
    ("POST", "/api/v1/registry/verify"): Op(
        _api("/api/v1/registry/verify"), EVERYONE, body=lambda w: {"payload": "GOV21:not-a-credential"}
    ),
    # A person's own data tracker: the portal session of someone with a UIN, never a staff member.
    ("GET", "/api/v1/exchange/usage"): Op(_api("/api/v1/exchange/usage"), CITIZENS),
}


# --- every operation of every exchange service, by the client subsystems allowed to call it ---------
EXCHANGE_CLIENTS: tuple[str, ...] = (
    "IDA/identity",
    "PORTAL/portal",
    "PORTAL/services",
    "MSD/benefits",
    "LTA/licensing",
    "STATS/statistics",
    "CRO/civil-registry",
    "BRA/business-register",
    "NDMO/disaster-response",
    # An agency that receives reported problems (its queue on the reporting desk).
    "PWD/works",
    "STATS/research",
)
# The group every subsystem of the demo directory belongs to (not one added later without rights).
ALL_AGENCIES: Roles = frozenset(EXCHANGE_CLIENTS) - {"STATS/research"}


@dataclass(frozen=True)
class XOp:
    """One exchange operation: the clients with the access right, a concrete path and body."""

    allowed: Roles
    path: Callable[[World], str]
    body: Callable[[World], dict[str, Any] | None] = field(default=lambda w: None)


def _p(template: str) -> Callable[[World], str]:
    return lambda w: template.format(
        uin=w.a.identifier,
        serial=w.a_document,
        certificate=w.certificate_serial,
        number=w.licence_number,
        birth=w.birth_number,
        event=w.birth_event,
    )


_DOCS = {
    "PORTAL/services/documents",
    "LTA/licensing/documents",
    "MSD/benefits/documents",
    "BRA/business-register/documents",
}

_PILLARS = ("citizen-centric", "seamless", "resilient", "open", "participatory", "secure", "inter-connected")

_PROBLEM_AGENCIES = frozenset({"PWD/works", "WSA/water", "SWA/waste"})
EXCHANGE: dict[tuple[str, str, str], XOp] = {
    # A national readiness assessment sent to the regional hub (here this instance's own).
    ("DGO/readiness/regional", "POST", "/submissions"): XOp(
        frozenset({"DGO/readiness"}),
        _p("/submissions"),
        body=lambda w: {"country_code": "BRB", "round": 2026, "agencies": 1, "levels": dict.fromkeys(_PILLARS, 2)},
    ),
    ("CRO/civil-registry/persons", "GET", "/{uin}"): XOp(
        frozenset({"IDA/identity", "PORTAL/portal", "PORTAL/services", "MSD/benefits", "LTA/licensing"}), _p("/{uin}")
    ),
    ("CRO/civil-registry/persons", "GET", "/{uin}/history"): XOp(frozenset({"PORTAL/portal"}), _p("/{uin}/history")),
    ("CRO/civil-registry/certificates", "POST", "/verify"): XOp(
        ALL_AGENCIES, _p("/verify"), body=lambda w: {"token": "not-a-credential"}
    ),
    ("CRO/civil-registry/residents", "GET", "/counts"): XOp(frozenset({"NDMO/disaster-response"}), _p("/counts")),
    # Named residents: the disaster management office only (without places nor purpose, a 422).
    ("CRO/civil-registry/residents", "GET", "/named"): XOp(frozenset({"NDMO/disaster-response"}), _p("/named")),
    # The record linkage's own index of the registry; no listed client may read it.
    ("CRO/civil-registry/versions", "GET", "/"): XOp(frozenset(), _p("/")),
    # Every agency may ask; the service answers only the agency that owns the source (403 otherwise).
    ("CRO/record-linkage/extracts", "GET", "/{source}"): XOp(ALL_AGENCIES, lambda w: f"/{w.linkage_source}"),
    ("CRO/civil-registry/numbers", "GET", "/population"): XOp(
        frozenset({"STATS/statistics", "DGO/readiness"}), _p("/population")
    ),
    # The readiness indicators: each agency's numbers, for the readiness office only.
    ("PORTAL/services/numbers", "GET", "/"): XOp(frozenset({"DGO/readiness"}), _p("/")),
    ("IDA/identity/numbers", "GET", "/"): XOp(frozenset({"DGO/readiness"}), _p("/")),
    ("EXCHANGE/data-embassy/drills", "GET", "/"): XOp(frozenset({"DGO/readiness"}), _p("/")),
    ("EXCHANGE/pubsub/directory", "GET", "/"): XOp(frozenset({"DGO/readiness"}), _p("/")),
    ("CRO/civil-registry/numbers", "GET", "/events"): XOp(frozenset({"STATS/statistics"}), _p("/events")),
    ("LRA/land-register/parcels", "GET", "/owners/{kind}/{identifier}"): XOp(
        frozenset({"PORTAL/portal", "PORTAL/services"}), lambda w: f"/owners/person/{w.a.identifier}"
    ),
    ("LRA/land-register/parcels", "GET", "/parcels/{number}/title"): XOp(
        ALL_AGENCIES | {"PORTAL/portal", "PORTAL/services"}, lambda w: f"/parcels/{w.a_parcel}/title"
    ),
    ("LRA/land-register/parcels", "GET", "/parcels/{number}/encumbrances"): XOp(
        ALL_AGENCIES | {"PORTAL/services"}, lambda w: f"/parcels/{w.a_parcel}/encumbrances"
    ),
    ("LRA/land-register/parcels", "POST", "/parcels/{number}/extracts"): XOp(
        frozenset({"PORTAL/services"}), lambda w: f"/parcels/{w.a_parcel}/extracts", body=lambda w: {}
    ),
    ("LRA/land-register/parcels", "POST", "/transfers"): XOp(
        frozenset({"PORTAL/services"}), lambda w: "/transfers", body=lambda w: {"parcel": w.a_parcel}
    ),
    # The reporting desk: each agency that receives reports works its own queue
    # (tests/concerns/test_services.py shows another agency's report answering 404).
    ("PORTAL/concerns/reports", "GET", "/queue"): XOp(_PROBLEM_AGENCIES, _p("/queue")),
    ("PORTAL/concerns/reports", "GET", "/reports/{report_id}/contact"): XOp(
        _PROBLEM_AGENCIES, _p("/reports/1/contact")
    ),
    ("PORTAL/concerns/reports", "POST", "/reports/{report_id}/actions"): XOp(
        _PROBLEM_AGENCIES, _p("/reports/1/actions"), body=lambda w: {"status": "closed"}
    ),
    ("PORTAL/concerns/reports", "POST", "/reports/{report_id}/reassign"): XOp(
        _PROBLEM_AGENCIES, _p("/reports/1/reassign"), body=lambda w: {"service_code": "drain"}
    ),
    ("PORTAL/concerns/reports", "POST", "/reports/{report_id}/merge"): XOp(
        _PROBLEM_AGENCIES, _p("/reports/1/merge"), body=lambda w: {"into": 2}
    ),
    ("LRA/land-register/events", "POST", "/"): XOp(
        frozenset({"CRO/civil-registry"}), _p("/"), body=lambda w: {"type": "death.registered"}
    ),
    ("CRO/civil-registry/declarations", "POST", "/{kind}"): XOp(
        frozenset({"PORTAL/services"}), _p("/address_change"), body=lambda w: {"uin": w.a.identifier}
    ),
    ("CRO/civil-registry/declarations", "GET", "/{id}"): XOp(frozenset({"PORTAL/services"}), _p("/{event}")),
    ("CRO/civil-registry/copies", "POST", "/"): XOp(
        frozenset({"PORTAL/services"}), _p("/"), body=lambda w: {"number": w.birth_number}
    ),
    ("CRO/civil-registry/copies", "GET", "/{serial}.pdf"): XOp(
        frozenset({"PORTAL/services"}), _p("/{certificate}.pdf")
    ),
    ("LTA/licensing/licences", "GET", "/holders/{uin}"): XOp(
        frozenset({"PORTAL/services", "PORTAL/portal"}), _p("/holders/{uin}")
    ),
    ("LTA/licensing/licences", "GET", "/{number}"): XOp(frozenset({"PORTAL/services"}), _p("/{number}")),
    ("MSD/benefits/awards", "GET", "/claimants/{uin}"): XOp(
        frozenset({"PORTAL/services", "PORTAL/portal"}), _p("/claimants/{uin}")
    ),
    ("BRA/business-register/businesses", "GET", "/"): XOp(ALL_AGENCIES, _p("/")),
    ("BRA/business-register/businesses", "GET", "/{number}"): XOp(ALL_AGENCIES, _p("/BN-0000001")),
    ("BRA/business-register/businesses", "GET", "/owners/{uin}"): XOp(ALL_AGENCIES, _p("/owners/{uin}")),
    # A partner's data embassy is granted to that partner's node only; no agency here has it.
    ("EXCHANGE/data-embassy/store", "PUT", "/objects/{key}"): XOp(NOBODY, _p("/objects/matrix-probe")),
    ("EXCHANGE/data-embassy/store", "GET", "/objects/{key}"): XOp(NOBODY, _p("/objects/matrix-probe")),
    ("EXCHANGE/data-embassy/store", "DELETE", "/objects/{key}"): XOp(NOBODY, _p("/objects/matrix-probe")),
    ("EXCHANGE/data-embassy/store", "GET", "/list/{prefix}"): XOp(NOBODY, _p("/list/manifests")),
    ("EXCHANGE/data-embassy/store", "GET", "/inventory"): XOp(NOBODY, _p("/inventory")),
    ("PORTAL/services/events", "POST", "/"): XOp(
        frozenset({"CRO/civil-registry", "LRA/land-register"}), _p("/"), body=lambda w: {}
    ),
    ("MSD/benefits/events", "POST", "/"): XOp(frozenset({"CRO/civil-registry"}), _p("/"), body=lambda w: {}),
    # The exchange's traffic counts: the statistics office alone.
    ("EXCHANGE/monitoring/traffic", "GET", "/"): XOp(frozenset({"STATS/statistics"}), _p("/")),
    # Pull subscribers read their own queue of events.
    ("EXCHANGE/pubsub/events", "GET", "/{event_type}"): XOp(frozenset({"STATS/statistics"}), _p("/birth.registered")),
    ("EXCHANGE/pubsub/events", "POST", "/{event_type}/ack"): XOp(
        frozenset({"STATS/statistics"}), _p("/birth.registered/ack"), body=lambda w: {"through": 0}
    ),
    **{(service, "GET", "/{serial}"): XOp(ALL_AGENCIES, _p("/{serial}")) for service in sorted(_DOCS)},
    **{(service, "GET", "/holders/{uin}"): XOp(ALL_AGENCIES, _p("/holders/{uin}")) for service in sorted(_DOCS)},
}
