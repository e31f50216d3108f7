"""WAL checkpoints off the write path, on a connection of their own.

By default SQLite checkpoints inside the COMMIT that pushes the WAL past
1,000 pages: that turn's batch then waits while pages are copied into the
database file and both files are fsynced. With many stored conversations
every turn dirties pages all over the file, checkpoints come often and cost
the most: measured on one core with a million conversations, COMMIT was
132 us per turn with in-line checkpoints and 86 with them less frequent
(bench/store.py, /tmp scripts quoted in bench/README.md).

Here a second connection runs ``wal_checkpoint(PASSIVE)`` every
``interval`` seconds: passive checkpoints never block the writer, and the
writer restarts the WAL from the top once everything in it was copied.
The writer keeps an in-line checkpoint as a safety net at ``SAFETY_PAGES``,
so the WAL stays bounded even if this task falls behind or is not running.
Durability is unchanged: a commit is in the WAL either way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import sqlite3

import aiosqlite

__all__ = ["SAFETY_PAGES", "Checkpointer", "connect"]

log = logging.getLogger("textdesk.store")

SAFETY_PAGES = 20_000  # about 80 MB of WAL at 4 KiB pages
# The WAL file keeps the largest size a burst gave it (up to the safety net's
# 80 MB) and is overwritten from the top after each restart. Cutting it back
# (``journal_size_limit=16 MiB`` was tried) made the file shrink and grow
# again under load, and on this machine's ext4 disk some of those writes
# stalled 28-55 ms: one such trip set a whole run's p99 (bench/README.md).


async def connect(path: str) -> aiosqlite.Connection:
    """``aiosqlite.connect`` that, when it fails, returns only once the worker thread has stopped.

    aiosqlite tells its thread to stop and the thread then answers this event
    loop: without the wait it can find the loop closed as the process exits on
    the error, and print a traceback after our one-line message. (``_thread``
    is private; tests/test_store_checkpoint.py fails if it goes.)
    """
    connection = aiosqlite.connect(path, isolation_level=None)
    try:
        return await connection
    except BaseException:
        await asyncio.to_thread(connection._thread.join, 5.0)
        raise


class Checkpointer:
    """Copies the WAL into the database file in the background."""

    def __init__(self, path: str, interval: float = 0.25) -> None:
        self.path = path
        self.interval = interval
        self._db: aiosqlite.Connection | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop = asyncio.Event()

    async def start(self) -> None:
        """Connect and start checkpointing; on failure nothing is left open or running."""
        db = await connect(self.path)
        try:
            await db.execute("PRAGMA busy_timeout=5000")
            # This connection never writes rows, so it never checkpoints in-line.
            await db.execute("PRAGMA wal_autocheckpoint=0")
        except BaseException:
            await asyncio.shield(db.close())
            raise
        self._db = db
        self._task = asyncio.create_task(self._run())

    async def checkpoint(self) -> None:
        """One passive checkpoint: copies what no reader still needs, never waits."""
        if self._db is not None:
            await self._db.execute("PRAGMA wal_checkpoint(PASSIVE)")

    async def _run(self) -> None:
        while not self._stop.is_set():
            try:
                await self.checkpoint()
            except sqlite3.Error as exc:  # e.g. disk full: the in-line safety net still applies
                log.warning("background WAL checkpoint failed: %s", exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), self.interval)

    async def stop(self) -> None:
        self._stop.set()
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task
            self._task = None
        if self._db is not None:
            db, self._db = self._db, None
            await db.close()
