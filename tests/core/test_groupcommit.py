"""The group writer: whatever waits is written in one batch; a writer that is stuck or dies never
leaves a caller waiting for ever, and never lets one believe its entry was written.

The batches are written in real transactions (``transaction=True``); what they write does not
matter here (the logs' own tests, in tests/audit and tests/exchange, write real entries)."""

from __future__ import annotations

import threading
from collections.abc import Sequence

import pytest
from django.db import connections

from gov21.core import groupcommit
from gov21.core.groupcommit import GroupCommit, NotCommitted

pytestmark = pytest.mark.django_db(transaction=True)


class _Stuck:
    """A batch writer whose first batch stays in its transaction until released (or dies)."""

    def __init__(self, *, dies: bool = False) -> None:
        self.entered = threading.Event()
        self.release = threading.Event()
        self.dies = dies
        self.batches: list[list[int]] = []

    def __call__(self, items: Sequence[int], after: groupcommit.After) -> list[int]:
        if not self.batches:
            self.batches.append(list(items))
            self.entered.set()
            assert self.release.wait(30)
            if self.dies:
                raise SystemExit("the worker is stopped")
        else:
            self.batches.append(list(items))
        return [item * 10 for item in items]


def _submit(writer: GroupCommit[int, int], item: int, out: dict[int, object]) -> threading.Thread:
    def run() -> None:
        try:
            out[item] = writer.submit(item)
        except BaseException as error:  # the leader's SystemExit too: it is what the thread saw
            out[item] = error
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _until_queued(writer: GroupCommit[int, int], count: int) -> None:
    event = threading.Event()
    for _ in range(3000):
        if writer.waiting() == count:
            return
        event.wait(0.01)
    raise AssertionError(f"{writer.waiting()} queued, not {count}")


def test_a_caller_alone_is_written_at_once_and_later_arrivals_share_one_batch() -> None:
    write = _Stuck()
    writer: GroupCommit[int, int] = GroupCommit(write, name="test log")
    out: dict[int, object] = {}
    first = _submit(writer, 1, out)
    assert write.entered.wait(30)
    others = [_submit(writer, n, out) for n in range(2, 6)]
    _until_queued(writer, 4)
    write.release.set()
    for thread in [first, *others]:
        thread.join(30)

    assert write.batches == [[1], [2, 3, 4, 5]]
    assert out == {1: 10, 2: 20, 3: 30, 4: 40, 5: 50}


def test_a_caller_whose_writer_is_stuck_gets_an_error_not_a_success(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_LOG_WAIT_S", "1")
    write = _Stuck()
    writer: GroupCommit[int, int] = GroupCommit(write, name="test log")
    out: dict[int, object] = {}
    leader = _submit(writer, 1, out)
    assert write.entered.wait(30)
    follower = _submit(writer, 2, out)
    follower.join(30)

    assert isinstance(out[2], NotCommitted)
    assert writer.waiting() == 0  # it left the queue: it will not be written after it failed
    write.release.set()
    leader.join(30)
    assert out[1] == 10
    assert write.batches == [[1]]


def test_a_writer_that_dies_releases_its_batch_with_an_error_and_passes_the_lead_on() -> None:
    write = _Stuck(dies=True)
    writer: GroupCommit[int, int] = GroupCommit(write, name="test log")
    out: dict[int, object] = {}
    leader = _submit(writer, 1, out)
    assert write.entered.wait(30)
    follower = _submit(writer, 2, out)
    _until_queued(writer, 1)
    write.release.set()
    leader.join(30)
    follower.join(30)

    assert isinstance(out[1], SystemExit)
    # The follower was queued for the next batch, which it led once the dying leader passed it on.
    assert out[2] == 20
    assert write.batches == [[1], [2]]
    assert writer.submit(3) == 30


def test_a_full_queue_refuses_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOV21_LOG_QUEUE_MAX", "1")
    write = _Stuck()
    writer: GroupCommit[int, int] = GroupCommit(write, name="test log")
    out: dict[int, object] = {}
    leader = _submit(writer, 1, out)
    assert write.entered.wait(30)
    queued = _submit(writer, 2, out)
    _until_queued(writer, 1)

    with pytest.raises(NotCommitted) as refused:
        writer.submit(3)
    assert refused.value.status == 503
    write.release.set()
    leader.join(30)
    queued.join(30)
    assert out == {1: 10, 2: 20}
