"""Setting up a node: the embedded node of the directory's own deployment (``bootstrap``), and a
node of another agency joining over HTTP (``join_request`` / ``join_complete``)."""

from __future__ import annotations

from typing import Any, Final

import httpx2 as httpx
from django.db import transaction
from django.utils.translation import gettext_noop

from gov21.core import config
from gov21.core.errors import DomainError
from gov21.exchange import directory, node, pki, pubsub
from gov21.exchange.ids import ClientId, ServiceId
from gov21.exchange.models import Node, Service, SigningCert, Subsystem
from gov21.exchange.router import routers
from gov21.exchange.selectors import member_get
from gov21.exchange.services import (
    group_set,
    member_add,
    node_address_set,
    node_approve,
    node_request,
    right_grant,
    service_add,
    subsystem_add,
)

# The demo nation's agencies and information systems (member code, name, subsystems). The names are
# stored in English, as every directory holds them, and shown in the reader's language (marked here).
DEMO_MEMBERS: Final = (
    ("EXCHANGE", gettext_noop("Government Data Exchange Authority"), ("pubsub", "data-embassy")),
    ("CRO", gettext_noop("Civil Registration Office"), ("civil-registry", "record-linkage")),
    ("IDA", gettext_noop("National Identity Agency"), ("identity",)),
    ("PORTAL", gettext_noop("Government Services Portal"), ("portal", "services", "concerns")),
    ("MSD", gettext_noop("Ministry of Social Development"), ("benefits",)),
    ("LTA", gettext_noop("Licensing and Transport Authority"), ("licensing",)),
    ("STATS", gettext_noop("Statistics Office"), ("statistics",)),
    ("BRA", gettext_noop("Business Registration Authority"), ("business-register",)),
    ("LRA", gettext_noop("Land Registry"), ("land-register",)),
    ("NDMO", gettext_noop("National Disaster Management Office"), ("disaster-response",)),
    # The data portal and the readiness assessment are kept by the office that leads digital government.
    ("DGO", gettext_noop("Office of Digital Government"), ("open-data", "readiness", "participation")),
    # Agencies that receive the problems citizens report (potholes, leaks, dumping, ...).
    ("PWD", gettext_noop("Ministry of Public Works"), ("works",)),
    ("WSA", gettext_noop("Water and Sewerage Authority"), ("water",)),
    ("SWA", gettext_noop("Solid Waste Authority"), ("waste",)),
)
# Who may read the civil registry through the exchange, and which endpoints.
DEMO_RIGHTS: Final = (
    ("CRO/civil-registry/persons", "IDA/identity", "GET", "/*"),
    ("CRO/civil-registry/persons", "PORTAL/portal", "GET", "/**"),
    ("CRO/civil-registry/persons", "PORTAL/services", "GET", "/*"),
    ("CRO/civil-registry/persons", "MSD/benefits", "GET", "/*"),
    ("CRO/civil-registry/persons", "LTA/licensing", "GET", "/*"),
    ("CRO/civil-registry/persons", "LRA/land-register", "GET", "/*"),
    # E-participation checks that a person may sign or vote (adult, alive, resident of the parish).
    ("CRO/civil-registry/persons", "DGO/participation", "GET", "/*"),
    ("CRO/civil-registry/certificates", "group:{instance}/all-agencies", "POST", "/verify"),
    # The record linkage keeps its index of the registry current, one page of versions at a time.
    ("CRO/civil-registry/versions", "CRO/record-linkage", "GET", "/"),
    # Each agency reads back its own sources with their UINs (the service checks whose source it is).
    ("CRO/record-linkage/extracts", "group:{instance}/all-agencies", "GET", "/*"),
    # After a disaster: how many people live in the places struck (numbers, nobody named).
    ("CRO/civil-registry/residents", "NDMO/disaster-response", "GET", "/counts"),
    # ... and, for a lawful purpose an officer states, who they are (each person named is told).
    ("CRO/civil-registry/residents", "NDMO/disaster-response", "GET", "/named"),
    # Official statistics: counts of residents and registered events, nobody named.
    ("CRO/civil-registry/numbers", "STATS/statistics", "GET", "/*"),
    # The service engine declares events and orders copies on the citizen's behalf.
    ("CRO/civil-registry/declarations", "PORTAL/services", "POST", "/*"),
    ("CRO/civil-registry/declarations", "PORTAL/services", "GET", "/*"),
    ("CRO/civil-registry/copies", "PORTAL/services", "POST", "/"),
    ("CRO/civil-registry/copies", "PORTAL/services", "GET", "/*"),
    ("LTA/licensing/licences", "PORTAL/services", "GET", "/**"),
    ("LTA/licensing/licences", "PORTAL/portal", "GET", "/holders/*"),
    ("MSD/benefits/awards", "PORTAL/services", "GET", "/**"),
    ("MSD/benefits/awards", "PORTAL/portal", "GET", "/claimants/*"),
    ("BRA/business-register/businesses", "group:{instance}/all-agencies", "GET", "/**"),
    ("PORTAL/services/documents", "group:{instance}/all-agencies", "GET", "/**"),
    ("LTA/licensing/documents", "group:{instance}/all-agencies", "GET", "/**"),
    ("MSD/benefits/documents", "group:{instance}/all-agencies", "GET", "/**"),
    ("BRA/business-register/documents", "group:{instance}/all-agencies", "GET", "/**"),
    # The registry delivers its events into the service engine's receiver.
    ("PORTAL/services/events", "CRO/civil-registry", "POST", "/"),
    # The land register: the citizen's own land for the portal, titles for the one-stop shop and
    # for agencies (a bank checking a mortgage goes through a ministry's system, never straight in).
    ("LRA/land-register/parcels", "PORTAL/portal", "GET", "/owners/person/*"),
    # "My property": the title of each parcel the owners' answer named (shares, encumbrances).
    ("LRA/land-register/parcels", "PORTAL/portal", "GET", "/parcels/*/title"),
    ("LRA/land-register/parcels", "PORTAL/services", "GET", "/**"),
    ("LRA/land-register/parcels", "group:{instance}/all-agencies", "GET", "/parcels/**"),
    ("LRA/land-register/parcels", "PORTAL/services", "POST", "/parcels/*/extracts"),
    ("LRA/land-register/events", "CRO/civil-registry", "POST", "/"),
    # The one-stop shop lodges a sale both parties agreed to; the register tells it of the decision.
    ("LRA/land-register/parcels", "PORTAL/services", "POST", "/transfers"),
    ("PORTAL/services/events", "LRA/land-register", "POST", "/"),
    # The nation's readiness assessment reaches the regional hub (here, its own; abroad, the
    # hub's operator grants the partner's DGO/readiness the same right).
    ("DGO/readiness/regional", "DGO/readiness", "POST", "/submissions"),
    # The readiness indicators, measured from the agencies' own numbers (nobody named).
    ("PORTAL/services/numbers", "DGO/readiness", "GET", "/"),
    ("IDA/identity/numbers", "DGO/readiness", "GET", "/"),
    ("EXCHANGE/data-embassy/drills", "DGO/readiness", "GET", "/"),
    ("EXCHANGE/pubsub/directory", "DGO/readiness", "GET", "/"),
    ("CRO/civil-registry/numbers", "DGO/readiness", "GET", "/population"),
    # The reporting desk: each agency that receives reported problems works its own queue.
    *(
        ("PORTAL/concerns/reports", agency, method, path)
        for agency in ("PWD/works", "WSA/water", "SWA/waste")
        for method, path in (("GET", "/**"), ("POST", "/reports/**"))
    ),
)


