"""One person, one signature or ballot; eligibility read from the civil registry through the
exchange; the budget's knapsack rule; comments escaped, rate-limited and moderated in public."""

from __future__ import annotations

import io
import json
from datetime import date
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django_tasks_db.models import DBTaskResult

from gov21.core.errors import DomainError
from gov21.exchange.contracts import data_uses_for
from gov21.identity.contracts import LOW, SUBSTANTIAL
from gov21.participation import services
from gov21.participation.models import Ballot, Comment, ModerationEntry, Signature
from gov21.participation.tally import TallyError, tally_recompute
from gov21.participation.tasks import opinion_map_refresh
from tests.identity.flows import OFFICER, citizen, csrf_from, portal_sign_in
from tests.participation.helpers import MODERATOR, OFFICER_PWD, close, process
from tests.registry.factories import register_person

pytestmark = pytest.mark.django_db


def _uin(**fields: object) -> str:
    return register_person(OFFICER, **fields).uin  # type: ignore[arg-type]


def test_a_person_signs_once_and_only_once_and_no_uin_is_stored() -> None:
    petition = process("petition", threshold=2)
    uin = _uin()

    assert services.petition_sign(slug="p", uin=uin, level=SUBSTANTIAL) == 1
    with pytest.raises(DomainError) as again:
        services.petition_sign(slug="p", uin=uin, level=SUBSTANTIAL)

    assert again.value.status == 409 and again.value.code == "already_signed"
    assert Signature.objects.filter(process=petition).count() == 1
    stored = Signature.objects.get()
    assert uin not in stored.pseudonym and len(stored.pseudonym) == 64
    # The eligibility read went through the exchange, for the person, and is listed among their data uses.
    uses = [u for u in data_uses_for(subject=uin) if u["client"].endswith("DGO/participation")]
    assert uses and all(u["purpose"].startswith("Check that you may take part") for u in uses)


def test_the_same_person_has_unlinkable_pseudonyms_in_two_processes() -> None:
    process("petition", slug="one")
    process("petition", slug="two")
    uin = _uin()
    services.petition_sign(slug="one", uin=uin, level=SUBSTANTIAL)
    services.petition_sign(slug="two", uin=uin, level=SUBSTANTIAL)
    first, second = Signature.objects.order_by("pk").values_list("pseudonym", flat=True)
    assert first != second


@pytest.mark.parametrize(
    ("fields", "code"),
    [
        ({"born": date.today().replace(year=date.today().year - 10)}, "not_adult"),
        ({"address_parish": "XA-02", "address_settlement": "Grand Anse"}, "other_parish"),
    ],
)
def test_a_child_or_a_resident_of_another_parish_may_not_vote(fields: dict[str, object], code: str) -> None:
    process("budget", parish="XA-01")
    uin = _uin(**fields)
    with pytest.raises(DomainError) as refused:
        services.ballot_cast(slug="p", uin=uin, level=SUBSTANTIAL, projects=["park"])
    assert refused.value.code == code and refused.value.status == 403
    assert not Ballot.objects.exists()


def test_a_sign_in_below_substantial_may_not_sign() -> None:
    process("petition")
    with pytest.raises(DomainError) as refused:
        services.petition_sign(slug="p", uin=_uin(), level=LOW)
    assert refused.value.code == "level_too_low" and not Signature.objects.exists()


def test_a_ballot_over_the_budget_or_for_an_unknown_project_is_refused() -> None:
    process("budget")
    uin = _uin()
    for projects, code in ((["park", "clinic"], "over_budget"), (["pool"], "unknown_project"), ([], "empty_ballot")):
        with pytest.raises(DomainError) as refused:
            services.ballot_cast(slug="p", uin=uin, level=SUBSTANTIAL, projects=projects)
        assert refused.value.code == code
    assert not Ballot.objects.exists()


