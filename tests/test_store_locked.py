"""The store when another process holds the write lock past ``busy_timeout``
(the server and a ``textdesk`` command on one file): every waiting turn gets a
``StoreError`` (503, carriers retry) within about one ``busy_timeout``, never
one timeout per turn. Real SQLite files, no mocks.
"""

from __future__ import annotations

import asyncio
import sqlite3
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SQLiteStore, StoreError
from bot.types import Reply
from tests.test_store_sqlite import T0, inbound, key_for, session_for

TIMEOUT_MS = 200


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SQLiteStore]:
    s = SQLiteStore(tmp_path / "textdesk.db")
    await s.open()
    # The production timeout is 5 s; the behaviour is the same, the test shorter.
    await s.db.execute(f"PRAGMA busy_timeout={TIMEOUT_MS}")
    try:
        yield s
    finally:
        await s.close()


async def test_a_batch_that_cannot_get_the_lock_fails_at_once_not_turn_by_turn(
    store: SQLiteStore, tmp_path: Path
) -> None:
    other = sqlite3.connect(tmp_path / "textdesk.db", isolation_level=None, check_same_thread=False)
    try:
        other.execute("BEGIN IMMEDIATE")  # e.g. `textdesk subscribers add` mid-transaction
        turns = 20
        started = time.perf_counter()
        results = await asyncio.gather(
            *(
                store.commit_turn(inbound(f"SM{i}", key_for(f"+1555700{i:04d}")), session_for(), (Reply("hi"),), "", T0)
                for i in range(turns)
            ),
            return_exceptions=True,
        )
        waited = time.perf_counter() - started
        assert all(isinstance(r, StoreError) and "locked" in str(r) for r in results), results
        # Was: the batch's BEGIN timed out, then each turn's own BEGIN did too (20 x 200 ms).
        assert waited < 5 * TIMEOUT_MS / 1000, waited
    finally:
        other.execute("ROLLBACK")
        other.close()
    # The lock released, the next turn goes through.
    assert await store.commit_turn(inbound("SMnext"), session_for(), (), "", T0)


async def test_a_database_folder_that_cannot_be_made_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "data").write_text("a file where the folder should be")
    store = SQLiteStore(tmp_path / "data" / "textdesk.db")
    with pytest.raises(StoreError, match=r"cannot open database .*data/textdesk.db: File exists"):
        await store.open()  # was: FileExistsError, past callers that expect StoreError
    await store.close()
