"""One small nation for the security tests, built once per module through the real services and the
real sign-in: two citizens with applications, documents and an offer, staff in each role, API tokens
made by ``gov21 token create``, and the exchange's demo directory plus one subsystem with no rights.

Every request in these tests names real things of citizen A (her UIN, her application, her document
serial, her offer), so a refusal that leaks shows her name or UIN in the body."""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.core.management import call_command
from django.db import transaction
from django.db.models import Count, Max
from django.test import Client
from django.utils import timezone

from gov21.core import config
from gov21.core.principal import Principal
from gov21.exchange.pubsub import deliveries_run
from gov21.identity.models import Account
from gov21.identity.services import staff_create
from gov21.onestop import definitions, registers
from gov21.onestop.models import Application, Document, Offer
from gov21.registry import services as registry
from gov21.registry.models import Certificate, LifeEvent
from tests.identity.flows import PASSWORD, Person, citizen, portal_sign_in, with_totp

REGISTRAR = Principal(name="registrar.world", kind="staff", roles=frozenset({"registrar"}))

# Staff roles as they are granted: (role, agency). Case officers and supervisors work in the
# licensing agency, whose cases the world holds; the civil registry's roles in the registry.
STAFF_ROLES: tuple[tuple[str, str], ...] = (
    ("registrar", "civil-registry"),
    ("clerk", "civil-registry"),
    ("administrator", "civil-registry"),
    ("case_officer", "licensing"),
    ("supervisor", "licensing"),
)
TOKEN_ROLES: tuple[str, ...] = ("reader", "registrar")
# Every caller of the platform's pages and API.
ROLES: tuple[str, ...] = (
    "anonymous",
    "citizen",
    "other_citizen",
    *(role for role, _ in STAFF_ROLES),
    *(f"token_{role}" for role in TOKEN_ROLES),
)
# A subsystem of a real member that was given no access right at all.
NO_RIGHTS_CLIENT = "STATS/research"


@dataclass
class World:
    a: Person
    b: Person
    a_given: str
    a_family: str
    a_application: str
    b_application: str
    a_document: str
    a_certificate_document: str
    b_document: str
    a_offer: int
    b_offer: int | None
    birth_event: int
    birth_number: str
    certificate_serial: str
    licence_number: str
    node_code: str
    instance: str
    cookies: dict[str, dict[str, str]] = field(default_factory=dict)
    tokens: dict[str, str] = field(default_factory=dict)
    # A public asset and a disaster declared over it (the asset register holds no personal data).
    asset_code: str = ""
    disaster_event: int = 0
    # A parcel the land register records as A's alone.
    a_parcel: str = ""
    # The transaction that first registered it.
    a_land_transaction: str = ""
    # An agency's source in the record linkage, with a record of A.
    linkage_source: str = ""
    a_linkage_record: int = 0

    def client(self, role: str, *, enforce_csrf_checks: bool = False) -> Client:
        """A fresh client holding the role's session (a copy: what one test does to its cookies, such
        as signing out, stays in that test)."""
        client = Client(enforce_csrf_checks=enforce_csrf_checks)
        for name, value in self.cookies.get(role, {}).items():
            client.cookies[name] = value
        return client

    def headers(self, role: str) -> dict[str, str]:
        token = self.tokens.get(role)
        return {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}

    def secrets_of_a(self) -> tuple[str, ...]:
        """What must never appear in an answer refused to anyone but A: her UIN and her name."""
        return (self.a.identifier, self.a_given, self.a_family)


def _reference(location: str) -> str:
    return location.split("/apply/")[1].split("/")[0]


def _start(client: Client, code: str) -> str:
    response = client.post(f"/services/{code}/start")
    assert response.status_code == 302, response
    reference = _reference(response["Location"])
    response = client.post(f"/apply/{reference}/consent", {"agree": "yes"})
    assert response.status_code == 302, response.content.decode()[-800:]
    return reference


def _answer(client: Client, reference: str, answers: dict[str, str | dict[str, str]]) -> None:
    for qid, value in answers.items():
        data = {f"{qid}-{k}": v for k, v in value.items()} if isinstance(value, dict) else {qid: value}
        response = client.post(f"/apply/{reference}/q/{qid}", data)
        assert response.status_code == 302, response.content.decode()[-1500:]