def _id(instance: str, tail: str) -> str:
    return f"{instance}/GOV/{tail}"


@transaction.atomic
def member_cert_ensure(*, member: str, node_code: str) -> None:
    """On the directory's own deployment: a signing certificate for ``member`` on a node whose keys
    live here, issued at once (the administrator and the node are the same operator)."""
    this = node.this_node()
    node_row = Node.objects.filter(instance=this.instance, code=node_code, status=Node.APPROVED).first()
    if node_row is None or node_code != this.code:
        return
    member_row = member_get(member)
    if SigningCert.objects.filter(member=member_row, node=node_row, status=Node.APPROVED).exists():
        return
    key = node.signing_key(ClientId.parse(member), this)
    ca = pki.CertificateAuthority(this.instance)
    cert_pem = ca.issue(
        public_key_pem=pki.public_key_pem(key), common_name=member, serial_number=node_code, usage="sign"
    )
    SigningCert.objects.create(
        member=member_row,
        node=node_row,
        public_key_pem=pki.public_key_pem(key),
        cert_pem=cert_pem,
        fingerprint=pki.fingerprint(cert_pem),
        status=Node.APPROVED,
    )
    directory.conf_publish()


@transaction.atomic
def local_node_ensure(*, owner: str, address: str = "") -> Node:
    """This deployment's own node, approved, with its authentication certificate."""
    this = node.this_node()
    existing = Node.objects.filter(instance=this.instance, code=this.code).exclude(status=Node.REVOKED).first()
    if existing is not None:
        if address and existing.address != address:
            return node_address_set(code=this.code, address=address)
        return existing
    node_request(
        code=this.code,
        owner=owner,
        address=address,
        auth_public_key=pki.public_key_pem(node.auth_key(this)),
        signing_keys={},
    )
    return node_approve(code=this.code, by="gov21 setup")


