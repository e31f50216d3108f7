"""A sliding-window request limit per key (a client address), on the app's clock.

In memory: a restart forgets it, which only ever lets a client retry sooner.
Per-number limits, which protect customers from being flooded with codes,
are counted in the database instead and survive restarts.
"""

from __future__ import annotations

from collections import deque

__all__ = ["WindowLimit"]


class WindowLimit:
    """At most ``limit`` events per ``window`` seconds for each key."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._events: dict[str, deque[float]] = {}

    def check(self, key: str, now: float) -> float:
        """Record an event and return 0, or return seconds to wait (nothing recorded)."""
        events = self._events.setdefault(key, deque())
        while events and events[0] <= now - self.window:
            events.popleft()
        if len(events) >= self.limit:
            return events[0] + self.window - now
        events.append(now)
        if len(self._events) > 100_000:  # forget idle clients rather than grow without bound
            for stale in [k for k, v in self._events.items() if not v or v[-1] <= now - self.window]:
                del self._events[stale]
        return 0.0
