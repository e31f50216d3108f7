"""Tests for bot.flood: bursts, the sliding window, the bound, and nothing for the GC to walk."""

from __future__ import annotations

import gc

from bot.flood import FloodGate


def test_a_burst_over_the_limit_is_refused_until_the_window_slides() -> None:
    gate = FloodGate(burst=3, window=10.0)
    key = ("twilio", "+15550001111", "+15555550100")
    assert [gate.allow(key, t) for t in (0.0, 1.0, 2.0, 3.0, 4.0)] == [True, True, True, False, False]
    assert gate.allow(key, 9.9) is False  # the first is still inside the window
    assert gate.allow(key, 10.0) is True  # ten seconds after the first: it left the window
    assert gate.allow(key, 10.5) is False  # 1.0, 2.0 and 10.0 are inside
    assert gate.allow(key, 12.0) is True  # 1.0 and 2.0 left
    other = ("twilio", "+15550002222", "+15555550100")
    assert gate.allow(other, 12.0) is True  # conversations never share a window


def test_refused_messages_do_not_extend_the_window() -> None:
    gate = FloodGate(burst=1, window=10.0)
    key = ("sinch", "+15550003333", "+15555550100")
    assert gate.allow(key, 0.0)
    assert not any(gate.allow(key, t) for t in (1.0, 5.0, 9.0))
    assert gate.allow(key, 10.0)


def test_the_least_recently_seen_are_forgotten_past_the_bound() -> None:
    gate = FloodGate(burst=1, window=100.0, max_keys=3)
    for n in range(3):
        assert gate.allow(("t", str(n), "b"), 0.0)
    assert gate.allow(("t", "0", "b"), 1.0) is False  # seen again: now the most recent
    assert gate.allow(("t", "3", "b"), 1.0)  # a fourth: the least recently seen ("1") goes
    assert len(gate) == 3
    assert gate.allow(("t", "1", "b"), 2.0) is True  # forgotten: a fresh window
    assert gate.allow(("t", "0", "b"), 2.0) is False  # remembered


def test_windows_hold_nothing_the_cyclic_gc_has_to_walk() -> None:
    gate = FloodGate()
    for n in range(100):
        gate.allow(("twilio", f"+1555000{n:04d}", "+15555550100"), float(n))
    gc.collect()  # CPython stops tracking tuples of untracked values when it first sees them
    assert not any(gc.is_tracked(key) or gc.is_tracked(times) for key, times in gate._seen.items())


def test_a_clock_set_back_does_not_keep_future_times_in_the_window() -> None:
    # The system clock stepped back an hour (NTP, a VM restored): the times
    # recorded before the step lie in the "future". They must not count as
    # recent for the whole hour it takes the clock to catch up.
    gate = FloodGate(burst=3, window=10.0)
    key = ("twilio", "+15550004444", "+15555550100")
    assert all(gate.allow(key, t) for t in (3600.0, 3601.0, 3602.0))
    assert gate.allow(key, 3603.0) is False  # the burst is spent, as it should be
    assert gate.allow(key, 0.0) is True  # an hour back: the old window is not "recent"
    assert gate.allow(key, 20.0) is True  # and the window slides normally from here
    assert gate.allow(key, 21.0) is True
    assert gate.allow(key, 22.0) is True
    assert gate.allow(key, 23.0) is False  # 20, 21, 22 are inside: the limit still holds


def test_a_clock_far_forward_starts_a_fresh_window() -> None:
    gate = FloodGate(burst=2, window=10.0)
    key = ("twilio", "+15550005555", "+15555550100")
    assert gate.allow(key, 0.0) and gate.allow(key, 1.0)
    assert gate.allow(key, 2.0) is False
    assert gate.allow(key, 1e9) is True
    assert gate.allow(key, 1e9) is True
    assert gate.allow(key, 1e9) is False


def test_a_refund_frees_exactly_the_slot_it_took() -> None:
    gate = FloodGate(burst=2, window=10.0)
    key = ("twilio", "+15550006666", "+15555550100")
    assert gate.allow(key, 1.0) and gate.allow(key, 2.0)
    gate.refund(key, 5.0)  # never charged: nothing changes
    gate.refund(("t", "unknown", "b"), 1.0)
    assert gate.allow(key, 3.0) is False
    gate.refund(key, 2.0)
    assert gate.allow(key, 3.0) is True
    assert gate.allow(key, 4.0) is False
