"""Creating a broadcast on a real SQLite file: recipients go in bounded chunks, each its
own transaction, so webhooks' turns get the write lock in between; the broadcast stays
``preparing`` (invisible to the feeder) until its last recipient is in, and a retry with
the same Idempotency-Key finishes one that a crash or failure left half-written."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SQLiteStore
from bot.store.outreach import ABANDONED_AFTER, KEYED_ABANDONED_AFTER
from bot.store.records import Broadcast
from tests.test_store_sqlite import T0, count, inbound, key_for, query, session_for

CHUNK = 50
NUMBERS = [f"+1555300{i:04d}" for i in range(2 * CHUNK + 7)]  # three chunks


def spec(broadcast_id: str = "bc_0000000000000001", numbers: list[str] = NUMBERS) -> Broadcast:
    return Broadcast(broadcast_id, "twilio", "+15555550100", "shop", T0, text="Sale",
                     recipients=Broadcast.digest(numbers))


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "textdesk.db"


@pytest.fixture
async def store(db_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(db_path)
    await s.open()
    s.broadcast_chunk = CHUNK
    try:
        yield s
    finally:
        await s.close()


async def _partly_created(store: SQLiteStore, key: str) -> asyncio.Future[Broadcast]:
    """A creation cut short after its first chunk (as by a crash or a failed write)."""
    creating = asyncio.ensure_future(store.create_broadcast(spec(), NUMBERS, key))
    await asyncio.sleep(0)  # it holds the write lock, writing its first chunk
    turn = store.commit_turn(inbound("T1"), session_for(key_for()), (), "", T0)
    assert await turn  # a webhook's turn got in after the first chunk ...
    assert not creating.done()  # ... while the broadcast was still being written
    creating.cancel()
    with pytest.raises(asyncio.CancelledError):
        await creating
    return creating


async def test_turns_get_the_write_lock_between_a_large_broadcasts_chunks(store: SQLiteStore, db_path: Path) -> None:
    creating = asyncio.ensure_future(store.create_broadcast(spec(), NUMBERS))
    await asyncio.sleep(0)  # the broadcast holds the write lock
    assert await store.commit_turn(inbound("T1"), session_for(key_for()), (), "", T0)
    assert not creating.done()  # the turn did not wait for every recipient
    created = await creating
    assert created.id == spec().id and created.ready
    assert count(db_path, "broadcast_recipients") == len(NUMBERS)
    assert await store.unfinished_broadcasts() == [created.id]
    assert await store.pending_recipients(created.id, 3) == NUMBERS[:3]  # list order kept across chunks


async def test_a_half_written_broadcast_is_never_fed_and_a_retry_with_its_key_finishes_it(
    store: SQLiteStore, db_path: Path
) -> None:
    await _partly_created(store, "spring-1")
    written = query(db_path, "SELECT count(*) FROM broadcast_recipients")[0][0]
    assert 0 < written < len(NUMBERS)
    assert await store.unfinished_broadcasts() == []  # the feeder sends nothing of it
    partial = await store.broadcast(spec().id)
    assert partial is not None and not partial.ready
    # The client never got an answer and retries with the same key: the same broadcast, complete.
    retried = await store.create_broadcast(spec("bc_0000000000000002"), NUMBERS, "spring-1")
    assert (retried.id, retried.ready) == (spec().id, True)
    assert count(db_path, "broadcasts") == 1 and count(db_path, "broadcast_recipients") == len(NUMBERS)
    assert await store.unfinished_broadcasts() == [spec().id]


async def test_a_retry_for_other_numbers_does_not_finish_a_half_written_broadcast(
    store: SQLiteStore, db_path: Path
) -> None:
    await _partly_created(store, "spring-2")
    written = count(db_path, "broadcast_recipients")
    others = [f"+1555400{i:04d}" for i in range(len(NUMBERS))]
    found = await store.create_broadcast(spec("bc_0000000000000002", others), others, "spring-2")
    assert (found.id, found.ready) == (spec().id, False)  # the API refuses it as the key reused
    assert count(db_path, "broadcast_recipients") == written
    assert query(db_path, "SELECT count(*) FROM broadcast_recipients WHERE customer LIKE '+1555400%'") == [(0,)]


async def test_a_small_broadcast_is_one_transaction_and_ready_at_once(store: SQLiteStore, db_path: Path) -> None:
    created = await store.create_broadcast(spec(numbers=NUMBERS[:CHUNK]), NUMBERS[:CHUNK])
    assert created.ready and count(db_path, "broadcast_recipients") == CHUNK


# -- broadcasts a failure left half-written are swept once they are old enough --------


async def test_a_half_written_broadcast_without_a_key_is_swept_once_old_enough(
    store: SQLiteStore, db_path: Path
) -> None:
    # Without an Idempotency-Key nothing can ever finish it (nobody knows its id: the
    # client got an error): it would stay "preparing", with its recipients, forever.
    await _partly_created(store, "")
    done = await store.create_broadcast(spec("bc_0000000000000002"), NUMBERS[:3])  # a ready one, same age
    assert 0 < count(db_path, "broadcast_recipients") < len(NUMBERS) + 3
    assert await store.sweep_abandoned_broadcasts(T0 + ABANDONED_AFTER - 1) == 0  # too young: kept
    assert count(db_path, "broadcasts") == 2
    assert await store.sweep_abandoned_broadcasts(T0 + ABANDONED_AFTER) == 1
    assert query(db_path, "SELECT id FROM broadcasts") == [(done.id,)]
    assert query(db_path, "SELECT DISTINCT broadcast_id FROM broadcast_recipients") == [(done.id,)]
    assert count(db_path, "broadcast_recipients") == 3
    assert await store.broadcast(spec().id) is None
    assert await store.sweep_abandoned_broadcasts(T0 + 10 * ABANDONED_AFTER) == 0  # a ready one is never swept


async def test_a_half_written_broadcast_with_a_key_waits_a_day_for_its_retry(store: SQLiteStore, db_path: Path) -> None:
    await _partly_created(store, "spring-3")
    assert await store.sweep_abandoned_broadcasts(T0 + ABANDONED_AFTER) == 0  # a retry can still finish it
    assert await store.sweep_abandoned_broadcasts(T0 + KEYED_ABANDONED_AFTER) == 1
    assert count(db_path, "broadcasts") == 0 and count(db_path, "broadcast_recipients") == 0
    # A retry after that creates the broadcast anew (nothing of the first was ever sent).
    again = await store.create_broadcast(spec("bc_0000000000000003"), NUMBERS, "spring-3")
    assert (again.id, again.ready) == ("bc_0000000000000003", True)
    assert count(db_path, "broadcast_recipients") == len(NUMBERS)


async def test_a_broadcast_still_being_written_is_never_swept_however_old(store: SQLiteStore, db_path: Path) -> None:
    creating = asyncio.ensure_future(store.create_broadcast(spec(), NUMBERS))
    await asyncio.sleep(0)  # it holds the write lock, writing its first chunk
    # The sweep waits for the lock and gets it between two chunks, with a clock far ahead
    # (a slow disk, a clock jump): the broadcast is preparing, old, and still being written.
    assert await store.sweep_abandoned_broadcasts(T0 + 100 * KEYED_ABANDONED_AFTER) == 0
    assert not creating.done()
    created = await creating
    assert created.ready and count(db_path, "broadcast_recipients") == len(NUMBERS)
    assert await store.unfinished_broadcasts() == [created.id]


async def test_a_retry_finishing_a_half_written_broadcast_is_never_swept(store: SQLiteStore, db_path: Path) -> None:
    await _partly_created(store, "spring-4")
    finishing = asyncio.ensure_future(store.create_broadcast(spec("bc_0000000000000002"), NUMBERS, "spring-4"))
    await asyncio.sleep(0)
    assert await store.sweep_abandoned_broadcasts(T0 + 100 * KEYED_ABANDONED_AFTER) == 0
    assert not finishing.done()
    finished = await finishing
    assert (finished.id, finished.ready) == (spec().id, True)
    assert count(db_path, "broadcast_recipients") == len(NUMBERS)


async def test_a_large_abandoned_broadcast_is_deleted_in_chunks(store: SQLiteStore, db_path: Path) -> None:
    await _partly_created(store, "")
    store.broadcast_chunk = 7  # its recipients go 7 per transaction
    sweeping = asyncio.ensure_future(store.sweep_abandoned_broadcasts(T0 + ABANDONED_AFTER))
    await asyncio.sleep(0)
    assert await store.commit_turn(inbound("T2"), session_for(key_for()), (), "", T0)
    assert not sweeping.done()  # a webhook's turn got in between
    assert await sweeping == 1
    assert count(db_path, "broadcasts") == 0 and count(db_path, "broadcast_recipients") == 0
