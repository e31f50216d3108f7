"""The API store's write transaction (bot.store.api_base) on a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SQLiteStore
from tests.test_store_sqlite import T0, inbound, key_for, query, session_for


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "textdesk.db")
    await s.open()
    try:
        yield s
    finally:
        await s.close()


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
