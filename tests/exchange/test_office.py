"""The exchange's back-office pages: what an administrator sees and changes, and who is refused."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from django.test import Client

from gov21.exchange import node, pki
from gov21.exchange.contracts import exchange_call
from gov21.exchange.models import AccessRight, Node, PublishedConf, SigningCert
from gov21.exchange.office import key_fingerprint
from gov21.exchange.services import node_request
from tests.identity.flows import portal_sign_in, staff

pytestmark = pytest.mark.usefixtures("exchange")

PERSONS = "XA/GOV/CRO/civil-registry/persons"
STATS = "XA/GOV/STATS/statistics"


@pytest.fixture
def admin() -> Client:
    client = Client()
    portal_sign_in(client, staff("exchange.admin", "administrator"), next_url="/office/exchange/")
    return client


def _pem() -> str:
    return pki.public_key_pem(Ed25519PrivateKey.generate())


def test_an_administrator_sees_members_services_nodes_and_the_configuration(admin: Client) -> None:
    page = admin.get("/office/exchange/")

    assert page.status_code == 200
    html = page.content.decode()
    assert "XA/GOV/CRO" in html and "Civil Registration Office" in html and "civil-registry" in html
    assert "persons" in html and "certificates" in html
    serial = PublishedConf.objects.order_by("-serial").values_list("serial", flat=True).first()
    assert f'<dd id="conf-serial">{serial}</dd>' in html
    assert "<code>main</code>" in html and "approved" in html
    assert "None: this instance is not federated." in html


def test_a_right_granted_on_the_page_is_listed_and_lets_the_client_through(admin: Client) -> None:
    form = {"service": PERSONS, "subject": STATS, "method": "GET", "path": "/*"}

    response = admin.post("/office/exchange/rights", form)

    assert response.status_code == 302
    page = admin.get(response["Location"]).content.decode()
    assert f"{STATS} may now call GET /* on {PERSONS}." in page
    assert f"<code>{STATS}</code>" in page
    assert AccessRight.objects.get(subject=STATS, service__code="persons").granted_by == "exchange.admin"
    node.CONFS.clear()
    assert exchange_call(client=STATS, service=PERSONS, path="/0", issue="t").error == ""

    revoked = admin.post("/office/exchange/rights/revoke", form)
    assert revoked.status_code == 302
    assert not AccessRight.objects.filter(subject=STATS, service__code="persons").exists()
    node.CONFS.clear()
    assert exchange_call(client=STATS, service=PERSONS, path="/0", issue="t").error.endswith("AccessDenied")


@pytest.mark.parametrize(
    ("form", "status", "message"),
    [
        ({"service": "", "subject": STATS}, 422, "Choose a service"),
        ({"service": PERSONS, "subject": "statistics office"}, 422, "is not a client identifier"),
        ({"service": PERSONS, "subject": STATS, "method": "FETCH"}, 422, "Unknown HTTP method"),
        ({"service": PERSONS, "subject": STATS, "path": "persons"}, 422, "An endpoint path starts with /"),
        ({"service": "XA/GOV/CRO/civil-registry/nope", "subject": STATS}, 404, "No service"),
        ({"service": "nonsense", "subject": STATS}, 422, "is not a service identifier"),
        ({"service": PERSONS, "subject": STATS, "path": "/persons\x1b"}, 422, "characters we cannot accept"),
    ],
)
def test_bad_input_re_renders_the_form_with_the_reason(
    admin: Client, form: dict[str, str], status: int, message: str
) -> None:
    response = admin.post("/office/exchange/rights", form)

    assert response.status_code == status
    html = response.content.decode()
    assert message in html and 'name="subject"' in html
    assert f'value="{form["subject"]}"' in html  # what was typed is kept
    assert not AccessRight.objects.filter(subject=form["subject"], service__code="persons").exists()


def test_revoking_a_right_that_does_not_exist_says_so(admin: Client) -> None:
    response = admin.post("/office/exchange/rights/revoke", {"service": PERSONS, "subject": STATS})
    assert response.status_code == 404 and "No such access right" in response.content.decode()


def test_an_administrator_approves_a_pending_node_after_comparing_fingerprints(admin: Client) -> None:
    auth, signing = _pem(), _pem()
    node_request(
        code="north",
        owner="XA/GOV/MSD",
        address="https://north.example:5500",
        auth_public_key=auth,
        signing_keys={"XA/GOV/MSD": signing},
    )

    page = admin.get("/office/exchange/nodes").content.decode()
    assert "XA/north" in page
    assert f"sha256:{key_fingerprint(auth)}" in page and f"sha256:{key_fingerprint(signing)}" in page
    assert "1 node is waiting for approval." in admin.get("/office/exchange/").content.decode()

    response = admin.post("/office/exchange/nodes/north/approve")

    assert response.status_code == 302
    approved = Node.objects.get(code="north")
    assert (approved.status, approved.decided_by) == (Node.APPROVED, "exchange.admin")
    assert SigningCert.objects.get(node=approved).status == Node.APPROVED
    node.CONFS.clear()
    assert node.CONFS.own(origin="test").node("north") is not None
    again = admin.post("/office/exchange/nodes/north/approve")
    assert again.status_code == 404 and "No node north waiting for approval" in again.content.decode()


def test_a_node_with_an_unusable_key_is_not_approved(admin: Client) -> None:
    node_request(code="odd", owner="XA/GOV/MSD", address="", auth_public_key="not a key", signing_keys={})

    response = admin.post("/office/exchange/nodes/odd/approve")

    assert response.status_code == 422 and "cannot be used" in response.content.decode()
    assert Node.objects.get(code="odd").status == Node.PENDING
    assert admin.post("/office/exchange/nodes/odd/revoke").status_code == 302
    assert Node.objects.get(code="odd").status == Node.REVOKED


def test_staff_without_the_exchange_permission_are_refused(client: Client) -> None:
    portal_sign_in(client, staff("clerk.one", "clerk"), next_url="/office/exchange/")
    node_request(code="north", owner="XA/GOV/MSD", address="", auth_public_key=_pem(), signing_keys={})

    assert client.get("/office/exchange/").status_code == 403
    assert client.get("/office/exchange/rights").status_code == 403
    refused = client.post("/office/exchange/rights", {"service": PERSONS, "subject": STATS})
    assert refused.status_code == 403 and "does not allow" in refused.content.decode()
    assert client.post("/office/exchange/nodes/north/approve").status_code == 403
    assert not AccessRight.objects.filter(subject=STATS, service__code="persons").exists()
    assert Node.objects.get(code="north").status == Node.PENDING


def test_a_visitor_is_sent_to_sign_in() -> None:
    response = Client().get("/office/exchange/rights")
    assert response.status_code == 302 and "next=/office/exchange/rights" in response["Location"]