def test_a_voter_changes_their_vote_until_the_close_and_not_after() -> None:
    budget = process("budget")
    uin = _uin()
    first = services.ballot_cast(slug="p", uin=uin, level=SUBSTANTIAL, projects=["park"])
    second = services.ballot_cast(slug="p", uin=uin, level=SUBSTANTIAL, projects=["clinic", "lights"])

    assert first != second
    assert list(Ballot.objects.values_list("projects", flat=True)) == [["clinic", "lights"]]
    close(budget)
    with pytest.raises(DomainError) as late:
        services.ballot_cast(slug="p", uin=uin, level=SUBSTANTIAL, projects=["park"])
    assert late.value.code == "closed" and late.value.status == 409
    assert list(Ballot.objects.values_list("projects", flat=True)) == [["clinic", "lights"]]


def test_anyone_recounts_the_published_ballots_and_gets_the_published_results(client: Client, tmp_path: object) -> None:
    budget = process("budget")
    receipts = [
        services.ballot_cast(slug="p", uin=_uin(), level=SUBSTANTIAL, projects=chosen)
        for chosen in (["park", "lights"], ["clinic", "lights"], ["lights"], ["park"])
    ]
    assert client.get("/participation/p/ballots.json").status_code == 409  # not before the close
    close(budget)

    published = client.get("/participation/p/ballots.json")
    assert published.status_code == 200
    document = published.json()
    assert len(document["ballots"]) == 4 and "pseudonym" not in published.content.decode()
    path = tmp_path / "ballots.json"  # type: ignore[operator]
    path.write_bytes(published.content)
    out = io.StringIO()
    call_command("participation", "tally", str(path), stdout=out)
    recount = json.loads(out.getvalue())

    assert recount == {"ballots": 4, "projects": {"clinic": 1, "lights": 3, "park": 2}}
    page = client.get("/participation/p/").content.decode()
    assert 'id="votes-lights">3<' in page and 'id="votes-park">2<' in page and 'id="votes-clinic">1<' in page
    # A receipt finds its ballot; only its holder knows it.
    shown = client.get("/participation/p/", {"receipt": receipts[1]}).content.decode()
    assert "Your ballot is counted with these projects: clinic, lights" in shown
    # A list with a ballot over budget slipped in does not recount.
    document["ballots"].append({"receipt_digest": "f" * 64, "projects": ["park", "clinic"]})
    with pytest.raises(TallyError):
        tally_recompute(document)


def test_html_in_a_comment_is_shown_as_text_and_never_run(client: Client) -> None:
    process("consultation")
    person = citizen()
    portal_sign_in(client, person, next_url="/participation/p/")
    page = client.get("/participation/p/")
    token = csrf_from(page.content.decode())

    sent = client.post(
        "/participation/p/comments", {"body": "<script>alert(1)</script><b>hi</b>", "csrfmiddlewaretoken": token}
    )

    assert sent.status_code == 302
    html = client.get("/participation/p/").content.decode()
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert Comment.objects.get().body == "<script>alert(1)</script><b>hi</b>"


def test_flooding_is_refused_with_a_clear_message_and_nothing_is_lost() -> None:
    process("consultation")
    uin = _uin()
    for n in range(services.WRITE_LIMIT):
        services.comment_post(slug="p", uin=uin, level=SUBSTANTIAL, body=f"comment {n}")
    with pytest.raises(DomainError) as flood:
        services.comment_post(slug="p", uin=uin, level=SUBSTANTIAL, body="one more")
    assert flood.value.status == 429
    assert Comment.objects.count() == services.WRITE_LIMIT


def test_a_moderator_hides_a_reported_comment_with_a_reason_in_the_public_log(client: Client) -> None:
    process("consultation")
    author, reporter = _uin(), _uin()
    comment = services.comment_post(slug="p", uin=author, level=SUBSTANTIAL, body="rude words")
    services.abuse_report(comment_id=comment.pk, uin=reporter, level=SUBSTANTIAL, reason="insults")
    with pytest.raises(DomainError):
        services.abuse_report(comment_id=comment.pk, uin=reporter, level=SUBSTANTIAL, reason="again")
    with pytest.raises(DomainError):  # a reason is required
        services.comment_hide(comment_id=comment.pk, reason="  ", actor=MODERATOR)

    services.comment_hide(comment_id=comment.pk, reason="Insults another participant", actor=MODERATOR)
    services.author_block(comment_id=comment.pk, reason="Repeated insults", actor=MODERATOR)

    page = client.get("/participation/p/").content.decode()
    assert "rude words" not in page and "Hidden by a moderator" in page
    log = client.get("/participation/p/moderation").content.decode()
    assert "Insults another participant" in log and "Repeated insults" in log and "dgo.moderator" in log
    assert ModerationEntry.objects.count() == 2
    with pytest.raises(DomainError) as blocked:
        services.comment_post(slug="p", uin=author, level=SUBSTANTIAL, body="back again")
    assert blocked.value.code == "blocked"


