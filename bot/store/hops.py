"""Group commit: many turns' reads and writes in one trip to SQLite's thread.

aiosqlite runs every statement on its own worker thread; each ``await`` on it
is a round trip (a queue put, a thread wake-up, a ``call_soon_threadsafe``
back), and on one core that hand-off costs more than the statements
themselves. A turn used to make six of them (one read, then BEGIN, INSERT,
INSERT replies, UPSERT session, COMMIT), and each turn was its own WAL
commit. Here every job is a plain function of the ``sqlite3`` connection, and
all the jobs submitted while the previous trip was in flight go together:

- the writes run in **one** transaction (``BEGIN IMMEDIATE`` ... ``COMMIT``),
  and every waiter is answered only after that COMMIT returned: a turn is
  acknowledged exactly when it is durable, as before, so crash safety and
  exactly-once are unchanged (a crash before COMMIT loses the whole batch,
  none of which was acknowledged, and the carriers retry it);
- if any write fails, the batch is rolled back and its writes are retried one
  transaction each in the same trip, so one bad turn (or a full disk hitting
  one of them) fails only itself;
- the reads run after the COMMIT, so they see every committed turn, and
  under the same write lock even in a trip without writes: never inside
  another writer's open transaction, whose rows they would otherwise see.
  Every other read of the store goes the same way (``fetch``): an outbox
  pass that read a reply an API transaction then rolled back would send it.

Under no load a batch is one job and nothing waits for company: the first
job starts a drain task at once, and batches grow only while a trip is in
flight. Before each trip the drain lets the event loop run once, so the turns
the previous trip answered (their read done, their write next) join this
trip instead of waiting a whole trip for the next one. Ordering per
conversation still comes from the service's conversation lock: the next turn
of a conversation is submitted only after the previous one's write was
acknowledged.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import aiosqlite

from bot.store.base import StoreError

__all__ = ["Hops", "run_on_thread"]

T = TypeVar("T")
Job = Callable[[sqlite3.Connection], Any]
_Pending = list[tuple[Job, "asyncio.Future[Any]"]]


async def run_on_thread(db: aiosqlite.Connection, job: Callable[[sqlite3.Connection], T]) -> T:
    """Run ``job(connection)`` on aiosqlite's worker thread, in one round trip.

    aiosqlite has no public call for "run this function on your thread";
    ``Connection._execute`` is what all its public methods use, unchanged
    since 0.17. It is used here and nowhere else, and
    ``tests/test_store_hops.py`` fails if a new aiosqlite changes it.
    """
    return await db._execute(lambda: job(db._conn))  # type: ignore[no-any-return,no-untyped-call]


class Hops:
    """Batches jobs for one aiosqlite connection; writes share a transaction."""

    def __init__(self, db: Callable[[], aiosqlite.Connection], write_lock: asyncio.Lock) -> None:
        self._db = db  # a getter: raises StoreError once the store is closed
        self._write_lock = write_lock
        self._reads: _Pending = []
        self._writes: _Pending = []
        self._drain_task: asyncio.Task[None] | None = None
        # Write transactions and the turn writes they carried (/metrics).
        self.batches = 0
        self.batched_writes = 0

    def read(self, job: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run ``job`` outside any transaction, with the next trip."""
        return self._submit(self._reads, job)

    def fetch(self, sql: str, params: Sequence[object] = ()) -> asyncio.Future[list[Any]]:
        """The rows of one query, read with the next trip (under the write lock, as every read)."""
        return self._submit(self._reads, lambda conn: conn.execute(sql, params).fetchall())

    def write(self, job: Callable[[sqlite3.Connection], T]) -> asyncio.Future[T]:
        """Run ``job`` in the next group transaction; resolves after its COMMIT."""
        return self._submit(self._writes, job)

    def _submit(self, queue: _Pending, job: Job) -> asyncio.Future[Any]:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        queue.append((job, future))
        if self._drain_task is None:
            self._drain_task = loop.create_task(self._drain())
        return future

    async def drain(self) -> None:
        """Wait until every job submitted so far has run (used by ``close``)."""
        while self._drain_task is not None:
            task = self._drain_task
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                if not task.cancelled():
                    raise  # the caller itself was cancelled
                # The drain task was (loop shutdown): it failed what it held.

    async def _drain(self) -> None:
        try:
            while self._reads or self._writes:
                # One pass of the event loop first: the turns the last trip
                # answered run now and add their next job to this trip.
                await asyncio.sleep(0)
                reads, self._reads = _live(self._reads), []
                writes, self._writes = _live(self._writes), []
                if reads or writes:
                    await self._trip(reads, writes)
        except BaseException:
            # Cancelled (the loop is shutting down): no task is left to run
            # what is still queued, so its callers get an answer, not a hang.
            # What is already on SQLite's thread still commits or rolls back
            # whole; a carrier's retry then finds it claimed, or not.
            queued, self._reads, self._writes = self._reads + self._writes, [], []
            for _, future in queued:
                _settle(future, False, StoreError("the store is shutting down"))
            raise
        finally:
            self._drain_task = None

    async def _trip(self, reads: _Pending, writes: _Pending) -> None:
        read_jobs = [job for job, _ in reads]
        try:
            db = self._db()
            # Other writers (outbox, API) run multi-statement transactions on
            # the same connection, awaiting each statement: never interleave
            # with them, not even to read. A read inside one would see its
            # uncommitted rows (a session an API start then rolls back), and
            # the turn would answer from them and write them back for good.
            async with self._write_lock:
                if writes:
                    write_results, read_results = await run_on_thread(
                        db, lambda conn: (_run_writes(conn, writes), _run_reads(conn, read_jobs))
                    )
                else:
                    write_results, read_results = [], await run_on_thread(
                        db, lambda conn: _run_reads(conn, read_jobs)
                    )
        except BaseException as exc:
            error = exc if isinstance(exc, StoreError) else StoreError(f"database unavailable: {exc}")
            for _, future in writes + reads:
                _settle(future, False, error)
            if isinstance(exc, asyncio.CancelledError):
                raise
            return
        if writes:
            self.batches += 1
            self.batched_writes += len(writes)
        for (_, future), (ok, value) in zip(writes + reads, write_results + read_results, strict=True):
            _settle(future, ok, value)


