"""The same person signing or voting from several places at the same moment is counted once: the
UNIQUE constraint on (process, pseudonym) decides (PostgreSQL runs the writers in parallel)."""

from __future__ import annotations

import threading
from collections.abc import Callable

import pytest
from django.db import connection

from gov21.core.errors import DomainError
from gov21.identity.contracts import SUBSTANTIAL
from gov21.participation import services
from gov21.participation.models import Ballot, Signature
from tests.identity.flows import OFFICER
from tests.participation.helpers import process
from tests.registry.factories import register_person

WRITERS = 6


def _race(act: Callable[[], object]) -> tuple[int, list[BaseException]]:
    done, errors = [0], []
    barrier = threading.Barrier(WRITERS)
    lock = threading.Lock()

    def writer() -> None:
        try:
            barrier.wait()
            act()
            with lock:
                done[0] += 1
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=writer) for _ in range(WRITERS)]
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

    accepted, errors = _race(lambda: services.petition_sign(slug="p", uin=uin, level=SUBSTANTIAL))

    assert accepted == 1
    assert len(errors) == WRITERS - 1
    assert all(isinstance(e, DomainError) and e.code == "already_signed" for e in errors), errors
    assert Signature.objects.count() == 1


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_concurrent_ballots_by_one_person_leave_one_ballot() -> None:
    process("budget")
    uin = register_person(OFFICER).uin

    accepted, errors = _race(lambda: services.ballot_cast(slug="p", uin=uin, level=SUBSTANTIAL, projects=["park"]))

    assert not errors and accepted == WRITERS
    assert Ballot.objects.count() == 1