def bootstrap() -> None:
    """The demo nation's exchange: agencies, their information systems, the registry's services and
    who may call them, and this deployment's node hosting all of them. Safe to run again."""
    with transaction.atomic(), directory.publishing_deferred():
        _bootstrap()
    node.CONFS.clear()


def _bootstrap() -> None:
    instance = config.INSTANCE.read()
    for code, name, _ in DEMO_MEMBERS:
        member_add(ident=_id(instance, code), name=name)
    local_node_ensure(owner=_id(instance, "EXCHANGE"))
    this = node.this_node()
    for code, _, subsystems in DEMO_MEMBERS:
        member_cert_ensure(member=_id(instance, code), node_code=this.code)
        for sub in subsystems:
            subsystem_add(ident=_id(instance, f"{code}/{sub}"), node=this.code)
    _routes_publish(instance)
    all_agencies = [str(s) for s in Subsystem.objects.filter(member__instance=instance).select_related("member")]
    group_set(ident=f"group:{instance}/all-agencies", members=all_agencies, description="Every subsystem")
    for service, subject, method, path in DEMO_RIGHTS:
        right_grant(
            service=_id(instance, service),
            subject=subject.format(instance=instance) if subject.startswith("group:") else _id(instance, subject),
            method=method,
            path=path,
            by="gov21 setup",
        )
    pubsub.pubsub_bootstrap()
    from gov21.exchange.traffic import traffic_bootstrap

    traffic_bootstrap()
    node.CONFS.clear()


def _routes_publish(instance: str) -> None:
    """Publish every service the apps declare as routes, with the OpenAPI document generated from
    those routes. A service already in the directory keeps the address and title an administrator
    gave it; while the same routes answer it, its document is brought up to date with them."""
    for router in routers():
        for tail, title, api_title in router.publications:
            ident = f"{instance}/GOV/{tail}"
            document = router.openapi(title=api_title)
            sid = ServiceId.parse(ident)
            known = Service.objects.filter(
                subsystem__member__instance=sid.provider.instance,
                subsystem__member__member_class=sid.provider.member_class,
                subsystem__member__code=sid.provider.member_code,
                subsystem__code=sid.provider.subsystem,
                code=sid.code,
            ).first()
            if known is None:
                service_add(ident=ident, base_url=router.url, openapi=document, title=title)
            elif known.base_url == router.url and known.openapi != document:
                service_add(
                    ident=ident, base_url=known.base_url, openapi=document, title=known.title, timeout_s=known.timeout_s
                )


# --- a node of another deployment -----------------------------------------------------------------


def join_request(
    *, directory_url: str, anchor: dict[str, Any], code: str, owner: str, address: str, secret: str
) -> dict[str, Any]:
    """Create this node's keys and ask the directory to admit it, with the secret of the invitation
    its operator received (``gov21 exchange node invite``); an administrator approves there."""
    instance = str(anchor["instance"])
    if directory.anchor_fingerprint(anchor) != anchor.get("fingerprint"):
        raise DomainError("invalid_anchor", "The anchor's fingerprint does not match its content")
    node.node_file_write(instance=instance, code=code, directory=directory_url, anchor=anchor)
    this = node.this_node()
    owner_id = ClientId.parse(owner)
    body = {
        "code": code,
        "secret": secret,
        "owner": str(owner_id.member),
        "address": address,
        "auth_public_key": pki.public_key_pem(node.auth_key(this)),
        "signing_keys": {str(owner_id.member): pki.public_key_pem(node.signing_key(owner_id, this))},
    }
    response = httpx.post(f"{directory_url.rstrip('/')}/exchange/directory/join", json=body, timeout=10.0)
    if response.status_code >= 400:
        raise DomainError("join_refused", f"The directory refused: {response.text[:300]}")
    return dict(response.json())
