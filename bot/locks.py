"""One lock per conversation, so a customer's messages are handled one at a time.

``asyncio.Lock`` wakes waiters first-in first-out, so messages from one
customer are processed in the order their requests reached the lock, while
different customers never wait for each other. Entries are dropped when the
last holder leaves: memory stays bounded by the number of conversations that
are active *right now*, not by all conversations ever seen.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

__all__ = ["KeyedLocks"]


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    def hold(self, key: Hashable) -> _Hold:
        """``async with locks.hold(key):`` one holder per key at a time, FIFO."""
        return _Hold(self._locks, key)


class _Hold:
    """The context manager of ``KeyedLocks.hold``.

    A plain class rather than ``@asynccontextmanager``: every message takes a
    lock, and the generator-based manager cost several times more per use
    (measured in bench/hotpath.py's profile).
    """

    __slots__ = ("_key", "_lock", "_locks")
    _lock: asyncio.Lock

    def __init__(self, locks: dict[Hashable, tuple[asyncio.Lock, int]], key: Hashable) -> None:
        self._locks = locks
        self._key = key

    async def __aenter__(self) -> None:
        found = self._locks.get(self._key)
        lock, users = found if found is not None else (asyncio.Lock(), 0)
        # Counted as a user from here: the entry stays while anyone waits.
        self._locks[self._key] = (lock, users + 1)
        self._lock = lock
        try:
            await self._lock.acquire()
        except BaseException:
            self._leave()  # cancelled while waiting: no longer a user
            raise

    async def __aexit__(self, *exc: object) -> None:
        self._lock.release()
        self._leave()

    def _leave(self) -> None:
        lock, users = self._locks[self._key]
        if users <= 1:
            del self._locks[self._key]
        else:
            self._locks[self._key] = (lock, users - 1)
