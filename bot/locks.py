"""One lock per conversation, so a customer's messages are handled one at a time.

``asyncio.Lock`` wakes waiters first-in first-out, so messages from one
customer are processed in the order their requests reached the lock, while
different customers never wait for each other. Entries are dropped when the
last holder leaves: memory stays bounded by the number of conversations that
are active *right now*, not by all conversations ever seen.

The queue of one key can be bounded too (``max_waiting``): a conversation stuck
on one turn would otherwise gather every carrier retry and every new text of
that customer behind it, each a request held open, without limit. Past the
bound ``hold`` refuses at once (``Busy``) instead of queueing; nobody already
waiting is refused, so the order of those is kept.
"""

from __future__ import annotations

import asyncio
from collections.abc import Hashable

__all__ = ["Busy", "KeyedLocks"]


class Busy(Exception):
    """``hold`` refused: as many holders as allowed already wait for this key."""


class KeyedLocks:
    def __init__(self) -> None:
        self._locks: dict[Hashable, tuple[asyncio.Lock, int]] = {}

    def __len__(self) -> int:
        return len(self._locks)

    def hold(self, key: Hashable, max_waiting: int | None = None) -> _Hold:
        """``async with locks.hold(key):`` one holder per key at a time, FIFO.

        With ``max_waiting``, entering raises ``Busy`` when that many already
        wait for the key (besides its holder), without queueing.
        """
        return _Hold(self._locks, key, max_waiting)

    def waiting(self, key: Hashable) -> int:
        """How many wait for ``key``, its holder not counted."""
        found = self._locks.get(key)
        if found is None:
            return 0
        lock, users = found
        # Between a release and the next waiter's wake-up the lock is free, but
        # every user is still a waiter.
        return users - lock.locked()


class _Hold:
    """The context manager of ``KeyedLocks.hold``.

    A plain class rather than ``@asynccontextmanager``: every message takes a
    lock, and the generator-based manager cost several times more per use
    (measured in bench/hotpath.py's profile).
    """

    __slots__ = ("_key", "_lock", "_locks", "_max_waiting")
    _lock: asyncio.Lock

    def __init__(
        self, locks: dict[Hashable, tuple[asyncio.Lock, int]], key: Hashable, max_waiting: int | None
    ) -> None:
        self._locks = locks
        self._key = key
        self._max_waiting = max_waiting

    async def __aenter__(self) -> None:
        found = self._locks.get(self._key)
        lock, users = found if found is not None else (asyncio.Lock(), 0)
        if self._max_waiting is not None and users - lock.locked() >= self._max_waiting:
            raise Busy(f"{users - lock.locked()} already waiting")
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
