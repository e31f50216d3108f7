"""Tests for bot.store.hops: group commit on a real SQLite file.

Checked from outside with a second ``sqlite3`` connection (WAL lets it read
while the store is open), so "acknowledged" can be compared with "in the
file" at the moment each waiter is answered.
"""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.store import SQLiteStore, StoreError
from bot.store.base import TurnState
from bot.store.hops import run_on_thread
from bot.store.turns import UPSERT_SESSION, session_row
from bot.types import Reply
from tests.test_store_sqlite import T0, count, count_where, inbound, key_for, query, session_for


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "textdesk.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(db_path)
    await s.open()
    try:
        yield s
    finally:
        await s.close()


async def test_run_on_thread_uses_aiosqlites_own_thread_and_connection(store: SQLiteStore) -> None:
    # Guards the one private aiosqlite call: if an upgrade changes it, this fails.
    seen: list[tuple[int, sqlite3.Connection]] = []

    def job(conn: sqlite3.Connection) -> int:
        seen.append((threading.get_ident(), conn))
        return int(conn.execute("SELECT 41 + 1").fetchone()[0])

    assert await run_on_thread(store.db, job) == 42
    ((ident, conn),) = seen
    assert ident != threading.get_ident()
    # The same connection aiosqlite itself uses: a transaction opened through
    # the public API is visible to the job.
    await store.db.execute("BEGIN")
    try:
        assert await run_on_thread(store.db, lambda c: c.in_transaction) is True
    finally:
        await store.db.execute("ROLLBACK")
    assert conn is store.db._conn


async def test_concurrent_turns_share_transactions_and_each_is_durable_when_acknowledged(
    store: SQLiteStore, db_path: Path
) -> None:
    turns = 60
    keys = [key_for(f"+1555200{i:04d}") for i in range(turns)]
    in_file_when_acknowledged: list[int] = []

    async def turn(i: int) -> None:
        ok = await store.commit_turn(inbound(f"SM{i}", keys[i]), session_for(keys[i], f"s{i}"), (Reply("a"),), "", T0)
        assert ok
        # Read by another connection at the moment of the acknowledgement.
        in_file_when_acknowledged.append(count_where(db_path, "inbound", "provider_id = ?", f"SM{i}"))

    await asyncio.gather(*(turn(i) for i in range(turns)))
    assert in_file_when_acknowledged == [1] * turns
    assert count(db_path, "inbound") == turns and count(db_path, "outbound") == turns
    # Grouped: far fewer trips than turns (all 60 were submitted before the first trip ran).
    assert store.hops.batched_writes == turns
    assert store.hops.batches < turns / 5


async def test_one_failing_write_fails_only_itself(store: SQLiteStore, db_path: Path) -> None:
    keys = [key_for(f"+1555300{i:04d}") for i in range(10)]

    def broken(conn: sqlite3.Connection) -> None:
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    good = [
        store.commit_turn(inbound(f"OK{i}", k), session_for(k, "fine"), (Reply("x"),), "", T0)
        for i, k in enumerate(keys)
    ]
    results = await asyncio.gather(*good[:5], store.hops.write(broken), *good[5:], return_exceptions=True)
    assert isinstance(results[5], StoreError) and "no_such_table" in str(results[5])
    assert results[:5] + results[6:] == [True] * 10
    assert count(db_path, "inbound") == 10
    assert count_where(db_path, "conversations", "state = ?", "fine") == 10
    assert not store.db.in_transaction


async def test_a_failed_commit_acknowledges_nothing_and_the_next_batch_works(store: SQLiteStore, db_path: Path) -> None:
    pages = int((await store.db.execute_fetchall("PRAGMA page_count"))[0][0])  # type: ignore[index]
    await store.db.execute(f"PRAGMA max_page_count = {pages}")
    big = "x" * 20_000  # each turn needs new pages: every write fails with "database or disk is full"
    keys = [key_for(f"+1555400{i:04d}") for i in range(8)]
    results = await asyncio.gather(
        *(
            store.commit_turn(inbound(f"F{i}", k, big), session_for(k), (Reply(big),), "", T0)
            for i, k in enumerate(keys)
        ),
        return_exceptions=True,
    )
    assert all(isinstance(r, StoreError) for r in results), results
    assert count(db_path, "inbound") == 0 and count(db_path, "conversations") == 0
    assert not store.db.in_transaction

    await store.db.execute("PRAGMA max_page_count = 1073741823")
    assert await store.commit_turn(inbound("F0", keys[0], big), session_for(keys[0]), (Reply(big),), "", T0)
    assert count(db_path, "inbound") == 1


async def test_a_turn_given_up_before_its_trip_is_never_written(store: SQLiteStore, db_path: Path) -> None:
    key = key_for()
    async with store._write_lock:  # hold the trip back, as a long outbox transaction would
        first = asyncio.ensure_future(store.commit_turn(inbound("A"), session_for(key, "a"), (), "", T0))
        await asyncio.sleep(0)
        given_up = asyncio.ensure_future(store.commit_turn(inbound("B"), session_for(key, "b"), (), "", T0))
        await asyncio.sleep(0)
        given_up.cancel()
    assert await first is True
    with pytest.raises(asyncio.CancelledError):
        await given_up
    await store.ping()
    assert query(db_path, "SELECT provider_id FROM inbound") == [("A",)]
    assert query(db_path, "SELECT state FROM conversations") == [("a",)]