def _live(pending: _Pending) -> _Pending:
    """Jobs whose callers still wait: a turn given up before it ran never runs."""
    return [(job, future) for job, future in pending if not future.done()]


def _settle(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    if future.done():
        return
    if ok:
        future.set_result(value)
    elif isinstance(value, sqlite3.Error):
        future.set_exception(StoreError(str(value)))
    else:
        future.set_exception(value)


# --- on aiosqlite's thread -------------------------------------------------------------------


def _run_writes(conn: sqlite3.Connection, jobs: list[tuple[Job, asyncio.Future[Any]]]) -> list[tuple[bool, Any]]:
    """Every job in one transaction; on any failure, each in its own."""
    try:
        conn.execute("BEGIN IMMEDIATE")
    except Exception as exc:
        # No job ran, so none is to blame: the lock was not had within
        # busy_timeout (another process holds it) or the file is gone. Each
        # job in a transaction of its own would wait busy_timeout again, one
        # after the other (50 turns: minutes) with every store call queued
        # behind them on this thread: all fail now, and carriers retry.
        _rollback(conn)  # "within a transaction": whatever left one open, the next batch starts clean
        return [(False, exc)] * len(jobs)
    try:
        # A waiter cancelled while BEGIN waited for the lock is skipped (best
        # effort: reading a future's state from this thread is only a read).
        results = [(False, None) if future.cancelled() else (True, job(conn)) for job, future in jobs]
        conn.execute("COMMIT")
        return results
    except Exception as exc:
        _rollback(conn)
        if len(jobs) == 1:
            return [(False, exc)]
    return [(False, None) if future.cancelled() else _one_transaction(conn, job) for job, future in jobs]


def _one_transaction(conn: sqlite3.Connection, job: Job) -> tuple[bool, Any]:
    try:
        conn.execute("BEGIN IMMEDIATE")
        result = job(conn)
        conn.execute("COMMIT")
        return True, result
    except Exception as exc:
        _rollback(conn)
        return False, exc


def _rollback(conn: sqlite3.Connection) -> None:
    # Some errors (SQLITE_FULL, SQLITE_IOERR) already rolled back; ROLLBACK
    # outside a transaction would raise.
    if conn.in_transaction:
        conn.rollback()


def _run_reads(conn: sqlite3.Connection, jobs: list[Job]) -> list[tuple[bool, Any]]:
    results: list[tuple[bool, Any]] = []
    for job in jobs:
        try:
            results.append((True, job(conn)))
        except Exception as exc:
            results.append((False, exc))
    return results
