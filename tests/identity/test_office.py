from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from joserfc.jwk import ECKey

from gov21.identity.models import Account, RelyingParty
from tests.identity.flows import OFFICER, PASSWORD, portal_sign_in, staff
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def test_an_officer_issues_a_code_that_the_person_activates_with(client: Client) -> None:
    portal_sign_in(client, staff("counter.one", "case_officer"), next_url="/office/identity/activation")
    person = register_person(OFFICER)
    unchecked = client.post("/office/identity/activation", {"uin": person.uin})
    assert unchecked.status_code == 422 and "Confirm that you checked" in unchecked.content.decode()
    page = client.post("/office/identity/activation", {"uin": person.uin, "checked": "yes"}).content.decode()
    match = re.search(r'id="activation-code">([A-Z0-9-]+)<', page)
    assert match
    wrong_digit = client.post(
        "/office/identity/activation", {"uin": person.uin[:-1] + str((int(person.uin[-1]) + 1) % 10), "checked": "yes"}
    )
    assert wrong_digit.status_code in (404, 422)

    citizen = Client()
    response = citizen.post(
        "/auth/activate",
        {"uin": person.uin, "code": match.group(1), "password": PASSWORD, "password_again": PASSWORD},
    )
    assert response.status_code == 302 and response["Location"] == "/auth/account?enrol=1"
    account = Account.objects.get(uin=person.uin)
    assert account.status == Account.Status.ACTIVE and account.proofed_in_person
    assert "Add a second way to prove it is you" in citizen.get("/auth/account?enrol=1").content.decode()


def test_a_person_who_activates_from_a_sign_in_goes_on_where_they_were_going() -> None:
    from gov21.identity.services import activation_code_issue

    person = register_person(OFFICER)
    code = activation_code_issue(uin=person.uin, officer=OFFICER)
    citizen = Client()
    going = "/oidc/authorize?client_id=gov21-portal&scope=openid"
    sign_in = citizen.get("/auth/sign-in", {"next": going}).content.decode()
    link = re.search(r'href="([^"]+)" id="activate"', sign_in)
    assert link, "the sign-in page offers no activation"
    activate = link.group(1).replace("&amp;", "&")
    assert activate.startswith("/auth/activate?next=")
    page = citizen.get(activate).content.decode()
    assert 'name="next" value="/oidc/authorize?client_id=gov21-portal&amp;scope=openid"' in page
    response = citizen.post(
        "/auth/activate",
        {"uin": person.uin, "code": code, "password": PASSWORD, "password_again": PASSWORD, "next": going},
    )
    assert response.status_code == 302
    assert (
        response["Location"]
        == "/auth/account?enrol=1&next=%2Foidc%2Fauthorize%3Fclient_id%3Dgov21-portal%26scope%3Dopenid"
    )
    # A way on elsewhere than the provider's own pages is not followed.
    elsewhere = Client().get("/auth/sign-in", {"next": "https://elsewhere.example/"}).content.decode()
    assert 'href="/auth/activate" id="activate"' in elsewhere
    assert 'href="/auth/activate" id="activate"' in Client().get("/auth/sign-in").content.decode()


def test_only_administrators_register_agency_systems(client: Client) -> None:
    portal_sign_in(client, staff("clerk.one", "clerk"), next_url="/office/identity/clients")
    assert client.get("/office/identity/clients").status_code == 403

    admin = Client()
    portal_sign_in(admin, staff("admin.one", "administrator"), next_url="/office/identity/clients")
    key = ECKey.generate_key("P-256", private=True)
    form = {
        "client_id": "fisheries",
        "name": "Fishing licences",
        "agency": "Ministry of Fisheries",
        "sector": "fisheries",
        "purpose": "Issue and renew fishing licences",
        "redirect_uris": "https://fish.example/cb",
        "scopes": ["openid", "profile"],
        "auth_method": "private_key_jwt",
        "jwks": json.dumps({"keys": [key.as_dict(private=False)]}),
    }
    bad = admin.post("/office/identity/clients", form | {"jwks": "{not json"})
    assert bad.status_code == 422 and "not valid JSON" in bad.content.decode()
    private = admin.post("/office/identity/clients", form | {"jwks": json.dumps({"keys": [key.as_dict(private=True)]})})
    assert private.status_code == 422 and "never a private key" in private.content.decode()
    ok = admin.post("/office/identity/clients", form)
    assert ok.status_code == 200 and "Registered" in ok.content.decode()
    assert RelyingParty.objects.get(client_id="fisheries").allowed_scopes == ["openid", "profile"]
