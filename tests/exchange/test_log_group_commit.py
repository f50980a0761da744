"""The message log at group-commit cost: a call between two systems of this node writes the
provider's entry, its data-use records and the consumer's entry in one commit, and concurrent
calls share commits, with every chain still verifying.

These tests commit for real (``transaction=True``): inside a test's own transaction every append
would take the inline path."""

from __future__ import annotations

import io
import threading
from collections.abc import Callable, Sequence

import pytest
from django.core.management import call_command
from django.db import connections

from gov21.core import chain as core
from gov21.core import groupcommit
from gov21.core.principal import Principal
from gov21.exchange import chain
from gov21.exchange.contracts import exchange_call
from gov21.exchange.models import DataUse, LogEntry
from tests.registry.factories import register_person

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("exchange")]

PERSONS = "XA/GOV/CRO/civil-registry/persons"
CALLS = 6


def _read(uin: str) -> str:
    result = exchange_call(client="XA/GOV/MSD/benefits", service=PERSONS, path=f"/{uin}", issue="Benefit claim 17")
    assert result.status == 200, result.body
    return result.headers["x-road-id"]


def test_a_call_in_this_node_is_logged_at_both_ends_in_one_commit(registrar: Principal) -> None:
    person = register_person(registrar)
    batches = groupcommit.batches_written()

    message = _read(person.uin)

    # The registry's access record (written before its service answers), then both ends' entries.
    assert groupcommit.batches_written() == batches + 2
    entries = list(LogEntry.objects.filter(message_id=message).order_by("seq").values_list("role", "seq"))
    assert [role for role, _ in entries] == ["provider", "consumer"]
    assert entries[1][1] == entries[0][1] + 1
    assert DataUse.objects.filter(message_id=message, subject=person.uin).count() == 1


def _held_first_batch(monkeypatch: pytest.MonkeyPatch) -> tuple[threading.Event, threading.Event]:
    """Hold the leader of the first batch of message-log entries before its transaction (so no
    database lock is held while the other calls do their work and queue behind it) until the test
    releases it."""
    entered, release = threading.Event(), threading.Event()
    real: Callable[..., Sequence[list[int]]] = core._GROUP._commit
    first = [True]

    def held(items: list[tuple[core.Entry, ...]], after: list[Callable[[], object]]) -> Sequence[list[int]]:
        if first[0] and any(e.kind.entries is LogEntry for item in items for e in item):
            first[0] = False
            entered.set()
            assert release.wait(60), "the test never released the first batch"
        return real(items, after)

    monkeypatch.setattr(core._GROUP, "_commit", held)
    return entered, release


def test_concurrent_calls_share_commits_and_every_chain_verifies(
    monkeypatch: pytest.MonkeyPatch, registrar: Principal
) -> None:
    person = register_person(registrar)
    entered, release = _held_first_batch(monkeypatch)
    batches = groupcommit.batches_written()
    answered: list[str] = []

    def call() -> None:
        try:
            answered.append(_read(person.uin))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=call) for _ in range(CALLS)]
    threads[0].start()
    assert entered.wait(60)
    for thread in threads[1:]:
        thread.start()
    waiting = threading.Event()
    for _ in range(6000):  # until every other call waits for the next batch (at most 60 s)
        if core._GROUP.waiting() == CALLS - 1:
            waiting.set()
            break
        waiting.wait(0.01)
    assert waiting.is_set(), f"{core._GROUP.waiting()} calls queued"
    release.set()
    for thread in threads:
        thread.join(60)

    assert len(answered) == CALLS
    # Alone, each call would take two (its access record, then its log entries); the first call
    # did, the access records of the five calls queued behind it shared one, and their log entries
    # at most five more.
    assert groupcommit.batches_written() - batches <= 2 + 1 + (CALLS - 1) < 2 * CALLS
    assert LogEntry.objects.filter(message_id__in=answered).count() == 2 * CALLS
    assert DataUse.objects.filter(message_id__in=answered).count() == CALLS
    for name in chain.chain_names():
        report = chain.verify(name)
        assert report.ok, (name, report.reason)
    out = io.StringIO()
    call_command("exchange", "log", "verify", stdout=out, stderr=out)
    assert "broken" not in out.getvalue()
