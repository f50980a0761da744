"""Access records of concurrent reads are committed together, in one transaction per batch, and a
read returns only once the transaction holding its record has committed; inside a caller's
transaction a record is still written there, durable with the change it records.

These tests commit for real (``transaction=True``): inside a test's own transaction every append
would take the inline path."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence

import pytest
from django.db import DatabaseError, OperationalError, connections, transaction
from django.db.backends.base.base import BaseDatabaseWrapper

from gov21.audit import chain as access
from gov21.audit.contracts import access_log_verify, access_record
from gov21.audit.models import AccessRecord
from gov21.core import chain, groupcommit

pytestmark = pytest.mark.django_db(transaction=True)

THREADS = 8


def _values(n: int) -> dict[str, object]:
    from django.utils import timezone

    return {
        "at": timezone.now(),
        "actor": "registrar.one",
        "actor_kind": "staff",
        "action": "person.read",
        "subject": f"23456789{n:02d}",
        "purpose": "case B-2026-000123",
        "detail": {"n": n},
    }


def _append(n: int, bound: Callable[[int, str], Mapping[str, object]] | None = None) -> int:
    return chain.append(access.KIND, access.CHAIN, _values(n), signer=access.sign, bound=bound)


class _Gate:
    """Holds the first batch's writer inside its transaction until the test lets it go, so that
    the callers started meanwhile are all queued for the next batch."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        real = chain._write
        first = [True]

        def held(entries: Sequence[chain.Entry], after: groupcommit.After) -> list[int]:
            if first[0]:
                first[0] = False
                self.entered.set()
                assert self.release.wait(30), "the test never released the first batch"
            return real(entries, after)

        monkeypatch.setattr(chain, "_write", held)