def test_a_petition_crossing_its_threshold_is_answered_publicly(client: Client) -> None:
    process("petition", threshold=2)
    for _ in range(2):
        services.petition_sign(slug="p", uin=_uin(), level=SUBSTANTIAL)
    services.petition_answer(slug="p", answer="We will repair the road by March.", actor=OFFICER)
    page = client.get("/participation/p/").content.decode()
    assert "2 signatures" in page and "The threshold has been reached." in page
    assert "We will repair the road by March." in page


def test_votes_on_statements_queue_one_map_recomputation_and_the_map_shows_groups_and_consensus(
    client: Client, django_capture_on_commit_callbacks: Any
) -> None:
    process("consultation")
    texts = ["Build the road", "Keep the forest", "Fund the clinic", "Raise taxes", "Open a library"]
    statements = [services.statement_add(slug="p", uin=_uin(), level=SUBSTANTIAL, text=t) for t in texts]
    consultation = statements[0].process
    # Two camps of eight: they split on the road, the forest and taxes; all agree on the clinic.
    with django_capture_on_commit_callbacks(execute=True):
        for n in range(16):
            camp = n < 8
            votes = [1 if camp else -1, -1 if camp else 1, 1, 1 if camp else -1, 0]
            for statement, value in zip(statements, votes, strict=True):
                services.statement_vote_record(
                    process=consultation, who=f"{n:064x}", statement_id=statement.pk, value=value
                )

    queued = DBTaskResult.objects.filter(task_path="gov21.participation.tasks.opinion_map_refresh")
    assert queued.count() == 1  # one recomputation for many votes, none in the request
    assert "The map appears once enough people have voted." in client.get("/participation/p/").content.decode()

    assert opinion_map_refresh.call(consultation.pk) == 16 * 5
    page = client.get("/participation/p/").content.decode()
    assert "16 participants grouped" in page
    assert "Group 1 (8 people)" in page and "Group 2 (8 people)" in page
    consensus = page.split('id="consensus"')[1].split("</ul>")[0]
    assert "Agree: Fund the clinic" in consensus and "Build the road" not in consensus


def test_an_official_response_is_written_by_the_running_agency_before_the_close_only() -> None:
    from gov21.core.principal import Principal

    consultation = process("consultation")
    comment = services.comment_post(slug="p", uin=_uin(), level=SUBSTANTIAL, body="When will it start?")
    other = Principal(
        name="water.officer", kind="staff", roles=frozenset({"registrar"}), grants=frozenset({("registrar", "WSA")})
    )
    with pytest.raises(DomainError) as refused:
        services.comment_answer(slug="p", body="Soon.", parent=comment.pk, actor=other)
    assert refused.value.code == "other_agency"

    answer = services.comment_answer(slug="p", body="In March.", parent=comment.pk, actor=OFFICER_PWD)
    assert answer.official and answer.parent_id == comment.pk
    close(consultation)
    with pytest.raises(DomainError) as late:
        services.comment_answer(slug="p", body="Later.", actor=OFFICER_PWD)
    assert late.value.code == "closed"


def test_a_process_not_yet_open_takes_no_signature() -> None:
    from datetime import timedelta

    from django.utils import timezone

    from gov21.participation.models import Process

    petition = process("petition")
    Process.objects.filter(pk=petition.pk).update(opens_at=timezone.now() + timedelta(days=1))
    with pytest.raises(DomainError) as early:
        services.petition_sign(slug="p", uin=_uin(), level=SUBSTANTIAL)
    assert early.value.code == "not_open" and not Signature.objects.exists()
