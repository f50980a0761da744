"""Every decision tells the citizen its reasons and what they can do next, in their language, and
pages promise only what the platform offers."""

from __future__ import annotations

import re
from datetime import date

import pytest
from django.test import Client

from gov21.core.principal import Principal
from gov21.onestop import definitions, events, registers
from gov21.onestop import services as engine
from gov21.onestop.models import Application, Notification
from tests.identity.flows import citizen, portal_sign_in

pytestmark = pytest.mark.django_db
S = Application.State


@pytest.fixture(autouse=True)
def _services() -> None:
    definitions.definitions_load()


def _reference(response) -> str:  # type: ignore[no-untyped-def]
    return str(response["Location"]).split("/apply/")[1].split("/")[0]


def _start(client: Client, code: str) -> str:
    reference = _reference(client.post(f"/services/{code}/start"))
    assert client.post(f"/apply/{reference}/consent", {"agree": "yes"}).status_code == 302
    return reference


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_renewal_uses_the_licence_the_register_holds_and_refuses_someone_elses(client: Client) -> None:
    person = citizen(born=date(1985, 6, 1))
    licence = registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    other = registers.licence_issue(uin=citizen(born=date(1980, 1, 1)).identifier, issued_on=date(2017, 1, 1))
    portal_sign_in(client, person)
    start = _text(client.get("/services/renew-driving-licence").content.decode())
    assert "you do not need to type your licence number" in start

    reference = _start(client, "renew-driving-licence")

    # The number the register answered is already there: nothing to type again.
    page = client.get(f"/apply/{reference}/q/licence_number").content.decode()
    assert f'value="{licence.number}"' in page
    for number in ("DL-9999999", other.number):
        refused = client.post(f"/apply/{reference}/q/licence_number", {"licence_number": number})
        said = _text(refused.content.decode())
        assert refused.status_code == 400, number
        assert "That number is not a driving licence in your name in the licensing register." in said
    assert Application.objects.get(reference=reference).answers["licence_number"] == licence.number
    # The registers read for the application name it as their purpose, in words.
    uses = _text(re.sub(r"<details>.*?</details>", " ", client.get("/my/data-uses").content.decode(), flags=re.S))
    assert f"Your application: Renew a driving licence ({reference})" in uses


def test_a_renewal_sent_to_an_officer_tells_the_driver_why_and_what_happens_next(client: Client) -> None:
    person = citizen(born=date(1940, 3, 1))  # 75 or over: an officer renews
    registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    portal_sign_in(client, person)
    reference = _start(client, "renew-driving-licence")
    assert client.post(f"/apply/{reference}/q/health", {"health": "no"}).status_code == 302
    assert client.post(f"/apply/{reference}/check").status_code == 302

    said = _text(client.get(f"/my/applications/{reference}").content.decode())

    assert Application.objects.get(reference=reference).state == S.IN_REVIEW
    assert "Why an officer is looking at your application" in said
    assert "Drivers under 17 or aged 75 and over renew with an officer" in said
    assert "An officer will decide by" in said and "visit a government office with your reference" in said

    client.cookies["django_language"] = "fr"
    en_francais = _text(client.get(f"/my/applications/{reference}", HTTP_ACCEPT_LANGUAGE="fr").content.decode())
    assert "Pourquoi un agent examine votre demande" in en_francais
    assert "renouvellent auprès d" in en_francais


def test_a_withdrawn_application_says_withdrawn_and_promises_no_decision(client: Client) -> None:
    person = citizen(born=date(1985, 6, 1))
    registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    portal_sign_in(client, person)
    reference = _start(client, "renew-driving-licence")
    assert client.post(f"/my/applications/{reference}", {"action": "withdraw", "confirm": "yes"}).status_code == 302

    said = _text(client.get(f"/my/applications/{reference}").content.decode())

    assert "Application withdrawn" in said and "Withdrawn on" in said
    assert "Application sent" not in said and "Decision due by" not in said
    assert "no decision will be made" in said and "Apply again" in said


def test_a_refusal_says_why_and_what_the_citizen_can_do(client: Client) -> None:
    person = citizen(born=date(1940, 3, 1))
    registers.licence_issue(uin=person.identifier, issued_on=date(2016, 6, 1))
    portal_sign_in(client, person)
    reference = _start(client, "renew-driving-licence")
    client.post(f"/apply/{reference}/q/health", {"health": "no"})
    client.post(f"/apply/{reference}/check")
    officer = Principal(
        name="officer.lta",
        kind="staff",
        roles=frozenset({"case_officer"}),
        agencies=frozenset({"licensing"}),
        grants=frozenset({("case_officer", "licensing")}),
    )
    engine.case_decide(principal=officer, reference=reference, approve=False, reason="No medical report was sent.")

    said = _text(client.get(f"/my/applications/{reference}").content.decode())

    assert "Application refused" in said and "No medical report was sent." in said
    assert "What you can do now" in said and "you can ask for a review until" in said
    assert f'href="/my/applications/{reference}/review"' in client.get(f"/my/applications/{reference}").content.decode()
    # The renewed licence's next steps belong to an approval, not to a refusal.
    assert "Your renewed licence is in your documents" not in said


def test_the_certified_copy_start_page_promises_only_the_ways_of_paying_offered(client: Client) -> None:
    said = _text(client.get("/services/certificate-copy").content.decode())

    assert "Pay at a government office within 14 days of applying. Online payment is not available." in said
    assert "online" not in said.replace("Online payment is not available", "")


def test_the_certified_copy_start_page_offers_online_payment_when_a_provider_is_set_up(
    client: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GOV21_PAY_URL", "https://pay.example.test/api")

    said = _text(client.get("/services/certificate-copy").content.decode())

    assert "Pay online by card after you apply, or at a government office within 14 days." in said


def test_the_address_changed_notice_is_in_the_language_the_person_applied_in() -> None:
    person = citizen(born=date(1985, 6, 1))
    application = engine.application_start(
        service="change-of-address", uin=person.identifier, user_id=None, language="es"
    )
    application.external_ref = "77"
    application.state = S.APPROVED
    application.save()

    events.on_address({"uin": person.identifier, "number": "A-2026-000009", "declaration": 77}, 1)

    notice = Notification.objects.filter(uin=person.identifier, template="registry.address_changed").first()
    assert notice is not None and notice.language == "es"
    assert notice.subject == "Su domicilio se ha cambiado en el Registro Civil"
    assert "(A-2026-000009)" in notice.body and "Registro Civil ha inscrito" in notice.body
