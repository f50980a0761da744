"""The buyer of land confirms the sale in the portal: the page shows what the seller asked and who
they are; only the person the application names may confirm it; a refused answer is said in words."""

from __future__ import annotations

from datetime import date

import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.principal import Principal
from gov21.onestop import definitions
from gov21.onestop import services as engine
from gov21.onestop.models import Application
from tests.identity.flows import citizen_of, portal_sign_in
from tests.land.helpers import first_register, owners, square
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db
CIVIL = Principal(name="registrar.one", kind="staff", roles=frozenset({"registrar"}))


@pytest.fixture(autouse=True)
def _services(exchange: None) -> None:
    definitions.definitions_load()


def _sale() -> tuple[Application, str, str]:
    seller = register_person(CIVIL, born=date(1970, 1, 1), given="Marisol")
    buyer = register_person(CIVIL, born=date(1980, 1, 1))
    parcel = first_register(square(60, 0), owners((seller, "1/1")))
    application = engine.application_start(service="land-sale", uin=seller.uin, user_id=None)
    application = engine.application_consent(application=application, uin=seller.uin)
    answers = {"buyer_uin": buyer.uin, "price": "180000", "sale_date": timezone.localdate().isoformat()}
    for question, value in answers.items():
        application = engine.application_answer(
            application=application, uin=seller.uin, question_id=question, raw=value
        )
    return engine.application_submit(application=application, uin=seller.uin), buyer.uin, parcel


def test_the_buyer_sees_the_sale_and_confirms_it(client: Client) -> None:
    application, buyer, parcel = _sale()
    url = f"/my/confirmations/{application.reference}"
    portal_sign_in(client, citizen_of(buyer), next_url=url)
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert parcel in html and "180000" in html and "Marisol" in html
    assert "I am buying this parcel at this price" in html
    refused = client.post(url, {"answer": "maybe"})
    assert refused.status_code == 422 and "Choose to confirm, or say it is not right." in refused.content.decode()
    done = client.post(url, {"answer": "confirm"})
    assert done.status_code == 302
    application.refresh_from_db()
    assert application.state == Application.State.AWAITING_PAYMENT
    after = client.get(url).content.decode()
    assert 'id="confirm"' not in after  # nothing left to confirm


def test_nobody_but_the_buyer_may_see_or_confirm_the_sale(client: Client) -> None:
    application, _buyer, _parcel = _sale()
    stranger = register_person(CIVIL, born=date(1990, 1, 1))
    url = f"/my/confirmations/{application.reference}"
    portal_sign_in(client, citizen_of(stranger.uin), next_url=url)
    assert client.get(url).status_code == 404
    assert client.post(url, {"answer": "confirm"}).status_code == 404
    application.refresh_from_db()
    assert application.state == Application.State.AWAITING_CONFIRMATION


def test_the_seller_picks_the_parcel_from_a_list_of_theirs(client: Client) -> None:
    seller = register_person(CIVIL, born=date(1970, 1, 1))
    first = first_register(square(64, 0), owners((seller, "1/1")))
    second = first_register(square(66, 0), owners((seller, "1/1")))
    application = engine.application_start(service="land-sale", uin=seller.uin, user_id=None)
    application = engine.application_consent(application=application, uin=seller.uin)
    url = f"/apply/{application.reference}/q/parcel"
    portal_sign_in(client, citizen_of(seller.uin), next_url=url)
    html = client.get(url).content.decode()
    assert html.count('type="radio"') == 2
    assert f'value="{first}"' in html and f'value="{second}"' in html and " m²" in html
    refused = client.post(url, {"parcel": "XA-01-999999"})
    assert refused.status_code == 400 and "Choose one of the options." in refused.content.decode()
    assert client.post(url, {"parcel": second}).status_code == 302
    application.refresh_from_db()
    assert application.answers["parcel"] == second
