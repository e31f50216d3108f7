"""Tests for bot.gcpolicy: frozen startup objects, and a reload that lets old cycles go."""

from __future__ import annotations

import gc
import weakref

from bot import gcpolicy


class Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector can free it


def test_refreeze_does_nothing_in_a_process_that_never_froze() -> None:
    gc.unfreeze()  # whatever an earlier test did, this process has nothing frozen now
    assert gc.get_freeze_count() == 0
    gcpolicy.refreeze()
    assert gc.get_freeze_count() == 0


def test_frozen_cycles_survive_until_a_refreeze_lets_them_go() -> None:
    old_version = Node()
    gone = weakref.ref(old_version)
    try:
        gcpolicy.freeze()
        assert gc.get_freeze_count() > 0
        del old_version  # the hot reload dropped it
        gc.collect()
        assert gone() is not None  # frozen: the collector does not see it
        gcpolicy.refreeze()
        assert gone() is None
        assert gc.get_freeze_count() > 0  # the new state is frozen again
    finally:
        gc.unfreeze()
