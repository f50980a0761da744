"""Consultations on a draft in sections: a participant suggests a replacement text for a section,
others support it once each, the agency accepts or rejects it with a public reason, and at the close
a summary report counts per section, lists the official responses and the opinion map's groups."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.identity.contracts import SUBSTANTIAL
from gov21.participation import services
from gov21.participation.models import Amendment, AmendmentSupport, Process, Section
from gov21.participation.services import SectionFacts
from tests.identity.flows import OFFICER, citizen, csrf_from, portal_sign_in
from tests.participation.helpers import OFFICER as DGO_OFFICER
from tests.participation.helpers import OFFICER_PWD, close
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _consultation() -> Process:
    now = timezone.now()
    return services.process_create(
        slug="p",
        kind="consultation",
        title="Draft water policy",
        agency="PWD",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=30),
        sections=[
            SectionFacts("Purpose", "Water for every home by 2030."),
            SectionFacts("Prices", "Water is billed by the cubic metre."),
        ],
        actor=DGO_OFFICER,
    )


def _uin() -> str:
    return register_person(OFFICER).uin


def test_an_amendment_is_suggested_supported_once_and_decided_with_a_public_reason(client: Client) -> None:
    _consultation()
    prices = Section.objects.get(position=2)
    portal_sign_in(client, citizen(), next_url="/participation/p/")
    page = client.get("/participation/p/").content.decode()
    assert "Water is billed by the cubic metre." in page and 'id="section-' in page
    token = csrf_from(page)

    same = client.post(
        f"/participation/p/sections/{prices.pk}/amendments",
        {"text": "Water is billed by the cubic metre.", "csrfmiddlewaretoken": token},
    )
    assert same.status_code == 422 and not Amendment.objects.exists()
    made = client.post(
        f"/participation/p/sections/{prices.pk}/amendments",
        {
            "text": "The first 5 cubic metres a month are free; <b>then</b> by the cubic metre.",
            "csrfmiddlewaretoken": token,
        },
    )
    assert made.status_code == 302
    amendment = Amendment.objects.get()
    for uin in (_uin(), _uin()):
        services.amendment_support(slug="p", amendment_id=amendment.pk, uin=uin, level=SUBSTANTIAL)
    again = client.post(f"/participation/p/amendments/{amendment.pk}/support", {"csrfmiddlewaretoken": token})
    assert again.status_code == 302
    twice = client.post(f"/participation/p/amendments/{amendment.pk}/support", {"csrfmiddlewaretoken": token})
    assert twice.status_code == 409 and "You have already supported this amendment." in twice.content.decode()
    amendment.refresh_from_db()
    assert amendment.supports == 3 == AmendmentSupport.objects.count()

    with pytest.raises(DomainError) as no_reason:
        services.amendment_decide(amendment_id=amendment.pk, accept=True, reason=" ", actor=OFFICER_PWD)
    assert no_reason.value.code == "empty"
    services.amendment_decide(amendment_id=amendment.pk, accept=True, reason="A fair start.", actor=OFFICER_PWD)
    with pytest.raises(DomainError) as twice_decided:
        services.amendment_decide(amendment_id=amendment.pk, accept=False, reason="No.", actor=OFFICER_PWD)
    assert twice_decided.value.code == "amendment_decided"
    html = Client().get("/participation/p/").content.decode()
    assert "A fair start." in html and "&lt;b&gt;then&lt;/b&gt;" in html and "Accepted" in html


def test_the_summary_report_is_published_at_the_close_with_counts_per_section(client: Client) -> None:
    process = _consultation()
    purpose, prices = Section.objects.order_by("position")
    services.comment_post(slug="p", uin=_uin(), level=SUBSTANTIAL, body="Good aim", section=str(purpose.pk))
    kept = services.amendment_propose(slug="p", section_id=prices.pk, uin=_uin(), level=SUBSTANTIAL, text="Free water")
    dropped = services.amendment_propose(slug="p", section_id=prices.pk, uin=_uin(), level=SUBSTANTIAL, text="Flat fee")
    services.amendment_propose(slug="p", section_id=prices.pk, uin=_uin(), level=SUBSTANTIAL, text="By the litre")
    services.amendment_decide(amendment_id=kept.pk, accept=True, reason="For the poorest.", actor=OFFICER_PWD)
    services.amendment_decide(amendment_id=dropped.pk, accept=False, reason="Unfair to small users.", actor=OFFICER_PWD)
    services.comment_answer(slug="p", body="We will publish a revised draft in May.", actor=OFFICER_PWD)

    before = client.get("/participation/p/summary").content.decode()
    assert "published when the consultation closes" in before and "For the poorest." not in before
    close(process)
    report = client.get("/participation/p/summary")
    html = report.content.decode()
    assert report.status_code == 200 and len(report.content) <= 100 * 1024
    rows = html[html.index('id="sections"') :]
    assert "1. Purpose</th><td>1</td><td>0</td><td>0</td><td>0</td><td>0</td>" in rows
    assert "2. Prices</th><td>0</td><td>3</td><td>1</td><td>1</td><td>1</td>" in rows
    assert "For the poorest." in html and "Unfair to small users." in html
    assert "We will publish a revised draft in May." in html
    with pytest.raises(DomainError) as late:
        services.amendment_propose(slug="p", section_id=prices.pk, uin=_uin(), level=SUBSTANTIAL, text="Later")
    assert late.value.code == "closed"


def test_only_a_consultation_has_sections_and_a_summary(client: Client) -> None:
    now = timezone.now()
    with pytest.raises(DomainError) as refused:
        services.process_create(
            slug="x",
            kind="petition",
            title="A petition",
            agency="PWD",
            opens_at=now,
            closes_at=now + timedelta(days=1),
            sections=[SectionFacts("A", "B")],
            actor=DGO_OFFICER,
        )
    assert refused.value.code == "sections"
    assert client.get("/participation/none/summary").status_code == 404
