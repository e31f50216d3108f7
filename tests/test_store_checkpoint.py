"""WAL checkpoints in the background (bot/store/checkpoint.py) and the WAL's size on disk.

The writer never checkpoints in-line below ``SAFETY_PAGES``. These tests stop
the store's own background checkpointer (its timer is real time) and run one
``Checkpointer.checkpoint()`` step when they choose, then look at the files
SQLite leaves.
"""

from __future__ import annotations

import shutil
import sqlite3
import threading
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SQLiteStore
from bot.store.checkpoint import Checkpointer
from bot.types import InboundMessage, Reply

T0 = 1_800_000_000.0


def _message(n: int) -> InboundMessage:
    return InboundMessage(channel="twilio", provider_id=f"SM{n:032d}", customer=f"+1555{n % 500:07d}",
                          business="+15550000000", text=f"question {n} " + "x" * 600)


async def _turns(store: SQLiteStore, first: int, count: int) -> None:
    for n in range(first, first + count):
        assert await store.commit_turn(_message(n), None, (Reply("answer " + "y" * 600),), "", T0 + n)


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM inbound").fetchone()[0])
    except sqlite3.OperationalError:  # not even the schema was copied yet
        return 0
    finally:
        conn.close()


def _rows_in_main_file(db: Path, tmp_path: Path) -> int:
    """Inbound rows in the database file alone: what checkpoints copied out of the WAL."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(db, alone)  # without the -wal file beside it, SQLite sees only the main file
    return _count(alone)


async def _checkpoint_once(db: Path) -> None:
    checkpointer = Checkpointer(str(db), interval=3600)
    await checkpointer.start()
    try:
        await checkpointer.checkpoint()
    finally:
        await checkpointer.stop()


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "textdesk.db"


@pytest.fixture
async def store(db: Path) -> AsyncIterator[SQLiteStore]:
    store = SQLiteStore(db)
    await store.open()
    assert store._checkpointer is not None
    await store._checkpointer.stop()  # from here on, only the test checkpoints
    try:
        yield store
    finally:
        await store.close()


async def test_the_background_checkpoint_copies_committed_turns_into_the_file(
    store: SQLiteStore, db: Path, tmp_path: Path
) -> None:
    await _turns(store, 0, 50)
    assert _rows_in_main_file(db, tmp_path) == 0  # still only in the WAL: nothing checkpoints in-line
    await _checkpoint_once(db)
    assert _rows_in_main_file(db, tmp_path) == 50


async def test_after_a_checkpoint_the_wal_is_reused_from_the_top_not_cut_back(store: SQLiteStore, db: Path) -> None:
    # Cutting the file back (journal_size_limit) made it shrink and grow again
    # under load, and some of those writes stalled 28-55 ms on ext4: the WAL
    # keeps its size and later turns overwrite it from the start.
    wal = Path(f"{db}-wal")
    await _turns(store, 0, 800)  # about 20 MB of WAL: more than the 16 MiB limit once tried
    burst = wal.stat().st_size
    assert burst > 16 * 1024 * 1024
    await _checkpoint_once(db)
    await _turns(store, 800, 1)  # restarts the WAL from the top
    assert wal.stat().st_size == burst
    await _turns(store, 801, 100)  # fewer frames than the burst wrote: no growth
    assert wal.stat().st_size == burst
    assert _count(db) == 901


async def test_a_checkpointer_that_cannot_connect_fails_cleanly_and_leaves_no_worker_thread(tmp_path: Path) -> None:
    # As the main store's open: by the time start() raises, aiosqlite's worker thread has
    # stopped, so it cannot answer a closed event loop (a traceback after the one-line error)
    # as the process exits on it. Several tries: the thread's exit races the check.
    gone = tmp_path / "gone" / "textdesk.db"  # the folder vanished after the main store opened
    threads_before = set(threading.enumerate())
    for _ in range(20):
        checkpointer = Checkpointer(str(gone), interval=3600)
        with pytest.raises(sqlite3.Error, match="unable to open"):
            await checkpointer.start()
        workers = [t for t in threading.enumerate() if t not in threads_before and "_connection_worker" in t.name]
        assert [t for t in workers if t.is_alive()] == []
        await checkpointer.stop()  # harmless after a failed start
