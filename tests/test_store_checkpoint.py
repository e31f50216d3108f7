"""WAL checkpoints in the background (bot/store/checkpoint.py) and the WAL's size on disk.

The writer never checkpoints in-line below ``SAFETY_PAGES``. These tests stop
the store's own background checkpointer (its timer is real time) and run one
``Checkpointer.checkpoint()`` step when they choose, then look at the files
SQLite leaves.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.store import SQLiteStore
from bot.store import sqlite as sqlite_module
from bot.store.checkpoint import WAL_KEEP_BYTES, Checkpointer
from bot.types import InboundMessage, Reply

T0 = 1_800_000_000.0
SMALL_LIMIT = 64 * 1024


def _message(n: int) -> InboundMessage:
    return InboundMessage(channel="twilio", provider_id=f"SM{n:032d}", customer=f"+1555{n % 500:07d}",
                          business="+15550000000", text=f"question {n} " + "x" * 600)


async def _turns(store: SQLiteStore, first: int, count: int) -> None:
    for n in range(first, first + count):
        assert await store.commit_turn(_message(n), None, (Reply("answer " + "y" * 600),), "", T0 + n)


def _rows_in_main_file(db: Path, tmp_path: Path) -> int:
    """Inbound rows in the database file alone: what checkpoints copied out of the WAL."""
    alone = tmp_path / "alone.db"
    shutil.copyfile(db, alone)  # without the -wal file beside it, SQLite sees only the main file
    conn = sqlite3.connect(alone)
    try:
        return int(conn.execute("SELECT count(*) FROM inbound").fetchone()[0])
    except sqlite3.OperationalError:  # not even the schema was copied yet
        return 0
    finally:
        conn.close()


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
async def small_wal_store(db: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SQLiteStore]:
    """A store whose WAL is cut back to 64 KiB instead of 16 MiB, so a test needs little data."""
    limit = f"journal_size_limit={WAL_KEEP_BYTES}"
    assert limit in sqlite_module.PRAGMAS  # the setting under test is there to replace
    patched = tuple(f"journal_size_limit={SMALL_LIMIT}" if p == limit else p for p in sqlite_module.PRAGMAS)
    monkeypatch.setattr(sqlite_module, "PRAGMAS", patched)
    store = SQLiteStore(db)
    await store.open()
    assert store._checkpointer is not None
    await store._checkpointer.stop()  # from here on, only the test checkpoints
    try:
        yield store
    finally:
        await store.close()


async def test_the_background_checkpoint_copies_committed_turns_into_the_file(
    small_wal_store: SQLiteStore, db: Path, tmp_path: Path
) -> None:
    await _turns(small_wal_store, 0, 50)
    assert _rows_in_main_file(db, tmp_path) == 0  # still only in the WAL: nothing checkpoints in-line
    await _checkpoint_once(db)
    assert _rows_in_main_file(db, tmp_path) == 50


async def test_the_wal_file_is_cut_back_after_a_burst(small_wal_store: SQLiteStore, db: Path) -> None:
    wal = Path(f"{db}-wal")
    await _turns(small_wal_store, 0, 400)  # about 1 MB of WAL
    burst = wal.stat().st_size
    assert burst > 8 * SMALL_LIMIT
    await _checkpoint_once(db)
    # The next commit restarts the WAL from the top, and SQLite truncates the file to the limit.
    await _turns(small_wal_store, 400, 1)
    assert wal.stat().st_size <= SMALL_LIMIT
    assert _count(db) == 401


def _count(db: Path) -> int:
    conn = sqlite3.connect(db)
    try:
        return int(conn.execute("SELECT count(*) FROM inbound").fetchone()[0])
    finally:
        conn.close()

