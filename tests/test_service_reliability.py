"""The service's promises when a turn does not complete: a store that cannot
write (503, the carrier retries) or a handler cancelled mid-turn (the client
gone). Real service, real flows, a real SQLite file, a virtual clock; the
interleavings are driven by holding SQLite's write lock from another
connection and by cancelling tasks, never by sleeping.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.clock import VirtualClock
from bot.flood import FloodGate
from bot.flows import load_flows
from bot.service import ConversationService
from bot.store import SQLiteStore, StoreError
from bot.types import InboundMessage
from tests.conftest import FLOWS

BUSINESS = "+15555550100"
CUSTOMER = "+15550006001"


def text(sid: str, body: str = "what are your hours?", customer: str = CUSTOMER) -> InboundMessage:
    return InboundMessage("twilio", sid, customer, BUSINESS, body)


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "textdesk.db")
    await s.open()
    await s.db.execute("PRAGMA busy_timeout=50")  # the production 5 s, shortened
    try:
        yield s
    finally:
        await s.close()


def service(store: SQLiteStore, burst: int) -> ConversationService:
    return ConversationService(load_flows(FLOWS), store, VirtualClock(), flood=FloodGate(burst=burst, window=10.0))


def rows(path: str, sql: str) -> list[tuple[object, ...]]:
    with sqlite3.connect(path) as conn:
        return conn.execute(sql).fetchall()


async def test_a_message_the_store_could_not_record_is_not_charged_to_the_flood_limit(store: SQLiteStore) -> None:
    # The carrier retries a message answered 503; the retry is the same message,
    # not one more of a burst. Charged twice, the retry of the customer's only
    # message was "throttled" (claimed, never answered, and every later retry
    # got that stored silence).
    svc = service(store, burst=1)
    other = sqlite3.connect(store.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process mid-transaction
        with pytest.raises(StoreError):
            await svc.handle(text("SM1"))
    finally:
        other.execute("ROLLBACK")
        other.close()
    retried = await svc.handle(text("SM1"))
    assert retried.kind == "flow" and retried.replies, retried
    assert rows(store.path, "SELECT provider_id, kind FROM inbound") == [("SM1", "flow")]
    assert len(svc.locks) == 0


async def test_a_turn_cancelled_before_its_write_is_not_charged_and_its_retry_is_answered_once(
    store: SQLiteStore,
) -> None:
    svc = service(store, burst=1)
    handler = asyncio.ensure_future(svc.handle(text("SM2")))
    # Let it read and decide; its write then waits for the trip, which waits for
    # the write lock this test takes as soon as the write is queued.
    while not store.hops._writes:
        await asyncio.sleep(0)
    async with store._write_lock:
        handler.cancel()  # the client went away mid-turn
        with pytest.raises(asyncio.CancelledError):
            await handler
        assert len(svc.locks) == 0  # the conversation lock was released
    retried = await svc.handle(text("SM2"))
    assert retried.kind == "flow" and retried.replies and not retried.duplicate
    again = await svc.handle(text("SM2"))
    assert again.duplicate and again.replies == retried.replies
    assert rows(store.path, "SELECT provider_id, kind FROM inbound") == [("SM2", "flow")]


async def test_the_same_message_handled_by_two_servers_at_once_is_answered_once(
    store: SQLiteStore, tmp_path: Path
) -> None:
    # Two servers on one file (a deploy starting the new one before the old has
    # stopped) both get the carrier's retry of one message. Both read it
    # unclaimed; only one claim can win. The other must answer as for a retry
    # (the stored replies), never with replies of its own that nothing recorded.
    second = SQLiteStore(store.path)
    await second.open()
    try:
        await store.db.execute("PRAGMA busy_timeout=5000")
        one, two = service(store, burst=10), service(second, burst=10)
        other = sqlite3.connect(store.path, isolation_level=None)
        try:
            other.execute("BEGIN IMMEDIATE")  # neither write can commit before both have read
            first = asyncio.ensure_future(one.handle(text("SM3", "hi")))
            then = asyncio.ensure_future(two.handle(text("SM3", "hi")))
            read = {id(store): False, id(second): False}
            while not all(read.values()):
                for s in (store, second):
                    read[id(s)] |= bool(s.hops._writes)  # past its read: its write is queued
                await asyncio.sleep(0)
        finally:
            other.execute("ROLLBACK")
            other.close()
        a, b = await first, await then
    finally:
        await second.close()
    assert sorted([a.duplicate, b.duplicate]) == [False, True]
    fresh, duplicate = (a, b) if b.duplicate else (b, a)
    assert duplicate.replies == fresh.replies
    stored = rows(store.path, "SELECT count(*) FROM outbound")
    assert stored == [(len(fresh.replies),)]


async def test_one_customers_burst_keeps_its_order_when_one_message_is_given_up(store: SQLiteStore) -> None:
    svc = service(store, burst=100)
    bodies = ["hi", "1", "what are your hours?", "2", "do you ship to canada?"]
    tasks = [asyncio.ensure_future(svc.handle(text(f"SM-{n}", body))) for n, body in enumerate(bodies)]
    await asyncio.sleep(0)  # each has taken its place at the conversation lock, in order
    assert len(svc.locks) == 1
    tasks[2].cancel()  # its client went away while it waited its turn
    results = await asyncio.gather(*tasks, return_exceptions=True)
    assert isinstance(results[2], asyncio.CancelledError)
    assert all(not isinstance(r, BaseException) and r.replies for i, r in enumerate(results) if i != 2)
    assert len(svc.locks) == 0
    # Recorded in arrival order, the given-up one not at all; its retry comes last.
    assert rows(store.path, "SELECT provider_id FROM inbound ORDER BY rowid") == [
        ("SM-0",), ("SM-1",), ("SM-3",), ("SM-4",)
    ]
    retried = await svc.handle(text("SM-2", bodies[2]))
    assert retried.replies and not retried.duplicate
    assert rows(store.path, "SELECT provider_id FROM inbound ORDER BY rowid")[-1] == ("SM-2",)
