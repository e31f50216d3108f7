"""The API store's write transaction (bot.store.api_base) on a real SQLite file."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.store import SQLiteStore
from bot.store.records import ConsentChange
from tests.test_store_sqlite import T0, inbound, key_for, query, session_for


async def test_a_write_cancelled_while_it_begins_leaves_no_transaction_open(
    store: SQLiteStore, tmp_path: Path
) -> None:
    # Cancelled while BEGIN IMMEDIATE is on SQLite's thread (a handler whose client went
    # away, a timeout): the BEGIN still runs there. Left open, that transaction made every
    # later write on the shared connection fail, webhooks' turns included.
    writing = asyncio.ensure_future(store.subscribe("deals", "+15550001111", "+15555550100", "api: form", T0))
    await asyncio.sleep(0)  # it holds the write lock and waits for its BEGIN
    writing.cancel()
    with pytest.raises(asyncio.CancelledError):
        await writing
    assert not store.db.in_transaction
    assert await store.subscribe("deals", "+15550002222", "+15555550100", "api: form", T0) == "subscribed"
    assert await store.commit_turn(inbound("T1"), session_for(key_for()), (), "", T0)
    assert query(tmp_path / "textdesk.db", "SELECT customer FROM subscriptions") == [("+15550002222",)]


CHUNK = 40
BUSINESS = "+15555550100"


def numbers(n: int, prefix: str = "+1555300") -> list[str]:
    return [f"{prefix}{i:04d}" for i in range(n)]


async def transactions_during(store: SQLiteStore, work: asyncio.Future[object]) -> int:
    """How many write transactions SQLite began while ``work`` ran (its statement trace)."""
    begun: list[str] = []
    await store.db.set_trace_callback(lambda sql: begun.append(sql) if sql.startswith("BEGIN") else None)
    try:
        await work
    finally:
        await store.db.set_trace_callback(None)
    return len(begun)


async def test_many_subscriptions_are_written_in_bounded_chunks_each_with_its_ledger_event(
    store: SQLiteStore, tmp_path: Path
) -> None:
    store.subscribe_chunk = CHUNK
    db = tmp_path / "textdesk.db"
    await store.record_consent(numbers(1)[0], BUSINESS, ConsentChange("opt_out", "keyword STOP"), T0)
    wanted = numbers(2 * CHUNK + 5)
    adding = asyncio.ensure_future(store.subscribe_many("deals", wanted, BUSINESS, "api: form", T0))
    await asyncio.sleep(0)  # it holds the write lock for its first chunk
    assert await store.commit_turn(inbound("T1"), session_for(key_for()), (), "", T0)
    assert not adding.done()  # a webhook's turn got in between the chunks
    outcomes = await adding
    assert outcomes == ["opted_out"] + ["subscribed"] * (len(wanted) - 1)
    # One ledger event per subscription, and the subscription points at it.
    assert query(db, "SELECT count(*) FROM subscriptions AS s JOIN consent_events AS e ON e.id = s.event_id "
                     "WHERE e.customer = s.customer AND e.event = 'subscribe' AND e.source = 'api: form (audience "
                     "deals)'") == [(len(wanted) - 1,)]
    assert query(db, "SELECT count(*) FROM consent_events WHERE event = 'subscribe'") == [(len(wanted) - 1,)]
    # Idempotent: again, nothing new is written.
    again = asyncio.ensure_future(store.subscribe_many("deals", wanted, BUSINESS, "api: form", T0 + 1))
    assert await transactions_during(store, again) == 3
    assert again.result() == ["opted_out"] + ["already"] * (len(wanted) - 1)
    assert query(db, "SELECT count(*) FROM consent_events WHERE event = 'subscribe'") == [(len(wanted) - 1,)]


async def test_ten_thousand_subscriptions_take_a_transaction_per_chunk_not_per_number(store: SQLiteStore) -> None:
    wanted = numbers(10_000)
    adding = asyncio.ensure_future(store.subscribe_many("deals", wanted, BUSINESS, "api: import", T0))
    began = await transactions_during(store, adding)
    assert began == -(-len(wanted) // store.subscribe_chunk) and 2 <= began <= 100
    assert set(adding.result()) == {"subscribed"}
    assert len(await store.subscribers("deals", BUSINESS, 20_000)) == len(wanted)


async def test_a_number_given_twice_is_subscribed_once(store: SQLiteStore, tmp_path: Path) -> None:
    store.subscribe_chunk = 2
    twice = ["+15550001111", "+15550002222", "+15550001111"]
    assert await store.subscribe_many("deals", twice, BUSINESS, "api: form", T0) == ["subscribed", "subscribed",
                                                                                       "already"]
    assert query(tmp_path / "textdesk.db", "SELECT count(*) FROM consent_events") == [(2,)]


async def test_unsubscribe_says_removed_not_subscribed_or_opted_out(store: SQLiteStore, tmp_path: Path) -> None:
    # Decided in the removal's own transaction: the API no longer reads consent
    # on the raw connection first (a STOP landing in between was missed).
    ann, bob, cy = "+15550001111", "+15550002222", "+15550003333"
    await store.subscribe_many("deals", [ann, bob], BUSINESS, "api: form", T0)
    await store.record_consent(bob, BUSINESS, ConsentChange("opt_out", "texted STOP"), T0 + 1)
    events = query(tmp_path / "textdesk.db", "SELECT count(*) FROM consent_events")
    assert await store.unsubscribe("deals", bob, BUSINESS, "api", T0 + 2) == "opted_out"
    assert await store.unsubscribe("deals", cy, BUSINESS, "api", T0 + 2) == "not_subscribed"
    assert query(tmp_path / "textdesk.db", "SELECT count(*) FROM consent_events") == events  # nothing written
    assert await store.unsubscribe("deals", ann, BUSINESS, "api", T0 + 2) == "removed"
    assert await store.unsubscribe("deals", ann, BUSINESS, "api", T0 + 3) == "not_subscribed"
