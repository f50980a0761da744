"""Group commit: the log entries of concurrent requests written in one transaction, each request
released only once the transaction holding its entries has committed.

A request that holds no transaction of its own hands its entries to the process's writer and waits.
The writer is not a thread of its own: the first request to find nobody writing becomes the
*leader*, takes everything waiting at that moment (its own entries first), writes it in one
transaction on its own connection, commits, and only then releases each request of the batch with
its result, or with the error that stopped the batch. What arrived meanwhile waits for the next
batch, whose first request the leader wakes to lead it. A request alone therefore writes at once,
as it did before, and a surge shares one commit (one fsync on PostgreSQL, one write lock on SQLite)
among everyone who arrived while the previous one was being written. There is no fixed window.

Why the leader is a waiting request and not a writer thread: nothing to start after gunicorn forks
a worker, no extra database connection per process, no hand-off between threads for a request
alone, and a leader that fails fails in a request: its ``finally`` releases everyone of its batch
with an error and passes the lead on, so nobody waits for a writer that is gone. A leader stuck in
the database is caught by the waiters' timeout (``GOV21_LOG_WAIT_S``): they fail, never succeed
silently. The queue is bounded (``GOV21_LOG_QUEUE_MAX``); beyond it a request fails at once.

If a batch fails, each of its requests is written again alone, so one entry the database refuses
fails its own request and no other; a database that refuses everything fails every one of them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
import weakref
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from typing import Final, Generic, TypeVar

from django.db import close_old_connections, connection, connections, transaction
from django.utils.translation import gettext as _

from gov21.core import config
from gov21.core.errors import DomainError

logger = logging.getLogger(__name__)

T = TypeVar("T")
R = TypeVar("R")

# Work to do once the batch has committed and its requests are released (anchoring a sealed head).
After = Callable[[Callable[[], object]], None]
# Writes the items of one batch inside the transaction it is given; one result per item, in order.
Write = Callable[[Sequence[T], After], Sequence[R]]

# More than this many requests' entries in one transaction would make the first of them wait for
# the writing of the last; the rest go in the next batch, led at once.
MAX_BATCH: Final = 256
# A writer thread idle this long closes its database connection; the next batch opens one.
IDLE_CLOSE_S: Final = 1.0


class NotCommitted(DomainError):
    """The log entries of this request were not committed, so nothing may be released."""

    def __init__(self, detail: str) -> None:
        super().__init__("log_not_written", detail, status=503, title=_("The log could not be written"))


_sqlite_turn = threading.Lock()


@contextlib.contextmanager
def write_turn() -> Iterator[None]:
    """On SQLite, the threads of one process take turns here before asking for the database's write
    lock: waiting on a Python lock wakes at once, while SQLite's busy handler sleeps in steps of up
    to 100 ms, which is what made the tail latency under load. PostgreSQL's row locks need no help.
    Inside a caller's transaction the write lock is already held; nothing to order."""
    if connection.vendor != "sqlite" or connection.in_atomic_block:
        yield
        return
    with _sqlite_turn:
        yield


class _Waiter(Generic[T, R]):
    __slots__ = ("done", "error", "item", "lead", "result", "written")

    def __init__(self, item: T) -> None:
        self.item = item
        # Only a request that waits needs something to wait on; a leader alone never does.
        self.done: threading.Event | None = None
        self.lead = False
        self.written = False
        self.result: R | None = None
        self.error: BaseException | None = None


_writers: weakref.WeakSet[GroupCommit[object, object]] = weakref.WeakSet()
_batches = [0]


def batches_written() -> int:
    """Batches committed by every writer of this process so far (a transaction each)."""
    return _batches[0]


