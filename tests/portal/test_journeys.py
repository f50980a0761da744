"""Citizen journeys through the portal's pages, as a browser without JavaScript makes them: every
step a form that posts and redirects."""

from __future__ import annotations

import re
from datetime import date, timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.principal import Principal
from gov21.exchange.pubsub import deliveries_run
from gov21.onestop import definitions, registers
from gov21.onestop.models import Application, Feedback, Offer
from gov21.registry import services as registry
from gov21.registry.models import LifeEvent, Person
from tests.identity.flows import citizen, portal_sign_in

pytestmark = pytest.mark.django_db
REGISTRAR = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))


@pytest.fixture(autouse=True)
def _services() -> None:
    definitions.definitions_load()


def _reference(response) -> str:  # type: ignore[no-untyped-def]
    return str(response["Location"]).split("/apply/")[1].split("/")[0]


def _answer(client: Client, reference: str, answers: dict[str, str | dict[str, str]]) -> None:
    for qid, value in answers.items():
        data = {f"{qid}-{k}": v for k, v in value.items()} if isinstance(value, dict) else {qid: value}
        response = client.post(f"/apply/{reference}/q/{qid}", data)
        assert response.status_code == 302, response.content.decode()[-1500:]


def _start(client: Client, code: str) -> str:
    response = client.post(f"/services/{code}/start")
    assert response.status_code == 302
    reference = _reference(response)
    consent = client.get(f"/apply/{reference}/consent")
    assert (consent.status_code == 200 and "Civil registry" in consent.content.decode()) or "civil registry" in (
        consent.content.decode()
    )
    response = client.post(f"/apply/{reference}/consent", {"agree": "yes"})
    assert response.status_code == 302 and response["Location"] == f"/apply/{reference}"
    return reference


def _day(d: date) -> dict[str, str]:
    return {"day": str(d.day), "month": str(d.month), "year": str(d.year)}


def test_the_catalogue_is_browsed_by_life_event_and_searched(client: Client) -> None:
    home = client.get("/").content.decode()
    assert 'href="/life/driving"' in home and "Renew a driving licence" in home
    driving = client.get("/life/driving").content.decode()
    assert "Renew a driving licence" in driving and "Declare a birth" not in driving
    found = client.get("/services", {"q": "licence"}).content.decode()
    assert "Renew a driving licence" in found
    assert "No service matches" in client.get("/services", {"q": "zzzz"}).content.decode()
    assert client.get("/life/not-a-life-event").status_code == 404
    start = client.get("/services/renew-driving-licence").content.decode()
    assert "Start now" in start and "Before you start" in start


