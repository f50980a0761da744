"""Citizens' proposals: made in the proposals phase, supported once per person, moved to "threshold
reached" by the support that crosses the threshold within the window, answered publicly by the
agency, debated in threaded comments, and marked expired when the window ends below the threshold."""

from __future__ import annotations

import re
from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from gov21.core.errors import DomainError
from gov21.exchange.contracts import data_uses_for
from gov21.identity.contracts import SUBSTANTIAL
from gov21.identity.models import Account
from gov21.identity.services import staff_create
from gov21.participation import services
from gov21.participation.models import Comment, Eligibility, Process, Proposal, ProposalSupport
from tests.identity.flows import OFFICER, PASSWORD, Person, citizen, csrf_from, portal_sign_in, staff, with_totp
from tests.participation.helpers import OFFICER as DGO_OFFICER
from tests.participation.helpers import process, proposals
from tests.registry.factories import register_person

PAGE_LIMIT = 100 * 1024


def _uin() -> str:
    return register_person(OFFICER).uin


def _signed_in(client: Client, next_url: str) -> str:
    portal_sign_in(client, citizen(), next_url=next_url)
    page = client.get(next_url)
    assert page.status_code == 200 and len(page.content) <= PAGE_LIMIT
    return csrf_from(page.content.decode())


@pytest.mark.django_db
def test_a_citizen_supports_a_proposal_that_crosses_its_threshold_and_the_agency_answers() -> None:
    proposals(threshold=2)
    author = Client()
    token = _signed_in(author, "/participation/p/")
    made = author.post(
        "/participation/p/proposals",
        {
            "title": "Shade at the bus stops",
            "body": "Trees <script>x()</script> at every stop",
            "csrfmiddlewaretoken": token,
        },
    )
    assert made.status_code == 302
    proposal = Proposal.objects.get()
    assert made["Location"] == f"/participation/p/proposals/{proposal.pk}/"
    assert proposal.closes_at - proposal.created_at == timedelta(days=90)
    page = author.get(made["Location"]).content.decode()
    assert "&lt;script&gt;x()&lt;/script&gt;" in page and "<script>x()" not in page
    assert "0 supports of 2 needed" in page

    assert (
        author.post(f"/participation/p/proposals/{proposal.pk}/support", {"csrfmiddlewaretoken": token}).status_code
        == 302
    )
    again = author.post(f"/participation/p/proposals/{proposal.pk}/support", {"csrfmiddlewaretoken": token})
    assert again.status_code == 409 and "You have already supported this proposal." in again.content.decode()
    proposal.refresh_from_db()
    assert proposal.supports == 1 and proposal.state == Proposal.State.OPEN

    supporter = Client()
    other = _signed_in(supporter, f"/participation/p/proposals/{proposal.pk}/")
    crossed = supporter.post(f"/participation/p/proposals/{proposal.pk}/support", {"csrfmiddlewaretoken": other})
    assert crossed.status_code == 302
    proposal.refresh_from_db()
    assert proposal.supports == 2 == ProposalSupport.objects.count()
    assert proposal.state == Proposal.State.REACHED and proposal.reached_at is not None
    public = Client().get(f"/participation/p/proposals/{proposal.pk}/").content.decode()
    assert "Threshold reached" in public and "PWD must answer publicly" in public

    # A registrar of another agency may not answer for the Ministry of Public Works.
    elsewhere = Client()
    portal_sign_in(elsewhere, staff("registrar9", "registrar"), next_url="/office/participation/")
    refused = elsewhere.post(
        f"/office/participation/proposals/{proposal.pk}/answer",
        {"answer": "No.", "csrfmiddlewaretoken": csrf_from(elsewhere.get("/office/participation/").content.decode())},
    )
    assert refused.status_code == 403
    assert "Only the agency that runs the process answers it." in refused.content.decode()

    user = staff_create(username="pwd.answerer", password=PASSWORD, roles=["registrar"], agency="PWD")
    officer = Client()
    portal_sign_in(
        officer,
        with_totp(Person("pwd.answerer", PASSWORD, "", Account.objects.get(user_id=user.pk))),
        next_url="/office/participation/",
    )
    office = officer.get("/office/participation/").content.decode()
    assert "Shade at the bus stops" in office
    answered = officer.post(
        f"/office/participation/proposals/{proposal.pk}/answer",
        {"answer": "We will plant 40 trees by March.", "csrfmiddlewaretoken": csrf_from(office)},
    )
    assert answered.status_code == 302, answered.content.decode()[-3000:]
    public = Client().get(f"/participation/p/proposals/{proposal.pk}/").content.decode()
    assert "We will plant 40 trees by March." in public
    assert "Shade at the bus stops" not in officer.get("/office/participation/").content.decode()


@pytest.mark.django_db
def test_a_proposal_whose_window_ends_below_the_threshold_is_marked_expired_and_takes_no_support() -> None:
    proposals(threshold=3, support_days=30)
    proposal = services.proposal_create(slug="p", uin=_uin(), level=SUBSTANTIAL, title="A pool", body="Please")
    services.proposal_support(slug="p", proposal_id=proposal.pk, uin=_uin(), level=SUBSTANTIAL)
    Proposal.objects.filter(pk=proposal.pk).update(closes_at=timezone.now() - timedelta(seconds=1))

    with pytest.raises(DomainError) as late:
        services.proposal_support(slug="p", proposal_id=proposal.pk, uin=_uin(), level=SUBSTANTIAL)

    assert late.value.code == "proposal_expired" and late.value.status == 409
    proposal.refresh_from_db()
    assert proposal.state == Proposal.State.EXPIRED and proposal.supports == 1
    assert "Expired" in Client().get("/participation/p/").content.decode()