class GroupCommit(Generic[T, R]):
    """One process's writer for one kind of item (see the module's description)."""

    def __init__(self, write: Write[T, R], *, name: str) -> None:
        self._write = write
        self.name = name
        self._reset()
        _writers.add(self)  # type: ignore[arg-type]

    def _reset(self) -> None:
        self._lock = threading.Lock()
        self._queue: deque[_Waiter[T, R]] = deque()
        self._leading = False

    def waiting(self) -> int:
        """Requests queued for the next batch (not those of the batch being written)."""
        return len(self._queue)

    def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is waiting; its result once committed. Raises
        :class:`NotCommitted` if it was not (or may not have been) committed. Call it holding no
        transaction: the batch is written in a transaction of its own."""
        waiter: _Waiter[T, R] = _Waiter(item)
        with self._lock:
            if len(self._queue) >= config.LOG_QUEUE_MAX.read():
                raise NotCommitted(_("Too many requests are waiting for the log to be written; try again shortly."))
            self._queue.append(waiter)
            if not self._leading:
                self._leading = waiter.lead = True
            else:
                waiter.done = threading.Event()
        if not waiter.lead:
            self._wait(waiter)
        if waiter.lead:
            self._lead()
        if waiter.error is not None:
            if isinstance(waiter.error, NotCommitted):
                raise waiter.error
            raise NotCommitted(_("The log could not be written, so nothing was released.")) from waiter.error
        return waiter.result  # type: ignore[return-value]

    def _wait(self, waiter: _Waiter[T, R]) -> None:
        assert waiter.done is not None
        if waiter.done.wait(config.LOG_WAIT_S.read()):
            return
        with self._lock:
            if waiter.done.is_set():
                return  # released, or given the lead, just now
            try:
                self._queue.remove(waiter)
            except ValueError:
                queued = False  # in the batch being written: it may yet commit, unacknowledged
            else:
                queued = True
        logger.error("a %s entry was not confirmed in time (still queued: %s)", self.name, queued)
        waiter.error = NotCommitted(_("The log was not written in time, so nothing was released."))

    def _lead(self) -> None:
        with self._lock:
            batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
        after: list[Callable[[], object]] = []
        try:
            self._write_batch(batch, after)
        finally:
            for waiter in batch:
                if not waiter.written and waiter.error is None:
                    waiter.error = NotCommitted(_("The log writer stopped before the entry was written."))
                if waiter.done is not None:
                    waiter.done.set()
            with self._lock:
                if self._queue:
                    following = self._queue[0]
                    following.lead = True
                    assert following.done is not None
                    following.done.set()
                else:
                    self._leading = False
        for job in after:  # after everyone is released: only the leader waits for these
            try:
                job()
            except Exception:
                logger.exception("work after a %s commit failed", self.name)

    def _write_batch(self, batch: list[_Waiter[T, R]], after: list[Callable[[], object]]) -> None:
        for waiter, (result, error) in zip(
            batch, commit_batch(self._commit, [w.item for w in batch], after, name=self.name), strict=True
        ):
            if error is None:
                waiter.result, waiter.written = result, True
            else:
                waiter.error = error

    def _commit(self, items: Sequence[T], after: list[Callable[[], object]]) -> Sequence[R]:
        return commit(self._write, items, after)


def commit(write: Write[T, R], items: Sequence[T], after: list[Callable[[], object]]) -> Sequence[R]:
    """Write ``items`` with ``write`` in one transaction of their own, committed on return; the work
    to do after the commit is added to ``after``."""
    jobs: list[Callable[[], object]] = []
    with write_turn(), transaction.atomic():
        results = write(items, jobs.append)
    _batches[0] += 1
    after.extend(jobs)
    return results


Commit = Callable[[Sequence[T], list[Callable[[], object]]], Sequence[R]]


def commit_batch(
    transact: Commit[T, R], items: Sequence[T], after: list[Callable[[], object]], *, name: str
) -> list[tuple[R | None, BaseException | None]]:
    """Write ``items`` in one transaction (``transact``); per item, its result or the error that kept
    it out. If the batch fails, each item is written again alone, so one item the database refuses
    fails alone."""
    try:
        results = transact(items, after)
    except Exception as error:
        if len(items) == 1:
            return [(None, error)]
        logger.warning("a batch of %d %s entries failed (%s); writing each alone", len(items), name, error)
        outcome: list[tuple[R | None, BaseException | None]] = []
        for item in items:
            try:
                (result,) = transact([item], after)
                outcome.append((result, None))
            except Exception as alone:
                outcome.append((None, alone))
        return outcome
    return [(result, None) for result in results]


class ThreadWriter(Generic[T, R]):
    """The group writer of the asynchronous gateway, whose event loop may not wait on the database
    (and in which Django refuses to use it): a thread of its own takes everything queued at that
    moment, writes it with the same ``write`` function and the same retry-each-alone rule as
    :class:`GroupCommit` (:func:`commit_batch`), and only after the commit resolves the waiting
    futures, with one ``call_soon_threadsafe`` per batch and event loop, not one per request.
    The same bounds apply: ``GOV21_LOG_QUEUE_MAX`` queued items, ``GOV21_LOG_WAIT_S`` of waiting."""

    def __init__(self, write: Write[T, R], *, name: str) -> None:
        self._write = write
        self.name = name
        self._cond = threading.Condition()
        self._queue: deque[tuple[T, asyncio.Future[R], asyncio.AbstractEventLoop]] = deque()
        self._thread: threading.Thread | None = None

    def waiting(self) -> int:
        return len(self._queue)

    async def submit(self, item: T) -> R:
        """Write ``item`` with whatever else is queued; its result once committed. Raises
        :class:`NotCommitted` if it was not (or may not have been) committed."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        with self._cond:
            if len(self._queue) >= config.LOG_QUEUE_MAX.read():
                raise NotCommitted(_("Too many requests are waiting for the log to be written; try again shortly."))
            self._queue.append((item, future, loop))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name=f"gov21-{self.name}-writer", daemon=True)
                self._thread.start()
            self._cond.notify()
        try:
            # Shielded: a caller that gives up leaves the batch alone, whose outcome nobody awaits.
            return await asyncio.wait_for(asyncio.shield(future), config.LOG_WAIT_S.read())
        except TimeoutError:
            logger.error("a %s entry was not confirmed in time", self.name)
            raise NotCommitted(_("The log was not written in time, so nothing was released.")) from None
        except NotCommitted:
            raise
        except Exception as error:
            raise NotCommitted(_("The log could not be written, so nothing was released.")) from error

    def _commit(self, items: Sequence[T], after: list[Callable[[], object]]) -> Sequence[R]:
        return commit(self._write, items, after)

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    if not self._cond.wait(IDLE_CLOSE_S) and not self._queue:
                        # Idle: give the connection back (a database being dropped or failed over
                        # waits for nobody's idle session).
                        connections.close_all()
                batch = [self._queue.popleft() for _ in range(min(len(self._queue), MAX_BATCH))]
            after: list[Callable[[], object]] = []
            outcome: list[tuple[R | None, BaseException | None]]
            try:
                # What Django does around a request: a connection broken meanwhile is replaced.
                close_old_connections()
                outcome = commit_batch(self._commit, [item for item, _f, _l in batch], after, name=self.name)
            except BaseException as failure:  # nothing may be left waiting for a batch that failed
                outcome = [(None, failure)] * len(batch)
            by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[R], R | None, BaseException | None]]]
            by_loop = {}
            for (_item, future, loop), (result, error) in zip(batch, outcome, strict=True):
                by_loop.setdefault(loop, []).append((future, result, error))
            for loop, settled in by_loop.items():
                with contextlib.suppress(RuntimeError):  # a loop closed meanwhile: nobody waits
                    loop.call_soon_threadsafe(_settle, settled)
            for job in after:
                try:
                    job()
                except Exception:
                    logger.exception("work after a %s commit failed", self.name)


def _settle(settled: list[tuple[asyncio.Future[R], R | None, BaseException | None]]) -> None:
    for future, result, error in settled:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)  # type: ignore[arg-type]


def _after_fork() -> None:
    # A child process starts with nobody writing, whatever a thread of its parent was doing.
    global _sqlite_turn
    _sqlite_turn = threading.Lock()
    for writer in list(_writers):
        writer._reset()


os.register_at_fork(after_in_child=_after_fork)