def test_a_driver_renews_a_licence_and_the_decision_is_automatic(client: Client) -> None:
    person = citizen(born=date(1985, 6, 1))
    licence = registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    portal_sign_in(client, person)

    reference = _start(client, "renew-driving-licence")
    response = client.post(f"/apply/{reference}/q/licence_number", {"licence_number": "not a number"})
    page = response.content.decode()
    assert response.status_code == 400 and "There is a problem" in page and 'href="#licence_number"' in page
    garbled = client.post(f"/apply/{reference}/q/licence_number", {"licence_number": licence.number + "\x1b"})
    assert garbled.status_code == 400 and "characters we cannot accept" in garbled.content.decode()
    _answer(client, reference, {"licence_number": licence.number, "health": "no"})
    check = client.get(f"/apply/{reference}/check").content.decode()
    assert "Verified" in check and licence.number in check
    response = client.post(f"/apply/{reference}/check")
    assert response["Location"] == f"/my/applications/{reference}"

    page = client.get(f"/my/applications/{reference}").content.decode()
    assert "Automatically, because every check passed" in page and reference in page
    document = re.search(r'href="/my/documents/([A-Z0-9-]+)"', page)
    assert document, page
    shown = client.get(f"/my/documents/{document.group(1)}").content.decode()
    payload = re.search(r'<textarea id="payload" rows="4" readonly>([^<]+)</textarea>', shown)
    assert payload
    verified = client.post("/verify", {"payload": payload.group(1)}).content.decode()
    assert "genuine and valid" in verified
    pdf = client.get(f"/my/documents/{document.group(1)}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    profile = client.get("/my/profile").content.decode()
    assert licence.number in profile and "Licensing and Transport Authority" in profile
    uses = client.get("/my/data-uses").content.decode()
    assert reference in uses
    client.post(f"/my/applications/{reference}", {"action": "feedback", "rating": "5", "comment": "Quick"})
    assert Feedback.objects.get(application_ref=reference).rating == 5


def test_a_parent_declares_a_birth_and_later_downloads_the_certificate(client: Client) -> None:
    mother = citizen(born=date(1994, 2, 2))
    portal_sign_in(client, mother)
    reference = _start(client, "declare-birth")
    born = timezone.localdate() - timedelta(days=2)
    _answer(
        client,
        reference,
        {
            "given_names": "Lea",
            "family_name": "Charles",
            "sex": "F",
            "birth_date": _day(born),
            "birth_parish": "XA-04",
            "birth_settlement": "",
            "parent_role": "mother",
            "other_parent_uin": "",
            "email": "",
        },
    )
    client.post(f"/apply/{reference}/check")
    application = Application.objects.get(reference=reference)
    assert application.state == "approved"
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    registry.event_validate(event_id=event.pk, actor=REGISTRAR)
    registry.event_register(event_id=event.pk, actor=REGISTRAR)
    deliveries_run()

    documents = client.get("/my/documents").content.decode()
    serial = re.search(r'href="/my/documents/([A-Z0-9-]+)"', documents)
    assert serial, documents
    pdf = client.get(f"/my/documents/{serial.group(1)}/pdf")
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF")
    inbox = client.get("/my/inbox").content.decode()
    assert "Child benefit" in inbox and "Lea Charles" in inbox

    offer = Offer.objects.get(uin=mother.identifier)
    response = client.post(f"/my/offers/{offer.pk}", {"answer": "accept"})
    claim = Application.objects.get(reference=response["Location"].rsplit("/", 1)[1])
    assert claim.state == "completed" and claim.service.code == "child-benefit"


def test_a_fee_is_paid_online_at_the_provider_before_the_checks(
    client: Client,
    pay_provider,
    monkeypatch: pytest.MonkeyPatch,  # type: ignore[no-untyped-def]
) -> None:
    import httpx2

    monkeypatch.setenv("GOV21_PAY_URL", pay_provider.url)
    monkeypatch.setenv("GOV21_PAY_KEY", pay_provider.key)
    owner = citizen(born=date(1980, 1, 1))
    portal_sign_in(client, owner)
    reference = _start(client, "register-business-name")
    _answer(client, reference, {"business_name": "Windward Kayaks", "activity": "Kayak hire", "address": "Beach"})
    response = client.post(f"/apply/{reference}/check")
    assert response["Location"] == f"/apply/{reference}/pay"
    response = client.post(f"/apply/{reference}/pay", {"method": "online"})
    hosted = response["Location"]
    assert hosted.startswith(pay_provider.url)
    paid = httpx2.post(hosted, data={"action": "pay"}, follow_redirects=False)
    assert paid.status_code == 303
    back = paid.headers["location"].replace("http://testserver", "")
    response = client.get(back)
    assert response["Location"] == f"/my/applications/{reference}"
    application = Application.objects.get(reference=reference)
    assert application.state == "completed", list(application.transitions.values_list("note", flat=True))


def test_someone_elses_application_is_not_found(client: Client) -> None:
    a, b = citizen(), citizen()
    portal_sign_in(client, a)
    reference = _start(client, "change-of-address")
    other = Client()
    portal_sign_in(other, b)
    assert other.get(f"/apply/{reference}").status_code == 404
    assert other.get(f"/my/applications/{reference}").status_code == 404
    assert Person.objects.filter(uin=b.identifier).exists()


def test_a_signed_out_visitor_is_sent_to_sign_in(client: Client) -> None:
    response = client.post("/services/renew-driving-licence/start")
    assert response.status_code == 302 and response["Location"].startswith("/sign-in")
    assert client.get("/my/profile")["Location"].startswith("/sign-in")


def _move_through_the_portal(client: Client, parish: str, line: str) -> Application:
    reference = _start(client, "change-of-address")
    _answer(
        client,
        reference,
        {"parish": parish, "settlement": "", "line": line, "moved_on": _day(timezone.localdate()), "email": ""},
    )
    response = client.post(f"/apply/{reference}/check")
    assert response.status_code == 302, response.content.decode()[-1500:]
    return Application.objects.get(reference=reference)


def test_a_citizen_who_moved_is_registered_at_once_on_their_own_sign_in(client: Client) -> None:
    mover = citizen()
    portal_sign_in(client, mover)

    application = _move_through_the_portal(client, "XA-06", "3 Orchid Row")

    assert application.state == "completed", list(application.transitions.values_list("note", flat=True))
    person = Person.objects.get(uin=mover.identifier)
    assert (person.address_parish, person.address_line) == ("XA-06", "3 Orchid Row")
    event = LifeEvent.objects.get(pk=int(application.external_ref))
    assert event.declarant_uin == mover.identifier and event.state == "registered"


def test_an_access_token_that_has_ended_is_refreshed_before_the_citizen_acts(client: Client) -> None:
    import httpx2

    from gov21.identity.contracts import PORTAL_SESSION_KEY
    from gov21.portal import rp
    from tests.identity.flows import _InProcessProvider

    mover = citizen()
    portal_sign_in(client, mover)
    session = client.session
    first = dict(session[PORTAL_SESSION_KEY]["tokens"])
    session[PORTAL_SESSION_KEY]["tokens"]["expires_at"] = 0.0  # ended: the provider must renew it
    session.save()

    rp.TRANSPORT = httpx2.WSGITransport(app=_InProcessProvider())
    try:
        application = _move_through_the_portal(client, "XA-07", "5 Fig Tree Lane")
    finally:
        rp.TRANSPORT = None

    assert application.state == "completed", list(application.transitions.values_list("note", flat=True))
    kept = client.session[PORTAL_SESSION_KEY]["tokens"]
    assert kept["access_token"] != first["access_token"] and kept["expires_at"] > first["expires_at"] - 1


def test_a_move_sent_after_the_sign_in_was_revoked_waits_for_a_registrar_without_an_error(client: Client) -> None:
    import httpx2

    from gov21.identity.contracts import PORTAL_SESSION_KEY
    from gov21.identity.models import OAuthToken
    from gov21.portal import rp
    from tests.identity.flows import _InProcessProvider

    mover = citizen()
    portal_sign_in(client, mover)
    before = Person.objects.get(uin=mover.identifier).address_line
    session = client.session
    session[PORTAL_SESSION_KEY]["tokens"]["expires_at"] = 0.0
    session.save()
    OAuthToken.objects.filter(account=mover.account).update(revoked_at=timezone.now())

    rp.TRANSPORT = httpx2.WSGITransport(app=_InProcessProvider())
    try:
        application = _move_through_the_portal(client, "XA-09", "8 Pier Street")
    finally:
        rp.TRANSPORT = None

    # Without the person's live sign-in the move is declared, and waits for a registrar.
    assert application.state == "approved", list(application.transitions.values_list("note", flat=True))
    assert LifeEvent.objects.get(pk=int(application.external_ref)).state == "declared"
    assert Person.objects.get(uin=mover.identifier).address_line == before
    assert client.session[PORTAL_SESSION_KEY]["tokens"] == {}