def _renew_licence(client: Client, person: Person) -> tuple[str, str, str]:
    """A licence renewal, decided automatically: (application reference, document serial, licence)."""
    licence = registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    reference = _start(client, "renew-driving-licence")
    _answer(client, reference, {"licence_number": licence.number, "health": "no"})
    response = client.post(f"/apply/{reference}/check")
    assert response.status_code == 302, response.content.decode()[-800:]
    page = client.get(f"/my/applications/{reference}").content.decode()
    serial = re.search(r'href="/my/documents/([A-Z0-9-]+)"', page)
    assert serial, page[-1500:]
    return reference, serial.group(1), licence.number


def _declare_birth(client: Client, mother: Person) -> int:
    reference = _start(client, "declare-birth")
    born = timezone.localdate() - timedelta(days=2)
    _answer(
        client,
        reference,
        {
            "given_names": "Lea",
            "family_name": "Quintyne",
            "sex": "F",
            "birth_date": {"day": str(born.day), "month": str(born.month), "year": str(born.year)},
            "birth_parish": "XA-04",
            "birth_settlement": "",
            "parent_role": "mother",
            "other_parent_uin": "",
            "email": "",
        },
    )
    client.post(f"/apply/{reference}/check")
    application = Application.objects.get(reference=reference)
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    registry.event_register(event_id=event.pk, actor=REGISTRAR)
    deliveries_run()
    return event.pk


def _cookies(client: Client) -> dict[str, str]:
    return {name: morsel.value for name, morsel in client.cookies.items()}


def data_state() -> tuple[Any, ...]:
    """What a refused write must leave as it was."""
    from gov21.exchange.models import AccessRight, Node
    from gov21.identity.models import ActivationCode, RelyingParty
    from gov21.land.models import Extract
    from gov21.onestop.models import (
        Application,
        Feedback,
        Offer,
        ReviewDecision,
        ReviewRequest,
        ServiceDefinition,
        Transition,
    )
    from gov21.registry.models import Certificate, EventTransition, LifeEvent, PersonVersion

    return (
        LifeEvent.objects.aggregate(n=Count("id"), m=Max("id")),
        EventTransition.objects.count(),
        PersonVersion.objects.count(),
        list(Certificate.objects.values_list("serial", "status").order_by("serial")),
        Application.objects.count(),
        Transition.objects.count(),
        list(Offer.objects.values_list("pk", "state").order_by("pk")),
        ActivationCode.objects.count(),
        RelyingParty.objects.count(),
        AccessRight.objects.count(),
        list(Node.objects.values_list("code", "status").order_by("code")),
        ServiceDefinition.objects.count(),
        Feedback.objects.filter(application_ref__gt="").count(),
        ReviewRequest.objects.count(),
        ReviewDecision.objects.count(),
        Extract.objects.count(),
    )


def _asset_and_disaster() -> tuple[str, int]:
    import json

    from gov21.assets import services as assets
    from gov21.assets.records import AssetFacts, EventFacts
    from gov21.core.principal import Principal

    officer = Principal(name="ndmo.world", kind="staff", roles=frozenset({"supervisor"}))
    facts = {
        "code": "SCH-WORLD", "name": "World school", "kind": "school", "agency": "MOE", "condition": "good",
        "replacement_value_cents": 100_000, "currency": "XCD", "criticality": "high",
        "geometry": {"type": "Point", "coordinates": [-63.12, 14.23]},
    }  # fmt: skip
    school = assets.asset_add(facts=AssetFacts.model_validate(facts), actor=officer)
    area = {"type": "Polygon", "coordinates": [[[-63.14, 14.22], [-63.1, 14.22], [-63.1, 14.245], [-63.14, 14.22]]]}
    event = assets.disaster_declare(
        facts=EventFacts(name="World flood", kind="flood", occurred_on=date(2026, 9, 1)),
        area=assets.area_parse(json.dumps(area)),
        actor=officer,
    )
    return school.code, event.pk


def _parcel_of(uin: str) -> str:
    from gov21.land.records import OwnerShare, PartyRef
    from tests.land.helpers import first_register, square

    return first_register(square(80, 0), [OwnerShare(party=PartyRef(kind="person", identifier=uin))])


def _opened_by(number: str) -> str:
    from gov21.land.models import Parcel

    return Parcel.objects.select_related("opened_by").get(number=number, valid_to__isnull=True).opened_by.number


