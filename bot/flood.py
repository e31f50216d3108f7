"""Flood control: a customer sending a burst gets a calm answer, not one per text.

A sliding window per conversation: at most ``burst`` messages in ``window``
seconds are handled by the flow; the rest of the burst is recorded but not
answered (opt-out and HELP are handled before this and always work). Memory is
bounded: the least recently seen conversations are forgotten first, and a
forgotten conversation simply starts a fresh window.
"""

from __future__ import annotations

from collections import OrderedDict, deque
from collections.abc import Hashable

__all__ = ["FloodGate"]


class FloodGate:
    def __init__(self, burst: int = 10, window: float = 10.0, max_keys: int = 50_000) -> None:
        self.burst = burst
        self.window = window
        self.max_keys = max_keys
        self._seen: OrderedDict[Hashable, deque[float]] = OrderedDict()

    def allow(self, key: Hashable, now: float) -> bool:
        """Record a message at ``now``; False when it is over the burst limit."""
        times = self._seen.pop(key, None)
        if times is None:
            times = deque()
        while times and now - times[0] >= self.window:
            times.popleft()
        allowed = len(times) < self.burst
        if allowed:
            times.append(now)
        self._seen[key] = times
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return allowed