def _run(work: Callable[[int], object], monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """``work(n)`` in THREADS threads: the first leads a batch of its own and is held there until
    all the others are queued behind it. Each thread's result, or the exception it raised."""
    gate = _Gate(monkeypatch)
    results: list[object] = [None] * THREADS

    def one(n: int) -> None:
        try:
            results[n] = work(n)
        except Exception as error:
            results[n] = error
        finally:
            connections.close_all()

    threads = [threading.Thread(target=one, args=(n,)) for n in range(THREADS)]
    threads[0].start()
    assert gate.entered.wait(30)
    for thread in threads[1:]:
        thread.start()
    queued = threading.Event()
    for _ in range(3000):  # until every other caller waits for the next batch (at most 30 s)
        if chain._GROUP.waiting() == THREADS - 1:
            queued.set()
            break
        queued.wait(0.01)
    assert queued.is_set(), f"{chain._GROUP.waiting()} callers queued"
    gate.release.set()
    for thread in threads:
        thread.join(60)
        assert not thread.is_alive(), "a caller was left waiting"
    return results


@pytest.fixture
def commits(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    """Every commit of every connection, as it completes (the name of the committing thread)."""
    done: list[str] = []
    real = BaseDatabaseWrapper.commit

    def counted(self: BaseDatabaseWrapper) -> None:
        real(self)
        done.append(threading.current_thread().name)

    monkeypatch.setattr(BaseDatabaseWrapper, "commit", counted)
    yield done


def test_concurrent_reads_share_commits_and_keep_one_gapless_chain(
    monkeypatch: pytest.MonkeyPatch, commits: list[str]
) -> None:
    seqs = _run(_append, monkeypatch)

    assert sorted(seqs) == list(range(1, THREADS + 1))  # type: ignore[type-var]
    # The first caller's batch, then one for the seven who arrived while it was being written.
    assert len(commits) == 2
    report = access_log_verify()
    assert (report.ok, report.entries) == (True, THREADS), report.reason


def test_no_read_returns_before_its_record_is_committed(monkeypatch: pytest.MonkeyPatch) -> None:
    committed: set[int] = set()
    pending: dict[str, list[int]] = {}
    lock = threading.Lock()
    real_write, real_commit = chain._write, BaseDatabaseWrapper.commit

    def noted(entries: Sequence[chain.Entry], after: groupcommit.After) -> list[int]:
        seqs = real_write(entries, after)
        pending.setdefault(threading.current_thread().name, []).extend(seqs)
        return seqs

    def commit(self: BaseDatabaseWrapper) -> None:
        real_commit(self)
        with lock:
            committed.update(pending.pop(threading.current_thread().name, []))

    monkeypatch.setattr(BaseDatabaseWrapper, "commit", commit)
    monkeypatch.setattr(chain, "_write", noted)
    seen_elsewhere: queue.Queue[tuple[int, bool]] = queue.Queue()

    def look(seq: int) -> None:
        # From a connection of its own: what another process would see once the caller returned.
        # SQLite's in-memory test database shares one cache between connections, where a reader
        # meets another connection's table lock at once ("database table is locked") instead of
        # waiting: it asks again, a bounded number of times.
        try:
            for attempt in range(100):
                try:
                    seen_elsewhere.put((seq, AccessRecord.objects.filter(seq=seq).exists()))
                    return
                except OperationalError as error:
                    if "table is locked" not in str(error) or attempt == 99:
                        raise
                    time.sleep(0.02)
        finally:
            connections.close_all()

    def read(n: int) -> tuple[int, bool]:
        seq = _append(n)
        with lock:
            was_committed = seq in committed
        looker = threading.Thread(target=look, args=(seq,))
        looker.start()
        looker.join(30)
        return seq, was_committed

    results = _run(read, monkeypatch)

    assert all(isinstance(r, tuple) and r[1] for r in results), results
    seen = dict(seen_elsewhere.get_nowait() for _ in range(THREADS))
    assert seen == dict.fromkeys(range(1, THREADS + 1), True)


def test_a_failed_commit_fails_every_caller_of_the_batch(monkeypatch: pytest.MonkeyPatch) -> None:
    real = BaseDatabaseWrapper.commit

    def failing(self: BaseDatabaseWrapper) -> None:
        raise OperationalError("disk I/O error")

    monkeypatch.setattr(BaseDatabaseWrapper, "commit", failing)
    try:
        results = _run(_append, monkeypatch)
    finally:
        monkeypatch.setattr(BaseDatabaseWrapper, "commit", real)

    assert all(isinstance(r, groupcommit.NotCommitted) for r in results), results
    assert all(isinstance(r.__cause__, DatabaseError) for r in results), [r.__cause__ for r in results]  # type: ignore[union-attr]
    assert AccessRecord.objects.count() == 0
    assert access_log_verify().ok
    # The writer is free again: the next read is written and acknowledged.
    assert _append(99) == 1


def test_an_entry_the_database_refuses_fails_its_own_read_only(monkeypatch: pytest.MonkeyPatch) -> None:
    def refused(seq: int, digest: str) -> Mapping[str, object]:
        raise ValueError("this entry cannot be stored")

    results = _run(lambda n: _append(n, bound=refused if n == 3 else None), monkeypatch)

    assert isinstance(results[3], groupcommit.NotCommitted)
    written = [r for r in results if isinstance(r, int)]
    assert sorted(written) == list(range(1, THREADS))
    report = access_log_verify()
    assert (report.ok, report.entries) == (True, THREADS - 1), report.reason


def test_inside_a_callers_transaction_the_record_is_written_with_the_change(commits: list[str]) -> None:
    batches = groupcommit.batches_written()
    with transaction.atomic():
        access_record(actor="registrar.one", actor_kind="staff", action="birth.register", subject="1", purpose="x")
        # Written in this transaction, before it commits: no batch of the group writer carried it.
        assert AccessRecord.objects.filter(action="birth.register").exists()
        assert commits == []
    assert len(commits) == 1
    with pytest.raises(RuntimeError), transaction.atomic():
        access_record(actor="registrar.one", actor_kind="staff", action="birth.register", subject="2", purpose="x")
        raise RuntimeError("the registration fails")

    assert groupcommit.batches_written() == batches
    assert list(AccessRecord.objects.values_list("subject", flat=True)) == ["1"]
    assert access_log_verify().ok


def test_a_head_is_sealed_every_seal_every_entries_even_within_a_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chain, "SEAL_EVERY", 3)

    _run(_append, monkeypatch)

    heads = list(access.KIND.tree_heads._default_manager.order_by("last_seq").values_list("first_seq", "last_seq"))
    assert heads == [(1, 3), (4, 6)]
    report = access_log_verify()
    assert (report.ok, report.entries, report.heads) == (True, THREADS, 2), report.reason
