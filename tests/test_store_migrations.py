"""Migrations when more than one process opens the same file: the server and a
``textdesk`` command (``subscribers add``, ``lint --against``) started together
after an upgrade both find the old schema. Real SQLite files, no mocks.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from bot.store import SQLiteStore
from bot.store.schema import MIGRATIONS


def _schema_at(path: Path, version: int) -> None:
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode=WAL")
        for number, script in enumerate(MIGRATIONS[:version], start=1):
            conn.executescript(f"BEGIN;\n{script}\nPRAGMA user_version = {number};\nCOMMIT;")
    finally:
        conn.close()


async def test_a_migration_another_process_applied_meanwhile_is_not_applied_twice(tmp_path: Path) -> None:
    path = tmp_path / "textdesk.db"
    last = len(MIGRATIONS)
    _schema_at(path, last - 1)
    holding, done = threading.Event(), threading.Event()

    def other_process() -> None:
        # Holds the write lock (as another process's migration does) while this
        # store reads the old user_version, then applies the last migration itself.
        conn = sqlite3.connect(path, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            holding.set()
            done.wait(0.5)
            for statement in MIGRATIONS[-1].split(";"):
                conn.execute(statement)
            conn.execute(f"PRAGMA user_version = {last}")
            conn.execute("COMMIT")
        finally:
            conn.close()

    thread = threading.Thread(target=other_process)
    thread.start()
    holding.wait()
    store = SQLiteStore(path)
    try:
        await store.open()  # was: StoreError "index outbox_by_conversation already exists"
        await store.ping_write()
    finally:
        await store.close()
        done.set()
        thread.join()
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("PRAGMA user_version").fetchone() == (last,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()


async def test_every_older_schema_migrates_to_the_current_one(tmp_path: Path) -> None:
    fresh = SQLiteStore(tmp_path / "fresh.db")
    await fresh.open()
    await fresh.close()

    def schema(path: Path) -> list[tuple[str, ...]]:
        conn = sqlite3.connect(path)
        try:
            return sorted(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))
        finally:
            conn.close()

    for version in range(last := len(MIGRATIONS)):
        path = tmp_path / f"v{version}.db"
        _schema_at(path, version)
        store = SQLiteStore(path)
        await store.open()
        await store.close()
        assert schema(path) == schema(tmp_path / "fresh.db"), version
        conn = sqlite3.connect(path)
        try:
            assert conn.execute("PRAGMA user_version").fetchone() == (last,)
        finally:
            conn.close()
