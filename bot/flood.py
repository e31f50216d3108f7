"""Flood control: a customer sending a burst gets a calm answer, not one per text.

A sliding window per conversation: at most ``burst`` messages in ``window``
seconds are handled by the flow; the rest of the burst is recorded but not
answered (opt-out and HELP are handled before this and always work). Memory is
bounded: the least recently seen conversations are forgotten first, and a
forgotten conversation simply starts a fresh window. A clock set back
(NTP, a restored VM) also starts a fresh window: times recorded before the
step are not counted as recent.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Hashable

__all__ = ["FloodGate"]


class FloodGate:
    """Per-key sliding windows, the least recently seen forgotten first.

    Each key keeps a tuple of its recent times: about 80 bytes where a deque
    took about 770, and a tuple of floats under a key of strings is left
    alone by the cyclic garbage collector, which otherwise walked these
    windows on every full collection (half of what it walked after 20k
    messages from 5,000 numbers; bench notes in bench/README.md).
    """

    def __init__(self, burst: int = 10, window: float = 10.0, max_keys: int = 50_000) -> None:
        self.burst = burst
        self.window = window
        self.max_keys = max_keys
        self._seen: OrderedDict[Hashable, tuple[float, ...]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._seen)

    def allow(self, key: Hashable, now: float) -> bool:
        """Record a message at ``now``; False when it is over the burst limit."""
        times = self._seen.pop(key, ())
        # A time after ``now`` is from before the clock was set back: not
        # recent, or it would count for as long as the clock takes to catch up.
        recent = tuple(t for t in times if 0.0 <= now - t < self.window)
        allowed = len(recent) < self.burst
        if allowed:
            recent += (now,)
        self._seen[key] = recent
        while len(self._seen) > self.max_keys:
            self._seen.popitem(last=False)
        return allowed

    def refund(self, key: Hashable, at: float) -> None:
        """Take back a message ``allow`` let through at ``at`` that was never recorded.

        A turn the store could not write (503) or whose handler was cancelled
        is retried by the carrier as the same message: charged twice, the
        retry of a customer's only message could be refused (and stored as
        throttled, so never answered).
        """
        times = self._seen.get(key)
        if times is not None and at in times:
            i = times.index(at)
            self._seen[key] = times[:i] + times[i + 1:]
