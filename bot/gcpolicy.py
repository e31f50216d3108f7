"""Garbage collection for a long-running server: startup objects are frozen.

The loaded flows, FAQ indexes, ``transitions`` machines, aiohttp and every
imported module are hundreds of thousands of objects that live as long as the
process. CPython's full (generation 2) collection walks all of them each
time: measured 52-59 ms per pass under webhook load, a pause every few
seconds that every request in flight waits out (it lands straight in p99).
``gc.freeze()`` moves the objects alive at startup out of the collector's
sight (they are still freed by reference counting); the same passes then
took 5-10 ms.

Frozen objects that later become cyclic garbage are not collected, so after
a hot reload (the old flow version goes) the freeze is redone: unfreeze,
collect, freeze. Only a process that froze at startup does this, so tests
and library users are never affected.
"""

from __future__ import annotations

import gc

__all__ = ["freeze", "refreeze"]


def freeze() -> None:
    """Collect what is garbage now, then freeze every surviving object."""
    gc.collect()
    gc.freeze()


def refreeze() -> None:
    """After a hot reload: let the old version's cycles go, freeze the new one."""
    if gc.get_freeze_count() == 0:
        return  # this process never froze (tests, embedding): leave its collector alone
    gc.unfreeze()
    freeze()
