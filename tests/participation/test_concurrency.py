"""The same person signing, voting or supporting a proposal from several places at the same moment is
counted once: the UNIQUE constraint on (process, pseudonym) decides (PostgreSQL runs the writers in
parallel); supports of different people crossing a threshold cross it once."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from gov21.core.errors import DomainError
from gov21.identity.contracts import SUBSTANTIAL
from gov21.participation import services
from gov21.participation.models import Ballot, Eligibility, Proposal, ProposalSupport, Signature
from tests.identity.flows import OFFICER
from tests.participation.helpers import process, proposals
from tests.registry.factories import register_person

WRITERS = 6


def _race(acts: list[Callable[[], object]]) -> tuple[int, list[BaseException]]:
    done, errors = [0], []
    barrier = threading.Barrier(len(acts))
    lock = threading.Lock()

    def writer(act: Callable[[], object]) -> None:
        try:
            barrier.wait()
            act()
            with lock:
                done[0] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer, args=(act,)) for act in acts]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return done[0], errors


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_signatures_by_one_person_count_once() -> None:
    process("petition")
    uin = register_person(OFFICER).uin

    accepted, errors = _race([lambda: services.petition_sign(slug="p", uin=uin, level=SUBSTANTIAL)] * WRITERS)

    assert accepted == 1
    assert len(errors) == WRITERS - 1
    assert all(isinstance(e, DomainError) and e.code == "already_signed" for e in errors), errors
    assert Signature.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_ballots_by_one_person_leave_one_ballot() -> None:
    process("budget")
    uin = register_person(OFFICER).uin

    def vote() -> object:
        return services.ballot_cast(slug="p", uin=uin, level=SUBSTANTIAL, projects=["park"])

    accepted, errors = _race([vote] * WRITERS)

    assert not errors and accepted == WRITERS
    assert Ballot.objects.count() == 1


def _uin() -> str:
    return register_person(OFFICER).uin


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_supports_by_one_person_leave_one_support() -> None:
    proposals(threshold=1)
    proposal = services.proposal_create(slug="p", uin=_uin(), level=SUBSTANTIAL, title="A", body="B")
    uin = _uin()

    def support() -> object:
        return services.proposal_support(slug="p", proposal_id=proposal.pk, uin=uin, level=SUBSTANTIAL)

    accepted, errors = _race([support] * WRITERS)

    assert accepted == 1, errors
    assert all(isinstance(e, DomainError) and e.code == "already_supported" for e in errors), errors
    proposal.refresh_from_db()
    assert ProposalSupport.objects.count() == 1 == proposal.supports
    assert proposal.state == Proposal.State.REACHED
    assert Eligibility.objects.filter(pseudonym=ProposalSupport.objects.get().pseudonym).count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_supports_of_different_people_cross_the_threshold_once_and_are_all_counted() -> None:
    proposals(threshold=4)
    proposal = services.proposal_create(slug="p", uin=_uin(), level=SUBSTANTIAL, title="A", body="B")
    uins = [_uin() for _ in range(WRITERS)]

    def support(uin: str) -> Callable[[], object]:
        return lambda: services.proposal_support(slug="p", proposal_id=proposal.pk, uin=uin, level=SUBSTANTIAL)

    accepted, errors = _race([support(u) for u in uins])

    assert accepted == WRITERS and not errors
    proposal.refresh_from_db()
    assert proposal.supports == WRITERS == ProposalSupport.objects.count()
    assert proposal.state == Proposal.State.REACHED and proposal.reached_at is not None
