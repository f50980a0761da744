"""Staff with the permission create processes from the office (kind, address, dates, parish,
threshold, budget and projects, sections of a draft) and change their phase; bad input is explained
on the page and creates nothing; a reader may not create one."""

from __future__ import annotations

import pytest
from django.test import Client

from gov21.identity.models import Account
from gov21.identity.services import staff_create
from gov21.participation.models import Process, Project, Section
from tests.identity.flows import PASSWORD, Person, csrf_from, portal_sign_in, with_totp

pytestmark = pytest.mark.django_db

BUDGET = {
    "kind": "budget",
    "slug": "north-budget",
    "title": "North parish budget 2027",
    "agency": "PWD",
    "parish": "XA-01",
    "opens_on": "2026-01-01",
    "closes_on": "2099-01-01",
    "budget": "250,000.00",
    "projects": "park; A park; 150,000\nlights; Street lights; 80000.50\n",
}


def _office(username: str, *roles: str, agency: str = "PWD") -> tuple[Client, str]:
    """An officer with ``roles`` in ``agency`` (the Ministry of Public Works unless said)."""
    user = staff_create(username=username, password=PASSWORD, roles=list(roles), agency=agency)
    client = Client()
    person = with_totp(Person(username, PASSWORD, "", Account.objects.get(user_id=user.pk)))
    portal_sign_in(client, person, next_url="/office/participation/")
    page = client.get("/office/participation/processes/new")
    return client, csrf_from(page.content.decode()) if page.status_code == 200 else ""


def test_an_officer_creates_a_parish_budget_with_its_projects_and_changes_its_phase() -> None:
    client, token = _office("maker1", "administrator")
    bad = client.post(
        "/office/participation/processes/new", {**BUDGET, "projects": "park; A park", "csrfmiddlewaretoken": token}
    )
    assert bad.status_code == 422 and "Write project 1 as: code; title; cost." in bad.content.decode()
    assert "North parish budget 2027" in bad.content.decode()  # what was typed is shown again
    assert not Process.objects.exists()

    made = client.post("/office/participation/processes/new", {**BUDGET, "csrfmiddlewaretoken": token})
    assert made.status_code == 302 and made["Location"] == "/participation/north-budget/"
    process = Process.objects.get()
    assert process.budget_cents == 25_000_000 and process.parish == "XA-01" and process.phase == "voting"
    assert dict(Project.objects.values_list("code", "cost_cents")) == {"park": 15_000_000, "lights": 8_000_050}
    assert "A park" in Client().get("/participation/north-budget/").content.decode()

    phased = client.post(
        "/office/participation/processes/north-budget/phase", {"phase": "results", "csrfmiddlewaretoken": token}
    )
    assert phased.status_code == 302
    assert Process.objects.get().phase == "results"


def test_a_consultation_is_created_with_the_sections_of_its_draft() -> None:
    client, token = _office("maker2", "administrator")
    sections = "## Purpose\nWater for every home.\n\n## Prices\nBilled by the cubic metre.\nMetered monthly."
    made = client.post(
        "/office/participation/processes/new",
        {
            "kind": "consultation",
            "slug": "water",
            "title": "Draft water policy",
            "agency": "PWD",
            "opens_on": "2026-01-01",
            "closes_on": "2099-01-01",
            "sections": sections,
            "csrfmiddlewaretoken": token,
        },
    )
    assert made.status_code == 302
    assert list(Section.objects.values_list("heading", "text")) == [
        ("Purpose", "Water for every home."),
        ("Prices", "Billed by the cubic metre.\nMetered monthly."),
    ]


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"closes_on": "2025-01-01"}, "A process must close after it opens."),
        ({"slug": "Not A Slug"}, "Use only lower-case letters, digits and hyphens in the address."),
        ({"parish": "XX-99"}, "There is no such parish."),
        ({"projects": ""}, "A participatory budget needs an amount and projects."),
        ({"budget": "lots"}, "Give an amount."),
    ],
)
def test_bad_input_is_explained_and_creates_nothing(change: dict[str, str], words: str) -> None:
    client, token = _office("maker3", "administrator")
    refused = client.post("/office/participation/processes/new", {**BUDGET, **change, "csrfmiddlewaretoken": token})
    assert refused.status_code in (409, 422) and words in refused.content.decode()
    assert not Process.objects.exists()


def test_an_officer_of_another_agency_may_not_create_a_process_for_it() -> None:
    client, token = _office("other1", "registrar", agency="civil-registry")
    refused = client.post("/office/participation/processes/new", {**BUDGET, "csrfmiddlewaretoken": token})
    assert refused.status_code == 403 and "Create processes only for your own agency." in refused.content.decode()
    assert not Process.objects.exists()


def test_a_moderator_without_the_answer_permission_may_not_create_a_process() -> None:
    client, _token = _office("clerk1", "clerk")
    assert client.get("/office/participation/processes/new").status_code == 403
    assert not Process.objects.exists()