@pytest.mark.django_db
def test_the_window_is_the_process_s_own_and_never_beyond_its_close() -> None:
    now = timezone.now()
    services.process_create(
        slug="short",
        kind="proposals",
        title="Ideas",
        agency="PWD",
        opens_at=now - timedelta(days=1),
        closes_at=now + timedelta(days=10),
        threshold=5,
        support_days=30,
        actor=DGO_OFFICER,
    )
    proposals(support_days=7)
    short = services.proposal_create(slug="short", uin=_uin(), level=SUBSTANTIAL, title="A", body="B")
    week = services.proposal_create(slug="p", uin=_uin(), level=SUBSTANTIAL, title="A", body="B")
    assert short.closes_at == Process.objects.get(slug="short").closes_at
    assert week.closes_at - week.created_at == timedelta(days=7)


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("fields", "code"),
    [({"threshold": 0}, "threshold"), ({"threshold": 5, "support_days": 0}, "support_days")],
)
def test_a_proposals_process_needs_a_threshold_and_a_window(fields: dict[str, int], code: str) -> None:
    now = timezone.now()
    with pytest.raises(DomainError) as refused:
        services.process_create(
            slug="x",
            kind="proposals",
            title="Ideas",
            agency="PWD",
            opens_at=now,
            closes_at=now + timedelta(days=1),
            actor=DGO_OFFICER,
            **fields,  # type: ignore[arg-type]
        )
    assert refused.value.code == code and not Process.objects.exists()


@pytest.mark.django_db
def test_proposals_are_made_only_in_the_proposals_phase_of_a_proposals_process() -> None:
    proposals()
    process("petition", slug="petition")
    services.process_phase_set(slug="p", phase="follow-up", actor=DGO_OFFICER)
    uin = _uin()
    for slug, code in (("p", "not_proposals_phase"), ("petition", "not_proposals")):
        with pytest.raises(DomainError) as refused:
            services.proposal_create(slug=slug, uin=uin, level=SUBSTANTIAL, title="A", body="B")
        assert refused.value.code == code and refused.value.status == 409
    assert not Proposal.objects.exists()


@pytest.mark.django_db
def test_a_visitor_is_sent_to_sign_in_and_an_empty_proposal_is_explained(client: Client) -> None:
    proposals()
    assert "level=substantial" in client.post("/participation/p/proposals", {"title": "A", "body": "B"})["Location"]
    token = _signed_in(client, "/participation/p/")
    empty = client.post("/participation/p/proposals", {"title": "", "body": "B", "csrfmiddlewaretoken": token})
    assert empty.status_code == 422 and "Give your proposal a title." in empty.content.decode()
    assert not Proposal.objects.exists()


@pytest.mark.django_db
def test_a_debate_is_threaded_and_belongs_to_its_proposal(client: Client) -> None:
    proposals()
    proposal = services.proposal_create(slug="p", uin=_uin(), level=SUBSTANTIAL, title="Lights", body="On Main St")
    first = services.proposal_comment(slug="p", proposal_id=proposal.pk, uin=_uin(), level=SUBSTANTIAL, body="Yes")
    reply = services.proposal_comment(
        slug="p", proposal_id=proposal.pk, uin=_uin(), level=SUBSTANTIAL, body="Which end?", parent=first.pk
    )
    services.proposal_comment(
        slug="p", proposal_id=proposal.pk, uin=_uin(), level=SUBSTANTIAL, body="The <b>north</b>", parent=reply.pk
    )
    other = services.proposal_create(slug="p", uin=_uin(), level=SUBSTANTIAL, title="Other", body="Else")
    with pytest.raises(DomainError) as elsewhere:
        services.proposal_comment(
            slug="p", proposal_id=other.pk, uin=_uin(), level=SUBSTANTIAL, body="x", parent=first.pk
        )
    assert elsewhere.value.code == "unknown_comment"

    html = client.get(f"/participation/p/proposals/{proposal.pk}/").content.decode()
    nested = re.search(
        r"Yes.*<ul class=\"debate\">.*Which end\?.*<ul class=\"debate\">.*The &lt;b&gt;north", html, re.S
    )
    assert nested is not None
    assert Comment.objects.filter(proposal=proposal).count() == 3
    # The debate is not among the process's own comments.
    assert "Which end?" not in client.get("/participation/p/").content.decode()


@pytest.mark.django_db
def test_eligibility_is_read_once_per_person_and_process_and_a_refusal_is_not_kept() -> None:
    proposals()
    uin = _uin()
    proposal = services.proposal_create(slug="p", uin=uin, level=SUBSTANTIAL, title="A", body="B")
    services.proposal_support(slug="p", proposal_id=proposal.pk, uin=uin, level=SUBSTANTIAL)
    services.proposal_comment(slug="p", proposal_id=proposal.pk, uin=uin, level=SUBSTANTIAL, body="C")
    reads = [u for u in data_uses_for(subject=uin) if u["client"].endswith("DGO/participation")]
    assert len(reads) == 1
    kept = Eligibility.objects.get()
    assert kept.pseudonym == Proposal.objects.get().pseudonym and uin not in kept.pseudonym

    child = register_person(OFFICER, born=timezone.localdate().replace(year=timezone.localdate().year - 10)).uin
    for _ in range(2):
        with pytest.raises(DomainError):
            services.proposal_support(slug="p", proposal_id=proposal.pk, uin=child, level=SUBSTANTIAL)
    assert len([u for u in data_uses_for(subject=child) if u["client"].endswith("DGO/participation")]) == 2
    assert Eligibility.objects.count() == 1