def _linkage_source_of(uin: str, *, source: str = "world-clinic", agency: str = "MSD") -> tuple[str, int]:
    """A clinic's list holding a record of the person ``uin``, imported into the record linkage."""
    import tempfile
    from pathlib import Path

    from gov21.linkage.models import Record
    from gov21.linkage.services import records_import
    from gov21.registry.models import Person as RegistryPerson

    person = RegistryPerson.objects.get(uin=uin)
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "clinic.csv"
        path.write_text(
            f"record_id,given_names,surname,date_of_birth\nW-1,{person.given_names},{person.family_name},"
            f"{person.birth_date.isoformat()}\n",
            encoding="utf-8",
        )
        records_import(source=source, agency=agency, path=path)
    return source, Record.objects.get(source__code=source, record_id="W-1").pk


def world_build() -> World:
    from gov21.exchange import node, setup
    from gov21.exchange.services import subsystem_add

    setup.bootstrap()
    definitions.definitions_load()
    instance = config.INSTANCE.read()
    subsystem_add(ident=f"{instance}/GOV/{NO_RIGHTS_CLIENT}", node=node.this_node().code)
    node.CONFS.clear()

    a = citizen(given="Marisol", family="Quintyne", born=date(1994, 2, 2))
    b = citizen(given="Desmond", family="Alleyne", born=date(1988, 9, 14), sex="M")
    client_a, client_b = Client(), Client()
    portal_sign_in(client_a, a)
    portal_sign_in(client_b, b)
    a_application, a_document, licence_number = _renew_licence(client_a, a)
    b_application, b_document, _ = _renew_licence(client_b, b)
    birth_event = _declare_birth(client_a, a)
    event = LifeEvent.objects.get(pk=birth_event)
    certificate = Certificate.objects.filter(event=event).order_by("pk").first()
    assert certificate is not None, "the registered birth has no certificate"
    a_certificate_document = Document.objects.filter(holder_uin=a.identifier, serial=certificate.serial).first()
    offer = Offer.objects.filter(uin=a.identifier).order_by("pk").first()
    assert offer is not None, "the registered birth made no offer to the mother"
    world = World(
        a=a,
        b=b,
        a_given="Marisol",
        a_family="Quintyne",
        a_application=a_application,
        b_application=b_application,
        a_document=a_document,
        a_certificate_document=(a_certificate_document.serial if a_certificate_document else certificate.serial),
        b_document=b_document,
        a_offer=offer.pk,
        b_offer=None,
        birth_event=birth_event,
        birth_number=str(event.number),
        certificate_serial=certificate.serial,
        licence_number=licence_number,
        node_code=node.this_node().code,
        instance=instance,
    )
    world.asset_code, world.disaster_event = _asset_and_disaster()
    world.a_parcel = _parcel_of(a.identifier)
    world.a_land_transaction = _opened_by(world.a_parcel)
    world.linkage_source, world.a_linkage_record = _linkage_source_of(a.identifier)
    world.cookies["citizen"] = _cookies(client_a)
    world.cookies["other_citizen"] = _cookies(client_b)
    for role, agency in STAFF_ROLES:
        user = staff_create(username=f"{role.replace('_', '.')}.world", password=PASSWORD, roles=[role], agency=agency)
        person = with_totp(Person(user.get_username(), PASSWORD, "", Account.objects.get(user_id=user.pk)))
        client = Client()
        portal_sign_in(client, person, next_url="/office/")
        world.cookies[role] = _cookies(client)
    for role in TOKEN_ROLES:
        out = io.StringIO()
        call_command("token", "create", "--role", role, "--name", f"world-{role}", stdout=out, stderr=io.StringIO())
        world.tokens[f"token_{role}"] = out.getvalue().strip()
    return world


def world_fixture(django_db_setup: Any, django_db_blocker: Any) -> Iterator[World]:
    """The body of a module-scoped fixture: the world lives in one transaction that is rolled back
    when the module is done; each test runs in a savepoint inside it."""
    from gov21.exchange import node, provider
    from gov21.onestop.documents import services_keys
    from gov21.registry.keys import registry_keys

    with django_db_blocker.unblock():
        node._node_cache.clear()
        node.CONFS.clear()
        provider._address_cache.clear()
        with transaction.atomic():
            world = world_build()
            yield world
            transaction.set_rollback(True)
        node._node_cache.clear()
        node.CONFS.clear()
        provider._address_cache.clear()
        registry_keys.cache_clear()
        services_keys.cache_clear()