async def test_reads_in_a_trip_with_writes_see_them_committed(store: SQLiteStore) -> None:
    key = key_for()
    write = store.commit_turn(inbound("W1", key), session_for(key, "after"), (Reply("r"),), "", T0)
    read = store.load_turn(inbound("W1", key))
    claimed, state = await asyncio.gather(write, read)
    assert claimed is True
    # Same trip: the read ran after the COMMIT, so it sees the claim and the session.
    assert store.hops.batches == 1
    assert state.processed is not None and [r.text for r in state.processed.replies] == ["r"]
    assert state.session is not None and state.session.state == "after"


async def test_close_finishes_submitted_turns_first(db_path: Path) -> None:
    s = SQLiteStore(db_path)
    await s.open()
    keys = [key_for(f"+1555500{i:04d}") for i in range(20)]
    pending = [
        asyncio.ensure_future(s.commit_turn(inbound(f"C{i}", k), session_for(k), (), "", T0))
        for i, k in enumerate(keys)
    ]
    await asyncio.sleep(0)  # submitted, not yet run
    await s.close()
    assert [await p for p in pending] == [True] * 20
    assert count(db_path, "inbound") == 20
    with pytest.raises(StoreError):
        await s.load_turn(inbound("late"))


async def test_a_cancelled_drain_answers_every_waiter_and_the_next_turn_works(
    store: SQLiteStore, db_path: Path
) -> None:
    keys = [key_for(f"+1555700{i:04d}") for i in range(3)]
    async with store._write_lock:  # the trip is held back at the lock, as behind an outbox transaction
        first = asyncio.ensure_future(store.commit_turn(inbound("X0", keys[0]), session_for(keys[0]), (), "", T0))
        await asyncio.sleep(0)
        queued = asyncio.ensure_future(store.commit_turn(inbound("X1", keys[1]), session_for(keys[1]), (), "", T0))
        await asyncio.sleep(0)
        assert store.hops._drain_task is not None
        store.hops._drain_task.cancel()  # as the loop's shutdown cancels every task
        await asyncio.sleep(0)
    for waiter in (first, queued):
        with pytest.raises(StoreError):
            await asyncio.wait_for(waiter, 5)  # an answer, never a hang
    assert store.hops._drain_task is None
    # Nothing was written, and the store goes on working.
    assert count(db_path, "inbound") == 0
    assert await store.commit_turn(inbound("X2", keys[2]), session_for(keys[2]), (), "", T0)
    assert count(db_path, "inbound") == 1


async def test_turns_answered_by_a_trip_join_the_next_one(store: SQLiteStore) -> None:
    # Two turns read together; while that trip is on SQLite's thread, a third
    # turn asks for its read. The two then write at once: their writes must go
    # with the third's read, not wait for a trip of that read alone.
    ran: list[str] = []
    first_trip_running, third_submitted = threading.Event(), threading.Event()

    def job(name: str) -> Callable[[sqlite3.Connection], None]:
        def run(conn: sqlite3.Connection) -> None:
            if name == "a read":
                first_trip_running.set()
                assert third_submitted.wait(10)  # hold the first trip until the third read is queued
            conn.execute("SELECT 1").fetchone()
            ran.append(name)

        return run

    async def turn(name: str) -> None:
        await store.hops.read(job(f"{name} read"))
        await store.hops.write(job(f"{name} write"))

    async def third() -> None:
        while not first_trip_running.is_set():
            await asyncio.sleep(0)
        queued = store.hops.read(job("c read"))
        third_submitted.set()
        await queued
        await store.hops.write(job("c write"))

    await asyncio.gather(turn("a"), turn("b"), third())
    assert ran[:2] == ["a read", "b read"]
    # Writes run first in a trip, then its reads.
    assert ran[2:5] == ["a write", "b write", "c read"]
    assert ran[5:] == ["c write"]


class _Abandoned(Exception):
    pass


async def test_a_turns_read_never_sees_another_writers_uncommitted_transaction(store: SQLiteStore) -> None:
    # The API's writes (a conversation started through /api, a broadcast chunk)
    # are transactions of several statements on the same connection, awaited one
    # by one. A turn's read must not run inside one: it would see a session that
    # a rollback (the API client gone, a failed statement) then takes back, and
    # the turn would answer from it and write it back for good.
    key = key_for()
    read: asyncio.Future[object] | None = None
    with pytest.raises(_Abandoned):
        async with store._transaction() as db:
            await db.execute(UPSERT_SESSION, session_row(session_for(key, "uncommitted")))
            read = asyncio.ensure_future(store.load_turn(inbound("R1", key)))
            for _ in range(3):
                await asyncio.sleep(0)  # the drain task takes the read to SQLite's thread, if it may
            await db.execute("SELECT 1")  # behind it in aiosqlite's queue: the read, if sent, ran
            raise _Abandoned
    assert read is not None
    state = await read
    assert isinstance(state, TurnState)
    assert state.session is None  # the rolled-back session was never seen
